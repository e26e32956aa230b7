import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { PrintShop, SNAPSHOT_VERSION, SnapshotFormatError } from '../../src/fsm/index.js';
import { T0, job, mustFail, mustOk, printer, shopWith, status, text } from './helpers.js';

// Frozen bytes written by format v1. Never regenerate this file: a later format must
// still restore it (add a new fixture for the new version instead).
const V1_FIXTURE = new Uint8Array(
  readFileSync(new URL('./fixtures/print-shop.v1.snapshot', import.meta.url)),
);
const V1_SHA256 = 'e4b8c8ee3ce84c56ca1307e054b46505ec7a987d8c741638574df3a8b7dc1402';

const bytes = (s: string) => new TextEncoder().encode(s);

test('the v1 fixture is intact', (t) => {
  t.is(createHash('sha256').update(V1_FIXTURE).digest('hex'), V1_SHA256);
  t.true(text(V1_FIXTURE).startsWith('raft3d-print-shop/v1\n'));
});

test('a frozen v1 snapshot restores the whole state, derived weights and idempotency keys included', (t) => {
  const shop = new PrintShop();
  shop.restore(V1_FIXTURE);
  t.deepEqual(
    shop.listPrinters().map((p) => p.id),
    ['p1', 'prusa-2'],
  );
  t.deepEqual(shop.getFilament('f1'), {
    id: 'f1',
    type: 'PLA',
    color: 'red',
    total_weight_in_grams: 1000,
    remaining_weight_in_grams: 880,
    reserved_weight_in_grams: 280,
    available_weight_in_grams: 600,
    created_at: '2023-11-14T22:13:22.000Z',
    updated_at: '2023-11-14T22:13:29.000Z',
  });
  t.is(shop.getFilament('f2')!.reserved_weight_in_grams, 0);
  t.deepEqual(
    shop.listPrintJobs().map((j) => `${j.id}:${j.status}`),
    ['j1:Done', 'j2:Running', 'j3:Canceled', 'j4:Queued'],
  );
  t.deepEqual(
    shop.listPrinterJobs('prusa-2')!.map((j) => j.id),
    ['j3', 'j4'],
  );
  t.deepEqual(shop.counts(), { printers: 2, filaments: 2, print_jobs: 4, idempotency_keys: 2 });
  // The stored first result for key req-2 is replayed (the job was Queued back then).
  const replay = shop.apply(
    job('other', 'p1', 'f1', 1, {
      at: T0 + 20_000,
      idempotency: { key: 'req-2', fingerprint: 'sha256-req-2' },
    }),
  );
  t.true(replay.ok && replay.replayed === true);
  t.is(replay.ok ? (replay.value as { status: string }).status : '', 'Queued');
  // Rules keep working on restored state: 600 g available on f1.
  t.is(mustFail(shop.apply(job('big', 'p1', 'f1', 601))).code, 'filament_capacity');
  mustOk(shop.apply(job('fits', 'p1', 'f1', 600)));
});

test('the current format re-encodes the v1 fixture byte for byte', (t) => {
  // True while the current format is v1; when v2 arrives, compare states instead.
  t.is(SNAPSHOT_VERSION, 1);
  const shop = new PrintShop();
  shop.restore(V1_FIXTURE);
  t.is(text(shop.snapshot()), text(V1_FIXTURE));
});

test('snapshot, restore and snapshot again gives the same bytes', (t) => {
  const shop = shopWith(900);
  mustOk(shop.apply(job('j1', 'p1', 'f1', 100, { idempotency: { key: 'k', fingerprint: 'f' } })));
  mustOk(shop.apply(status('j1', 'Running', { at: T0 + 5 })));
  const copy = new PrintShop();
  copy.restore(shop.snapshot());
  t.is(text(copy.snapshot()), text(shop.snapshot()));
});

test('restore replaces everything that was there before', (t) => {
  const empty = new PrintShop().snapshot();
  const shop = shopWith();
  mustOk(shop.apply(job('j1', 'p1', 'f1', 100, { idempotency: { key: 'k', fingerprint: 'f' } })));
  shop.restore(empty);
  t.deepEqual(shop.counts(), { printers: 0, filaments: 0, print_jobs: 0, idempotency_keys: 0 });
  t.is(shop.listPrinterJobs('p1'), undefined);
  mustOk(shop.apply(printer('p1')));
  t.deepEqual(shop.listPrinterJobs('p1'), []);
});

