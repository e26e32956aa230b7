import test from 'ava';
import { InvariantError } from '../../src/raft/index.js';
import type { Snapshot } from '../../src/raft/index.js';
import { RaftLog } from '../../src/raft/log.js';
import { enc, entries } from './helpers.js';

const snap = (index: number, term: number): Snapshot => ({
  meta: { index, term, config: { voters: ['n1'], learners: [] }, configContext: {} },
  data: enc('s'),
});

test('an empty log has index 0 of term 0 and nothing to hand out', (t) => {
  const log = new RaftLog(null, []);
  t.is(log.firstIndex(), 1);
  t.is(log.lastIndex(), 0);
  t.is(log.lastTerm(), 0);
  t.is(log.term(0), 0);
  t.is(log.term(1), undefined);
  t.false(log.hasUnstable());
  t.is(log.persistedIndex, 0);
});

test('terms are looked up through the snapshot offset; compacted indexes have no term', (t) => {
  const log = new RaftLog(snap(10, 3), entries([3, 4, 4], 10));
  t.is(log.firstIndex(), 11);
  t.is(log.lastIndex(), 13);
  t.is(log.term(10), 3);
  t.is(log.term(12), 4);
  t.is(log.term(9), undefined);
  t.is(log.term(0), undefined, 'index 0 is compacted too once a snapshot exists');
  t.is(log.term(14), undefined);
  t.is(log.entry(11)!.index, 11);
  t.deepEqual(
    log.slice(11, 13).map((e) => e.index),
    [11, 12],
  );
  t.throws(() => log.slice(10, 12), { instanceOf: InvariantError });
});

test('a restart with non-contiguous entries is refused', (t) => {
  t.throws(() => new RaftLog(null, [...entries([1]), ...entries([1], 2)]), { instanceOf: InvariantError });
});

test('the up-to-date rule compares last terms first, then last indexes', (t) => {
  const log = new RaftLog(null, entries([1, 2, 2]));
  t.true(log.isUpToDate(1, 3));
  t.true(log.isUpToDate(3, 2));
  t.true(log.isUpToDate(4, 2));
  t.false(log.isUpToDate(2, 2));
  t.false(log.isUpToDate(10, 1));
});

test('append must follow the last entry and never lower the term', (t) => {
  const log = new RaftLog(null, entries([1, 2]));
  t.throws(() => log.append(entries([2], 3)), { instanceOf: InvariantError });
  t.throws(() => log.append(entries([1], 2)), { instanceOf: InvariantError });
  log.append(entries([2], 2));
  t.is(log.lastIndex(), 3);
});

test('findConflict ignores entries already present and reports the first mismatch', (t) => {
  const log = new RaftLog(null, entries([1, 1, 2]));
  t.is(log.findConflict(entries([1, 1], 0)), 0);
  t.is(log.findConflict(entries([1, 2], 1)), 0);
  t.is(log.findConflict(entries([1, 3], 1)), 3);
  t.is(log.findConflict(entries([2, 2], 3)), 4, 'new entries beyond the end');
});

test('truncateAndAppend cuts the suffix, rewinds the persisted and unstable marks', (t) => {
  const log = new RaftLog(null, entries([1, 1, 1, 1]));
  t.is(log.persistedIndex, 4);
  log.truncateAndAppend(entries([2], 2));
  t.is(log.lastIndex(), 3);
  t.is(log.term(3), 2);
  t.is(log.persistedIndex, 2);
  t.deepEqual(
    log.takeUnstable().map((e) => [e.index, e.term]),
    [[3, 2]],
  );
  t.false(log.hasUnstable());
});

test('stableTo ignores an acknowledgement for an entry that was replaced meanwhile', (t) => {
  const log = new RaftLog(null, entries([1]));
  log.append(entries([1, 1], 1));
  log.takeUnstable(); // handed out 2..3 (term 1)
  log.truncateAndAppend(entries([2], 2)); // 3 replaced by term 2
  log.stableTo(3, 1);
  t.is(log.persistedIndex, 1, 'the durable write was of the old entry 3');
  log.stableTo(2, 1);
  t.is(log.persistedIndex, 2);
  log.takeUnstable();
  log.stableTo(3, 2);
  t.is(log.persistedIndex, 3);
});

test('findConflictByTerm returns the last index at or below a term', (t) => {
  const log = new RaftLog(null, entries([1, 1, 2, 2, 2, 4, 4]));
  t.is(log.findConflictByTerm(7, 3), 5);
  t.is(log.findConflictByTerm(7, 4), 7);
  t.is(log.findConflictByTerm(4, 1), 2);
  t.is(log.findConflictByTerm(7, 0), 0);
  t.is(log.findConflictByTerm(100, 2), 5, 'clamped to the last index');
});

test('compact keeps the entries after the snapshot; restore replaces everything', (t) => {
  const log = new RaftLog(null, entries([1, 1, 2, 2]));
  log.compact(snap(2, 1));
  t.is(log.firstIndex(), 3);
  t.is(log.lastIndex(), 4);
  t.is(log.term(2), 1);
  t.throws(() => log.compact(snap(2, 1)), { instanceOf: InvariantError });
  t.throws(() => log.compact(snap(4, 1)), { instanceOf: InvariantError }, 'term mismatch');
  log.restore(snap(9, 5));
  t.is(log.lastIndex(), 9);
  t.is(log.lastTerm(), 5);
  t.is(log.pendingSnapshot?.meta.index, 9);
  t.false(log.hasUnstable());
});

test('compaction beyond what is persisted is refused', (t) => {
  const log = new RaftLog(null, entries([1]));
  log.append(entries([1], 1));
  t.throws(() => log.compact(snap(2, 1)), { instanceOf: InvariantError });
});
