import test from 'ava';
import type { ExecutionContext } from 'ava';
import { PrintShop, SHOP_ERROR_CODES } from '../../src/fsm/index.js';
import type {
  FilamentView,
  PrintJobView,
  PrinterView,
  ShopCommand,
  ShopErrorCode,
  ShopErrorDetails,
} from '../../src/fsm/index.js';
import { T0, filament, job, mustFail, mustOk, printer, shopWith, status, text } from './helpers.js';

/** Applies `command` expecting refusal `code`, checks that nothing changed, and returns the refusal's details. */
function refused<C extends ShopErrorCode>(
  t: ExecutionContext,
  shop: PrintShop,
  command: ShopCommand,
  code: C,
): ShopErrorDetails[C] {
  const before = text(shop.snapshot());
  const error = mustFail(shop.apply(command));
  t.is(error.code, code, error.message);
  t.true(SHOP_ERROR_CODES.includes(error.code));
  t.is(text(shop.snapshot()), before, 'a refused command changed the state');
  return error.details as ShopErrorDetails[C];
}

test('creating a printer returns its view with an ISO created_at', (t) => {
  const shop = new PrintShop();
  const view = mustOk(shop.apply(printer('p1', { at: T0 }), { index: 1, term: 1 })) as PrinterView;
  t.deepEqual(view, {
    id: 'p1',
    company: 'Creality',
    model: 'Ender 3',
    created_at: '2023-11-14T22:13:20.000Z',
  });
  t.deepEqual(shop.getPrinter('p1'), view);
  t.deepEqual(shop.listPrinters(), [view]);
});

test('a second printer with the same id is refused as duplicate_id', (t) => {
  const shop = shopWith();
  const details = refused(t, shop, printer('p1'), 'duplicate_id');
  t.is(details.kind, 'printer');
  t.is(details.id, 'p1');
});

test('ids are unique per kind, not across kinds', (t) => {
  const shop = new PrintShop();
  mustOk(shop.apply(printer('x')));
  mustOk(shop.apply(filament('x', 100)));
  mustOk(shop.apply(job('x', 'x', 'x', 10)));
  t.deepEqual(shop.counts(), { printers: 1, filaments: 1, print_jobs: 1, idempotency_keys: 0 });
});

test('a filament view shows reserved and available weight', (t) => {
  const shop = new PrintShop();
  const view = mustOk(shop.apply(filament('f1', 1000, 750, { type: 'PETG' }))) as FilamentView;
  t.deepEqual(view, {
    id: 'f1',
    type: 'PETG',
    color: 'red',
    total_weight_in_grams: 1000,
    remaining_weight_in_grams: 750,
    reserved_weight_in_grams: 0,
    available_weight_in_grams: 750,
    created_at: '2023-11-14T22:13:20.000Z',
    updated_at: '2023-11-14T22:13:20.000Z',
  });
});

test('remaining weight may be anything from 0 to total, but not above it', (t) => {
  const shop = new PrintShop();
  mustOk(shop.apply(filament('empty', 1000, 0)));
  mustOk(shop.apply(filament('full', 1000, 1000)));
  const details = refused(t, shop, filament('over', 1000, 1001), 'invalid_filament');
  t.is(details.id, 'over');
  refused(t, shop, filament('full', 500), 'duplicate_id');
});

test('a print job starts Queued and reserves its weight', (t) => {
  const shop = shopWith();
  const view = mustOk(shop.apply(job('j1', 'p1', 'f1', 300, { at: T0 + 1000 }))) as PrintJobView;
  t.deepEqual(view, {
    id: 'j1',
    printer_id: 'p1',
    filament_id: 'f1',
    filepath: 'prints/j1.gcode',
    print_weight_in_grams: 300,
    status: 'Queued',
    created_at: '2023-11-14T22:13:21.000Z',
    updated_at: '2023-11-14T22:13:21.000Z',
  });
  const f = shop.getFilament('f1')!;
  t.is(f.remaining_weight_in_grams, 1000);
  t.is(f.reserved_weight_in_grams, 300);
  t.is(f.available_weight_in_grams, 700);
  t.is(f.updated_at, '2023-11-14T22:13:21.000Z');
});

