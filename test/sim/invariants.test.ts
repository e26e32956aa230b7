// The safety checks themselves must be able to fail: each is fed a crafted history that breaks it.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Entry, Message } from '../../src/raft/messages.js';
import { Invariants, entryContent, Violation } from './invariants.js';
import { SimDisk } from './disk.js';

const cmd = (index: number, term: number, text: string): Entry => ({
  type: 'command',
  index,
  term,
  data: new TextEncoder().encode(text),
});
const noop = (index: number, term: number): Entry => ({ type: 'noop', index, term });

function violation(t: ExecutionContext, check: string, fn: () => void): void {
  const error = t.throws(fn, { instanceOf: Violation });
  t.is(error?.check, check);
}

test('assertElectionSafety: two leaders in one term', (t) => {
  const inv = new Invariants();
  inv.assertElectionSafety('n1', 'leader', 3);
  inv.assertElectionSafety('n1', 'leader', 3);
  inv.assertElectionSafety('n2', 'leader', 4);
  inv.assertElectionSafety('n3', 'follower', 3);
  violation(t, 'assertElectionSafety', () => inv.assertElectionSafety('n2', 'leader', 3));
});

test('assertElectionSafety: a durable vote changed within its term', (t) => {
  const inv = new Invariants();
  inv.assertDurableVote('n1', { term: 2, vote: 'n2', commit: 0 }, { term: 3, vote: 'n3', commit: 0 });
  violation(t, 'assertElectionSafety', () =>
    inv.assertDurableVote('n1', { term: 2, vote: 'n2', commit: 0 }, { term: 2, vote: 'n3', commit: 0 }),
  );
  violation(t, 'assertElectionSafety', () =>
    inv.assertDurableVote('n1', { term: 3, vote: null, commit: 0 }, { term: 2, vote: null, commit: 0 }),
  );
});

test('assertLogMatching: same index and term, different contents or different history', (t) => {
  const inv = new Invariants();
  inv.assertLogMatching('n1', cmd(1, 1, 'a'), 0);
  inv.assertLogMatching('n2', cmd(1, 1, 'a'), 0);
  violation(t, 'assertLogMatching', () => inv.assertLogMatching('n3', cmd(1, 1, 'b'), 0));
  inv.assertLogMatching('n1', cmd(2, 2, 'c'), 1);
  violation(t, 'assertLogMatching', () => inv.assertLogMatching('n2', cmd(2, 2, 'c'), 0));
});

test('assertLogMatching (whole logs): agreement at an index but not before it', (t) => {
  const inv = new Invariants();
  const good = new Map([
    ['n1', { first: 1, entries: [noop(1, 1), cmd(2, 1, 'a'), cmd(3, 2, 'b')] }],
    ['n2', { first: 2, entries: [cmd(2, 1, 'a'), cmd(3, 3, 'z')] }],
  ]);
  t.notThrows(() => inv.assertLogMatchingFull(good));
  const bad = new Map([
    ['n1', { first: 1, entries: [noop(1, 1), cmd(2, 1, 'a'), cmd(3, 2, 'b')] }],
    ['n2', { first: 1, entries: [noop(1, 1), cmd(2, 2, 'x'), cmd(3, 2, 'b')] }],
  ]);
  violation(t, 'assertLogMatching', () => inv.assertLogMatchingFull(bad));
});

test('assertStateMachineSafety: two nodes apply different entries at one index', (t) => {
  const inv = new Invariants();
  inv.assertStateMachineSafety('n1', cmd(5, 2, 'a'), entryContent(cmd(5, 2, 'a')));
  inv.assertStateMachineSafety('n2', cmd(5, 2, 'a'), entryContent(cmd(5, 2, 'a')));
  violation(t, 'assertStateMachineSafety', () =>
    inv.assertStateMachineSafety('n3', cmd(5, 3, 'b'), entryContent(cmd(5, 3, 'b'))),
  );
  inv.recordCommitted('n1', cmd(6, 2, 'c'), 2);
  violation(t, 'assertStateMachineSafety', () => inv.recordCommitted('n2', cmd(6, 4, 'd'), 4));
  violation(t, 'assertStateMachineSafety', () => inv.recordSnapshot('n2', 6, 3, 4));
});

test('assertCommitMonotonic: a commit index going back', (t) => {
  const inv = new Invariants();
  inv.assertCommitMonotonic('n1', 7, 7, 'tick');
  violation(t, 'assertCommitMonotonic', () => inv.assertCommitMonotonic('n1', 6, 7, 'restart'));
});

