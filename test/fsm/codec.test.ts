import test from 'ava';
import {
  CommandDecodeError,
  PrintShop,
  decodeCommand,
  describeCommand,
  encodeCommand,
  printShopCodec,
} from '../../src/fsm/index.js';
import type { ShopCommand, ShopResult } from '../../src/fsm/index.js';
import type { CommandCodec, StateMachine } from '../../src/node/types.js';
import { T0, filament, job, printer, status, text } from './helpers.js';

const bytes = (s: string) => new TextEncoder().encode(s);

test('the codec and the shop fit the node driver interfaces', (t) => {
  const codec: CommandCodec<ShopCommand> = printShopCodec;
  const fsm: StateMachine<ShopCommand, ShopResult> = new PrintShop();
  const result = fsm.apply(codec.decode(codec.encode(printer('p1'))), { index: 1, term: 1 });
  t.true(result.ok);
});

test('every command type survives encode and decode', (t) => {
  const commands: ShopCommand[] = [
    printer('p1', { idempotency: { key: 'k', fingerprint: 'f' } }),
    filament('f1', 1000, 250, { type: 'TPU' }),
    job('j1', 'p1', 'f1', 30, { at: T0 + 1 }),
    status('j1', 'Canceled'),
  ];
  for (const command of commands) t.deepEqual(decodeCommand(encodeCommand(command)), command);
});

test('encoding is canonical: field order and unknown extras do not change the bytes', (t) => {
  const a: ShopCommand = { type: 'print_job.status', at: T0, id: 'j1', status: 'Running' };
  const b = {
    status: 'Running',
    id: 'j1',
    at: T0,
    type: 'print_job.status',
    idempotency: null,
  } as ShopCommand;
  t.is(text(encodeCommand(a)), text(encodeCommand(b)));
  t.is(text(encodeCommand(a)), `{"type":"print_job.status","at":${T0},"id":"j1","status":"Running"}`);
  const withExtra = {
    type: 'printer.create',
    at: T0,
    printer: { id: 'p1', company: 'Creality', model: 'Ender 3', color: 'x' },
  } as unknown as ShopCommand;
  t.is(text(encodeCommand(withExtra)), text(encodeCommand(printer('p1'))));
});

test('garbage is refused with a clear CommandDecodeError', (t) => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([0xff, 0xfe, 0x00]), /UTF-8/],
    [bytes('not json'), /not JSON/],
    [bytes('[1,2]'), /JSON object/],
    [bytes('{"type":"printer.delete","at":1}'), /unknown command type "printer.delete"/],
    [bytes(`{"type":"printer.create","at":${T0}}`), /printer must be an object/],
    [
      bytes(`{"type":"printer.create","at":${T0},"printer":{"id":"p","company":"c","model":"m"},"x":1}`),
      /unknown field "x"/,
    ],
    [bytes(`{"type":"print_job.status","at":${T0},"id":"j","status":"Paused"}`), /status must be one of/],
    [
      bytes(
        `{"type":"print_job.create","at":${T0},"job":{"id":"j","printer_id":"p","filament_id":"f","filepath":"a","print_weight_in_grams":"5"}}`,
      ),
      /print_weight_in_grams must be an integer/,
    ],
    [bytes('{"type":"print_job.status","id":"j","status":"Done"}'), /at must be/],
  ];
  for (const [input, message] of cases) {
    const error = t.throws(() => decodeCommand(input), { instanceOf: CommandDecodeError, message });
    t.is(error?.code, 'invalid_command');
  }
});

test('encoding an invalid command throws instead of writing it to the log', (t) => {
  t.throws(() => encodeCommand(job('j', 'p', 'f', 0)), { instanceOf: CommandDecodeError });
});

test('describeCommand gives the event log a type and payload without idempotency data', (t) => {
  t.deepEqual(
    describeCommand(job('j1', 'p1', 'f1', 30, { idempotency: { key: 'secret', fingerprint: 'x' } })),
    {
      type: 'print_job.create',
      payload: {
        id: 'j1',
        printer_id: 'p1',
        filament_id: 'f1',
        filepath: 'prints/j1.gcode',
        print_weight_in_grams: 30,
        at: '2023-11-14T22:13:20.000Z',
      },
    },
  );
  t.deepEqual(describeCommand(status('j1', 'Done')), {
    type: 'print_job.status',
    payload: { id: 'j1', status: 'Done', at: '2023-11-14T22:13:20.000Z' },
  });
  t.deepEqual(describeCommand(printer('p1')), {
    type: 'printer.create',
    payload: { id: 'p1', company: 'Creality', model: 'Ender 3', at: '2023-11-14T22:13:20.000Z' },
  });
  t.is(describeCommand(filament('f1', 10)).type, 'filament.create');
});