test('a job on an unknown printer is refused as printer_not_found', (t) => {
  const details = refused(t, shopWith(), job('j1', 'nope', 'f1', 10), 'printer_not_found');
  t.is(details.kind, 'printer');
  t.is(details.id, 'nope');
});

test('a job on an unknown filament is refused as filament_not_found', (t) => {
  const details = refused(t, shopWith(), job('j1', 'p1', 'nope', 10), 'filament_not_found');
  t.is(details.kind, 'filament');
  t.is(details.id, 'nope');
});

test('a job id already in use is refused as duplicate_id', (t) => {
  const shop = shopWith();
  mustOk(shop.apply(job('j1', 'p1', 'f1', 10)));
  const details = refused(t, shop, job('j1', 'p1', 'f1', 10), 'duplicate_id');
  t.is(details.kind, 'print_job');
});

test('a job may use exactly the available weight but not one gram more', (t) => {
  const shop = shopWith(800);
  mustOk(shop.apply(job('a', 'p1', 'f1', 500)));
  const details = refused(t, shop, job('b', 'p1', 'f1', 301), 'filament_capacity');
  t.is(details.available, 300);
  t.is(details.requested, 301);
  t.is(details.id, 'f1');
  mustOk(shop.apply(job('b', 'p1', 'f1', 300)));
  refused(t, shop, job('c', 'p1', 'f1', 1), 'filament_capacity');
});

test('only Queued and Running jobs hold filament; Done and Canceled release it', (t) => {
  const shop = shopWith(1000);
  mustOk(shop.apply(job('queued', 'p1', 'f1', 100)));
  mustOk(shop.apply(job('running', 'p1', 'f1', 200)));
  mustOk(shop.apply(status('running', 'Running')));
  mustOk(shop.apply(job('done', 'p1', 'f1', 300)));
  mustOk(shop.apply(status('done', 'Running')));
  mustOk(shop.apply(status('done', 'Done')));
  mustOk(shop.apply(job('canceled', 'p1', 'f1', 250)));
  mustOk(shop.apply(status('canceled', 'Canceled')));
  const f = shop.getFilament('f1')!;
  t.is(f.remaining_weight_in_grams, 700);
  t.is(f.reserved_weight_in_grams, 300);
  t.is(f.available_weight_in_grams, 400);
  refused(t, shop, job('big', 'p1', 'f1', 401), 'filament_capacity');
  mustOk(shop.apply(job('fits', 'p1', 'f1', 400)));
});

test('Done subtracts the job weight from the filament, once', (t) => {
  const shop = shopWith(1000);
  mustOk(shop.apply(job('j1', 'p1', 'f1', 400)));
  mustOk(shop.apply(status('j1', 'Running')));
  t.is(shop.getFilament('f1')!.remaining_weight_in_grams, 1000);
  const done = mustOk(shop.apply(status('j1', 'Done', { at: T0 + 60_000 }))) as PrintJobView;
  t.is(done.status, 'Done');
  t.is(done.updated_at, '2023-11-14T22:14:20.000Z');
  const f = shop.getFilament('f1')!;
  t.is(f.remaining_weight_in_grams, 600);
  t.is(f.reserved_weight_in_grams, 0);
  t.is(f.updated_at, '2023-11-14T22:14:20.000Z');
  refused(t, shop, status('j1', 'Done'), 'invalid_transition');
  t.is(shop.getFilament('f1')!.remaining_weight_in_grams, 600);
});

test('a status change for an unknown job is print_job_not_found', (t) => {
  const details = refused(t, shopWith(), status('ghost', 'Running'), 'print_job_not_found');
  t.is(details.kind, 'print_job');
  t.is(details.id, 'ghost');
});

test('every status transition outside the four allowed ones is refused', (t) => {
  const allowed = new Set(['Queued>Running', 'Running>Done', 'Queued>Canceled', 'Running>Canceled']);
  const statuses = ['Queued', 'Running', 'Done', 'Canceled'] as const;
  const pathTo = {
    Queued: [],
    Running: ['Running'],
    Done: ['Running', 'Done'],
    Canceled: ['Canceled'],
  } as const;
  for (const from of statuses) {
    for (const to of statuses) {
      const shop = shopWith();
      mustOk(shop.apply(job('j', 'p1', 'f1', 10)));
      for (const step of pathTo[from]) mustOk(shop.apply(status('j', step)));
      t.is(shop.getPrintJob('j')!.status, from);
      if (allowed.has(`${from}>${to}`)) {
        t.is((mustOk(shop.apply(status('j', to))) as PrintJobView).status, to, `${from} -> ${to}`);
      } else {
        const details = refused(t, shop, status('j', to), 'invalid_transition');
        t.is(details.from, from);
        t.is(details.to, to);
      }
    }
  }
});