test('assertLeaderCompleteness: a leader missing an entry committed in an earlier term', (t) => {
  const inv = new Invariants();
  inv.recordCommitted('n1', cmd(1, 1, 'a'), 1);
  inv.recordCommitted('n1', cmd(2, 3, 'b'), 3);
  // A leader of term 2 need not hold what was committed in term 3...
  t.notThrows(() => inv.assertLeaderCompleteness('n2', 2, (i) => (i === 1 ? 1 : undefined)));
  // ...a leader of term 4 must hold both (or have them in a snapshot).
  t.notThrows(() => inv.assertLeaderCompleteness('n3', 4, (i) => (i === 1 ? 'compacted' : 3)));
  violation(t, 'assertLeaderCompleteness', () =>
    inv.assertLeaderCompleteness('n4', 4, (i) => (i === 1 ? 1 : 2)),
  );
});

test('assertAckedInLeaders: a later leader without an acknowledged proposal', (t) => {
  const inv = new Invariants();
  inv.recordAcked(3, 2, 2);
  t.notThrows(() => inv.assertAckedInLeaders('n1', 5, () => 2));
  violation(t, 'assertAckedInLeaders', () => inv.assertAckedInLeaders('n2', 5, () => undefined));
});

test('assertDurableBeforeSend: a vote or an ack that is not on disk yet', (t) => {
  const inv = new Invariants();
  const storage = { hardState: { term: 2, vote: 'n2', commit: 1 }, lastIndex: 2 };
  const vote = (term: number, to: string): Message => ({
    type: 'vote-response',
    from: 'n1',
    to,
    term,
    preVote: false,
    granted: true,
  });
  const ack = (index: number): Message => ({
    type: 'append-response',
    from: 'n1',
    to: 'n2',
    term: 2,
    success: true,
    index,
  });
  t.notThrows(() => inv.assertDurableBeforeSend('n1', vote(2, 'n2'), storage));
  t.notThrows(() => inv.assertDurableBeforeSend('n1', vote(1, 'n3'), storage)); // an older term: no other vote possible any more
  t.notThrows(() => inv.assertDurableBeforeSend('n1', ack(2), storage));
  violation(t, 'assertDurableBeforeSend', () => inv.assertDurableBeforeSend('n1', vote(2, 'n3'), storage));
  violation(t, 'assertDurableBeforeSend', () => inv.assertDurableBeforeSend('n1', vote(3, 'n2'), storage));
  violation(t, 'assertDurableBeforeSend', () => inv.assertDurableBeforeSend('n1', ack(3), storage));
});

/** A disk whose writes complete when the test says so. */
function manualDisk(): { disk: SimDisk; complete: () => void } {
  const pending: (() => void)[] = [];
  const disk = new SimDisk();
  disk.hooks = {
    delay: () => 0,
    schedule: (_d, done) => pending.push(done),
    onIssue: () => {},
    onDurable: () => {},
  };
  return { disk, complete: () => pending.splice(0).forEach((done) => done()) };
}

test('the simulated disk keeps what completed, in order; a snapshot replaces the log', async (t) => {
  const { disk, complete } = manualDisk();
  t.true(disk.isEmpty());
  const first = disk.save({ entries: [noop(1, 1), cmd(2, 1, 'a'), cmd(3, 1, 'b')] });
  const second = disk.save({ entries: [cmd(3, 2, 'c')], hardState: { term: 2, vote: null, commit: 2 } });
  t.true(disk.isEmpty(), 'nothing is durable before the writes complete');
  complete();
  await Promise.all([first, second]);
  t.deepEqual(
    (await disk.load())!.entries.map((e) => `${e.index}:${e.term}`),
    ['1:1', '2:1', '3:2'],
  );
  const gap = disk.save({ entries: [cmd(5, 2, 'x')] });
  complete();
  await t.throwsAsync(gap, { message: /gap/ }, 'a gap is refused, as the real storage refuses it');
  const snap = disk.saveSnapshot({
    meta: { index: 2, term: 1, config: { voters: ['n1'], learners: [] }, configContext: {} },
    data: new Uint8Array(),
  });
  complete();
  await snap;
  t.deepEqual(
    (await disk.load())!.entries.map((e) => e.index),
    [3],
  );
});

test('a crash loses every write in flight, and a torn write keeps a prefix of its entries without its hard state', async (t) => {
  const { disk, complete } = manualDisk();
  const done = disk.save({ entries: [noop(1, 1)], hardState: { term: 1, vote: 'n1', commit: 0 } });
  complete();
  await done;
  void disk.save({
    entries: [cmd(2, 1, 'a'), cmd(3, 1, 'b'), cmd(4, 1, 'c')],
    hardState: { term: 1, vote: 'n1', commit: 4 },
  });
  void disk.save({ entries: [], hardState: { term: 2, vote: 'n2', commit: 4 } });
  disk.crash(() => 2);
  complete(); // completions from before the crash do nothing
  const after = (await disk.load())!;
  t.deepEqual(after.hardState, { term: 1, vote: 'n1', commit: 0 });
  t.deepEqual(
    after.entries.map((e) => e.index),
    [1, 2, 3],
  );
});
