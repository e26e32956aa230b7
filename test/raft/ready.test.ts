import test from 'ava';
import { InvariantError, mustSync } from '../../src/raft/index.js';
import type { AppendResponse, Ready } from '../../src/raft/index.js';
import { Cluster, drain, entries, solo } from './helpers.js';

test('a follower applies only entries an earlier advance() confirmed durable', (t) => {
  const f = solo('n2', ['n1', 'n2', 'n3'], { hardState: { term: 1, vote: null, commit: 0 } });
  f.step({
    type: 'append',
    from: 'n1',
    to: 'n2',
    term: 1,
    prevIndex: 0,
    prevTerm: 0,
    entries: entries([1, 1, 1]),
    commit: 3,
  });
  const first = f.ready();
  t.deepEqual(
    first.entries.map((e) => e.index),
    [1, 2, 3],
  );
  t.deepEqual(first.hardState, { term: 1, vote: null, commit: 3 });
  t.deepEqual(first.committedEntries, [], 'not yet persisted: not applied');
  t.like(
    first.messages[0] as AppendResponse,
    { success: true, index: 3 },
    'the ack travels with the entries it acknowledges',
  );
  f.advance(first);
  const second = f.ready();
  t.deepEqual(
    second.committedEntries.map((e) => e.index),
    [1, 2, 3],
  );
  t.deepEqual(second.entries, []);
  f.advance(second);
  t.false(f.hasReady());
  t.is(f.status().applied, 3);
});

test('a leader counts itself towards commit only for entries it has persisted', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  const n1 = c.node('n1');
  c.propose('n1', 'x');
  const rd = n1.ready(); // handed out, not yet persisted
  t.is(rd.entries.length, 1);
  for (const m of rd.messages.filter((m) => m.to === 'n2')) c.deliver(m);
  c.process('n2');
  for (const m of c.take((m) => m.from === 'n2')) c.deliver(m);
  t.is(n1.status().commit, 1, 'n2 alone plus an unpersisted leader entry is not a majority');
  n1.advance(rd);
  t.is(n1.status().commit, 2, 'after advance() the leader counts itself');
});

test('ready() twice without advance(), or advance() without ready(), breaks the contract loudly', (t) => {
  const n = solo('n1', ['n1']);
  for (let i = 0; i < 30; i++) n.tick();
  n.ready();
  t.throws(() => n.ready(), { instanceOf: InvariantError });
  const m = solo('n1', ['n1']);
  t.throws(() => m.advance({ entries: [], messages: [], committedEntries: [], readStates: [] }), {
    instanceOf: InvariantError,
  });
});

test('softState appears only when role, leader or term change; hardState only when it changes', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  const readies = c.readies.get('n2')!;
  const softs = readies.filter((r) => r.softState).map((r) => r.softState);
  t.deepEqual(softs, [
    { role: 'follower', leader: null, term: 1 }, // voted in term 1
    { role: 'follower', leader: 'n1', term: 1 },
  ]);
  const before = readies.length;
  c.tickAll();
  c.deliverAll();
  const later = readies.slice(before);
  t.true(later.length > 0);
  t.true(
    later.every((r) => r.softState === undefined && r.hardState === undefined),
    'a heartbeat round changes nothing durable',
  );
});

test('a restarted node with no new work has nothing ready', (t) => {
  const n = solo('n1', ['n1', 'n2', 'n3'], {
    hardState: { term: 3, vote: 'n2', commit: 2 },
    entries: entries([1, 2]),
  });
  const rd = drain(n);
  t.deepEqual(
    rd.committedEntries.map((e) => e.index),
    [1, 2],
  );
  t.is(rd.hardState, undefined);
  t.false(n.hasReady());
});

test('a persisted commit beyond the persisted log is refused at start', (t) => {
  t.throws(
    () => solo('n1', ['n1'], { hardState: { term: 1, vote: null, commit: 5 }, entries: entries([1]) }),
    { instanceOf: InvariantError },
  );
});

test('entriesAfter pages through the log and reports compaction', (t) => {
  const c = new Cluster(['n1']);
  c.elect('n1');
  for (let i = 0; i < 5; i++) c.propose('n1', `p${i}`);
  c.processAll();
  const n1 = c.node('n1');
  const page = n1.entriesAfter(2, 2);
  t.deepEqual(page === 'compacted' ? page : page.map((e) => e.index), [3, 4]);
  n1.compact(4, new Uint8Array());
  t.is(n1.entriesAfter(2, 2), 'compacted');
  const rest = n1.entriesAfter(4, 10);
  t.deepEqual(rest === 'compacted' ? rest : rest.map((e) => e.index), [5, 6]);
});

test('compact is refused beyond the applied index and is a no-op at or below the current snapshot', (t) => {
  const c = new Cluster(['n1']);
  c.elect('n1');
  c.propose('n1', 'a');
  c.processAll();
  const n1 = c.node('n1');
  t.throws(() => n1.compact(5, new Uint8Array()), { instanceOf: InvariantError });
  t.like(n1.compact(2, new Uint8Array([1])), { index: 2, term: 1 });
  t.is(n1.compact(1, new Uint8Array()), null);
  t.is(n1.compact(2, new Uint8Array()), null);
  t.is(n1.status().snapshotIndex, 2);
});

test('on restart, stored entries the snapshot already covers are skipped', (t) => {
  const snapshot = {
    meta: { index: 2, term: 1, config: { voters: ['n1', 'n2', 'n3'], learners: [] }, configContext: {} },
    data: new Uint8Array(),
  };
  const n = solo('n1', ['n1', 'n2', 'n3'], {
    hardState: { term: 1, vote: null, commit: 3 },
    snapshot,
    entries: entries([1, 1, 1]),
  });
  t.like(n.status(), { firstIndex: 3, lastIndex: 3, commit: 3, applied: 2 });
  t.deepEqual(
    drain(n).committedEntries.map((e) => e.index),
    [3],
  );
});

test('checklist 25: mustSync: entries, a snapshot, or a term or vote that differs from the last hard state saved', (t) => {
  const saved = { term: 6, vote: 'n2', commit: 10 };
  const rd = (over: Partial<Ready>): Ready => ({
    entries: [],
    messages: [],
    committedEntries: [],
    readStates: [],
    ...over,
  });
  t.false(mustSync(saved, rd({})), 'nothing to write');
  t.false(mustSync(saved, rd({ hardState: { term: 6, vote: 'n2', commit: 12 } })), 'only the commit moved');
  t.true(
    mustSync(saved, rd({ hardState: { term: 7, vote: 'n2', commit: 10 } })),
    'the same candidate again in a new term: the term must be durable before the grant leaves',
  );
  t.true(
    mustSync(saved, rd({ hardState: { term: 7, vote: null, commit: 10 } })),
    'a term learnt from a heartbeat',
  );
  t.true(mustSync(saved, rd({ hardState: { term: 6, vote: 'n3', commit: 10 } })));
  t.true(mustSync(saved, rd({ entries: entries([6]) })));
});