test('malformed commands are refused as invalid_command and change nothing', (t) => {
  const shop = shopWith();
  mustOk(shop.apply(job('j1', 'p1', 'f1', 10)));
  const bad: unknown[] = [
    job('z', 'p1', 'f1', 0),
    job('z', 'p1', 'f1', -5),
    job('z', 'p1', 'f1', 1.5),
    job('z', 'p1', 'f1', Number.NaN),
    filament('z', 0, 0),
    filament('z', 10, -1),
    {
      ...filament('z', 10),
      filament: {
        id: 'z',
        type: 'NYLON',
        color: 'red',
        total_weight_in_grams: 10,
        remaining_weight_in_grams: 10,
      },
    },
    { ...printer('z'), printer: { id: '', company: 'a', model: 'b' } },
    { ...printer('z'), printer: { id: 'z', company: 'a' } },
    { ...printer('z'), extra: 1 },
    { ...printer('z'), at: -1 },
    { ...printer('z'), at: 1.5 },
    { ...printer('z'), at: '2024-01-01T00:00:00Z' },
    { ...printer('z'), idempotency: { key: 'k' } },
    status('j1', 'running' as never),
    { type: 'printer.delete', at: T0 },
    null,
  ];
  for (const command of bad) refused(t, shop, command as ShopCommand, 'invalid_command');
});

test('lists come out in creation order; jobs can be filtered by status and by printer', (t) => {
  const shop = new PrintShop();
  for (const id of ['pz', 'pa', 'pm']) mustOk(shop.apply(printer(id)));
  mustOk(shop.apply(filament('f2', 100)));
  mustOk(shop.apply(filament('f1', 100)));
  t.deepEqual(
    shop.listPrinters().map((p) => p.id),
    ['pz', 'pa', 'pm'],
  );
  t.deepEqual(
    shop.listFilaments().map((f) => f.id),
    ['f2', 'f1'],
  );
  mustOk(shop.apply(job('j3', 'pa', 'f1', 1)));
  mustOk(shop.apply(job('j1', 'pz', 'f1', 1)));
  mustOk(shop.apply(job('j2', 'pa', 'f2', 1)));
  mustOk(shop.apply(status('j3', 'Running')));
  t.deepEqual(
    shop.listPrintJobs().map((j) => j.id),
    ['j3', 'j1', 'j2'],
  );
  t.deepEqual(
    shop.listPrintJobs('Queued').map((j) => j.id),
    ['j1', 'j2'],
  );
  t.deepEqual(
    shop.listPrintJobs('Running').map((j) => j.id),
    ['j3'],
  );
  t.deepEqual(shop.listPrintJobs('Done'), []);
  t.deepEqual(
    shop.listPrinterJobs('pa')!.map((j) => j.id),
    ['j3', 'j2'],
  );
  t.deepEqual(
    shop.listPrinterJobs('pa', 'Queued')!.map((j) => j.id),
    ['j2'],
  );
  t.deepEqual(shop.listPrinterJobs('pm'), []);
  t.is(shop.listPrinterJobs('unknown'), undefined);
  t.is(shop.getPrinter('unknown'), undefined);
  t.is(shop.getFilament('unknown'), undefined);
  t.is(shop.getPrintJob('unknown'), undefined);
});

test('views are copies: mutating one does not touch the state', (t) => {
  const shop = shopWith();
  const view = shop.getFilament('f1')! as { remaining_weight_in_grams: number };
  view.remaining_weight_in_grams = 0;
  t.is(shop.getFilament('f1')!.remaining_weight_in_grams, 1000);
});

test('the error code list is stable', (t) => {
  t.deepEqual(
    [...SHOP_ERROR_CODES],
    [
      'printer_not_found',
      'filament_not_found',
      'print_job_not_found',
      'duplicate_id',
      'filament_capacity',
      'invalid_transition',
      'invalid_filament',
      'invalid_command',
      'idempotency_key_reused',
    ],
  );
});