const body = text(V1_FIXTURE).slice(text(V1_FIXTURE).indexOf('\n') + 1);
const corruptions: [string, Uint8Array, RegExp][] = [
  ['not UTF-8', new Uint8Array([0xc3, 0x28]), /UTF-8/],
  ['no header', bytes(body), /not a print-shop snapshot/],
  ['another format', bytes(`something-else/v1\n${body}`), /not a print-shop snapshot/],
  ['a future version', bytes(`raft3d-print-shop/v99\n${body}`), /unsupported print-shop snapshot version 99/],
  ['a body that is not JSON', bytes('raft3d-print-shop/v1\n{"printers":['), /not JSON/],
  [
    'a missing list',
    bytes('raft3d-print-shop/v1\n{"printers":[],"filaments":[],"print_jobs":[]}'),
    /idempotency must be an array/,
  ],
  [
    'a bad filament type',
    bytes(`raft3d-print-shop/v1\n${body.replace('"ABS"', '"NYLON"')}`),
    /filaments\[1\]\.type/,
  ],
  [
    'a negative weight',
    bytes(
      `raft3d-print-shop/v1\n${body.replace('"remaining_weight_in_grams":880', '"remaining_weight_in_grams":-1')}`,
    ),
    /remaining_weight_in_grams must be an integer/,
  ],
  [
    'a job on a missing filament',
    bytes(`raft3d-print-shop/v1\n${body.replace('"filament_id":"f2"', '"filament_id":"f9"')}`),
    /unknown filament f9/,
  ],
  [
    'a job on a missing printer',
    bytes(`raft3d-print-shop/v1\n${body.replace('"printer_id":"p1"', '"printer_id":"p9"')}`),
    /unknown printer p9/,
  ],
  [
    'more reserved than remaining',
    bytes(
      `raft3d-print-shop/v1\n${body.replace('"remaining_weight_in_grams":880', '"remaining_weight_in_grams":100')}`,
    ),
    /reserved but only 100 g remaining/,
  ],
  [
    'a duplicate printer',
    bytes(`raft3d-print-shop/v1\n${body.replace('"id":"prusa-2","company"', '"id":"p1","company"')}`),
    /printer p1 appears twice/,
  ],
];

for (const [what, input, message] of corruptions) {
  test(`a snapshot with ${what} is refused and the state is left as it was`, (t) => {
    const shop = shopWith();
    const before = text(shop.snapshot());
    t.throws(() => shop.restore(input), { message });
    t.is(text(shop.snapshot()), before);
  });
}

test('format errors are SnapshotFormatError with code invalid_snapshot', (t) => {
  const error = t.throws(() => new PrintShop().restore(bytes('raft3d-print-shop/v2\n{}')), {
    instanceOf: SnapshotFormatError,
  });
  t.is(error?.code, 'invalid_snapshot');
});

test('a captured snapshot is encoded in slices and is not changed by commands applied meanwhile', (t) => {
  const shop = shopWith();
  for (let i = 2; i < 4_500; i++) mustOk(shop.apply(printer(`p${i}`)));
  mustOk(shop.apply(job('j-run', 'p1', 'f1', 100)));
  mustOk(shop.apply(status('j-run', 'Running')));
  const expected = text(shop.snapshot());

  const slices = shop.captureSnapshot();
  let yields = 0;
  let step = slices.next();
  // Between slices the shop moves on: a job finishes (its filament record changes), new
  // printers and jobs arrive. None of it may leak into the captured state.
  mustOk(shop.apply(status('j-run', 'Done')));
  mustOk(shop.apply(printer('late')));
  mustOk(shop.apply(job('j-late', 'p2', 'f1', 50)));
  while (!step.done) {
    yields++;
    step = slices.next();
  }
  t.true(yields >= 2, `encoded in ${yields + 1} slices`);
  t.is(text(step.value), expected);
  t.not(text(shop.snapshot()), expected);
});
