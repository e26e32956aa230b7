// The chaos suite's checkers on hand-made histories, linearizable and not, so that they are
// known to fail when they must: a job register that jumps back, a read of a state that was
// never written, a duplicate create, a stale read, weights that do not add up, a lost create.

import test from 'ava';
import { checkFilamentReads, checkFinalAccounting, checkJobs, lostCreates, staleReads } from './checks.js';
import type { FinalState } from './checks.js';
import type { Entry, Op, Result } from './history.js';

function op(
  client: number,
  o: Op,
  call: number,
  ret: number | 'info',
  result: Result = null,
  outcome?: Entry['outcome'],
): Entry {
  return {
    client,
    node: 'n1',
    op: o,
    call,
    ret: ret === 'info' ? call + 1 : ret,
    outcome: outcome ?? (ret === 'info' ? 'info' : 'ok'),
    result,
    detail: '',
  };
}

const create = (job = 'j'): Op => ({ kind: 'create-job', job, filament: 'f1', weight: 10, keyed: false });
const to = (status: 'Running' | 'Done' | 'Canceled', job = 'j'): Op => ({
  kind: 'transition',
  job,
  to: status,
});
const read = (consistency: 'linearizable' | 'leader' | 'stale' = 'linearizable', job = 'j'): Op => ({
  kind: 'read-job',
  job,
  consistency,
});

const verdict = (entries: Entry[]): boolean => checkJobs(entries).every((v) => v.ok);

test('a sequential job history through its transitions is linearizable', (t) => {
  t.true(
    verdict([
      op(0, create(), 0, 1, 'created'),
      op(1, read(), 2, 3, 'Queued'),
      op(0, to('Running'), 4, 5, 'ok'),
      op(1, to('Canceled'), 6, 7, 'ok'),
      op(0, to('Done'), 8, 9, 'invalid'),
      op(1, read(), 10, 11, 'Canceled'),
    ]),
  );
});

test('two transitions racing from the same state cannot both succeed', (t) => {
  t.false(
    verdict([
      op(0, create(), 0, 1, 'created'),
      op(0, to('Running'), 2, 3, 'ok'),
      op(1, to('Done'), 4, 8, 'ok'),
      op(2, to('Canceled'), 4, 8, 'ok'),
    ]),
  );
  // One of them refused: fine, in either order.
  t.true(
    verdict([
      op(0, create(), 0, 1, 'created'),
      op(0, to('Running'), 2, 3, 'ok'),
      op(1, to('Done'), 4, 8, 'invalid'),
      op(2, to('Canceled'), 4, 8, 'ok'),
    ]),
  );
});

test('a read that goes back in time after a later read is not linearizable', (t) => {
  t.false(
    verdict([
      op(0, create(), 0, 1, 'created'),
      op(0, to('Running'), 2, 10, 'ok'),
      op(1, read(), 3, 4, 'Running'),
      op(2, read(), 5, 6, 'Queued'),
    ]),
  );
});

test('an indeterminate write may have happened, or not, but only once', (t) => {
  const history = [
    op(0, create(), 0, 1, 'created'),
    op(0, to('Running'), 2, 'info'),
    op(1, read(), 5, 6, 'Queued'),
    op(1, read(), 7, 8, 'Running'),
  ];
  t.true(verdict(history));
  t.false(verdict([...history, op(1, read(), 9, 10, 'Queued')]));
});

test('a create refused as a duplicate of a job nobody created is caught', (t) => {
  t.false(verdict([op(0, create(), 0, 1, 'duplicate')]));
  t.true(verdict([op(0, create(), 0, 'info'), op(1, create(), 3, 4, 'duplicate')]));
});

test('reads at linearizable only enter the linearizability check; stale reads are counted per level', (t) => {
  const entries = [
    op(0, create(), 0, 1, 'created'),
    op(0, to('Running'), 2, 3, 'ok'),
    op(1, read('stale'), 4, 5, 'Queued'),
    op(1, read('leader'), 4, 5, 'Running'),
    op(1, read('linearizable'), 6, 7, 'Queued'),
  ];
  const stale = staleReads(entries);
  t.is(stale.get('stale')!.length, 1);
  t.is(stale.get('leader')!.length, 0);
  t.is(stale.get('linearizable')!.length, 1);
  t.false(verdict(entries));
  t.true(verdict(entries.slice(0, 4)), 'the stale-level read does not make the job non-linearizable');
});

test('weights at a linearizable read must lie between the surely and the possibly done jobs', (t) => {
  const view = (remaining: number, reserved: number): Result => ({
    total_weight_in_grams: 100,
    remaining_weight_in_grams: remaining,
    reserved_weight_in_grams: reserved,
  });
  const base = [
    op(0, create('a'), 0, 1, 'created'),
    op(0, to('Running', 'a'), 2, 3, 'ok'),
    op(0, to('Done', 'a'), 4, 5, 'ok'),
  ];
  const readF = (remaining: number, reserved: number, at = 10): Entry =>
    op(1, { kind: 'read-filament', filament: 'f1' }, at, at + 1, view(remaining, reserved));
  t.deepEqual(checkFilamentReads([...base, readF(90, 0)]), []);
  t.is(checkFilamentReads([...base, readF(100, 0)]).length, 1, 'a done job whose weight was not subtracted');
  t.is(checkFilamentReads([...base, readF(90, 95)]).length, 1, 'reserved above remaining');
  t.deepEqual(checkFilamentReads([...base, readF(100, 0, 4.5)]), [], 'during the Done, either is fine');
});

test('final accounting and lost creates are checked against each node', (t) => {
  const good: FinalState = {
    node: 'n1',
    jobs: [
      { id: 'a', filament_id: 'f1', print_weight_in_grams: 10, status: 'Done' },
      { id: 'b', filament_id: 'f1', print_weight_in_grams: 20, status: 'Queued' },
    ],
    filaments: [
      { id: 'f1', total_weight_in_grams: 100, remaining_weight_in_grams: 90, reserved_weight_in_grams: 20 },
    ],
    printers: [],
  };
  t.deepEqual(checkFinalAccounting(good), []);
  t.is(
    checkFinalAccounting({ ...good, filaments: [{ ...good.filaments[0]!, remaining_weight_in_grams: 100 }] })
      .length,
    1,
  );
  const acked = [
    op(0, create('a'), 0, 1, 'created'),
    op(0, create('c'), 0, 1, 'created'),
    op(0, create('d'), 0, 'info'),
  ];
  t.deepEqual(lostCreates(acked, good), ['job c']);
});
