import test from 'ava';
import { NotLeaderError } from '../../src/raft/index.js';
import type { AppendRequest, AppendResponse } from '../../src/raft/index.js';
import { Cluster, enc, entries, msg, solo } from './helpers.js';

test('proposals on a follower are refused with the leader id', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  t.is(t.throws(() => c.propose('n2', 'x'), { instanceOf: NotLeaderError })?.leader, null);
  c.elect('n1');
  const err = t.throws(() => c.propose('n2', 'x'), { instanceOf: NotLeaderError });
  t.is(err?.leader, 'n1');
  t.is(err?.code, 'not_leader');
});

test('proposals between two Readies travel in one append, split at maxEntriesPerAppend', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], { maxEntriesPerAppend: 4, maxInflightAppends: 100 });
  c.elect('n1');
  for (let i = 0; i < 10; i++) c.propose('n1', `p${i}`);
  c.processAll();
  const appends = c.inflight.filter((m): m is AppendRequest => m.type === 'append' && m.to === 'n2');
  t.deepEqual(
    appends.map((m) => m.entries.length),
    [4, 4, 2],
  );
  t.deepEqual(
    appends.map((m) => m.prevIndex),
    [1, 5, 9],
  );
  c.deliverAll();
  t.is(c.commands('n3').length, 10);
});

test('the proposal index and term identify the entry that commits', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  const a = c.propose('n1', 'a');
  t.deepEqual(a, { index: 2, term: 1 });
  c.deliverAll();
  const committed = c.readies
    .get('n1')!
    .flatMap((r) => r.committedEntries)
    .find((e) => e.index === a.index);
  t.like(committed, { index: 2, term: 1, type: 'command' });
});

test('an uncommitted entry of a deposed leader is overwritten, and the new leader commits its own', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.isolated.add('n1');
  const lost = c.propose('n1', 'lost');
  c.processAll();
  c.drop();
  c.tick('n3', 10);
  c.elect('n2');
  const kept = c.propose('n2', 'kept');
  c.deliverAll();
  c.isolated.delete('n1');
  c.tick('n2');
  c.deliverAll();
  t.is(c.view('n1').leader, 'n2');
  t.deepEqual(c.commands('n1'), ['kept']);
  const atLost = c.node('n1').entriesAfter(lost.index - 1, 1);
  t.not(
    atLost === 'compacted' ? -1 : atLost[0]!.term,
    lost.term,
    'another term took the index: the proposal was lost',
  );
  t.true(kept.index >= lost.index);
});

test('a thousand proposals replicate and apply in order on every node', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], { maxEntriesPerAppend: 64, maxInflightAppends: 4 });
  c.elect('n1');
  const want: string[] = [];
  for (let i = 0; i < 1000; i++) {
    c.node('n1').propose(enc(`v${i}`));
    want.push(`v${i}`);
    if (i % 97 === 0) c.deliverAll();
  }
  c.deliverAll();
  c.tick('n1');
  c.deliverAll();
  for (const id of ['n1', 'n2', 'n3']) t.deepEqual(c.commands(id), want, id);
});

test('an ack queued in an old term is not sent after a newer leader truncated the entry it names (sim finding F4)', (t) => {
  // n3 follows n1 (term 1) and holds entry 1 of term 1, durable.
  const core = solo('n3', ['n1', 'n2', 'n3', 'n4', 'n5'], {
    hardState: { term: 1, vote: null, commit: 0 },
    entries: entries([1]),
  });
  core.step(
    msg<'append'>({
      type: 'append',
      from: 'n1',
      to: 'n3',
      term: 1,
      prevIndex: 1,
      prevTerm: 1,
      entries: entries([1], 1),
      commit: 0,
    }),
  );
  // Before that Ready (acking entry 2 of term 1) is taken, a term-2 leader overwrites entry 2.
  core.step(
    msg<'append'>({
      type: 'append',
      from: 'n2',
      to: 'n3',
      term: 2,
      prevIndex: 1,
      prevTerm: 1,
      entries: entries([2], 1),
      commit: 0,
    }),
  );
  const rd = core.ready();
  t.deepEqual(
    rd.entries.map((e) => [e.index, e.term]),
    [[2, 2]],
  );
  const acks = rd.messages.filter((m): m is AppendResponse => m.type === 'append-response');
  t.deepEqual(
    acks.map((m) => [m.to, m.term, m.success, m.index]),
    [['n2', 2, true, 2]],
    'only the ack for what this Ready persists leaves',
  );
  core.advance(rd);
});
