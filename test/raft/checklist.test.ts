// One named test per scenario of /work/shared/RAFT-CHECKLIST.md ("checklist N: ..."),
// scripted message by message on small clusters.

import test from 'ava';
import { InvariantError, ProposalDroppedError, RaftCore } from '../../src/raft/index.js';
import type {
  AppendRequest,
  AppendResponse,
  Heartbeat,
  Message,
  PersistedState,
  RaftConfig,
  VoteRequest,
  VoteResponse,
} from '../../src/raft/index.js';
import { Cluster, drain, enc, entries, solo } from './helpers.js';

const voteReq = (
  from: string,
  to: string,
  term: number,
  lastLogIndex: number,
  lastLogTerm: number,
  extra: Partial<VoteRequest> = {},
): VoteRequest => ({
  type: 'vote-request',
  from,
  to,
  term,
  preVote: false,
  lastLogIndex,
  lastLogTerm,
  transfer: false,
  ...extra,
});

const voteResp = (
  from: string,
  to: string,
  term: number,
  granted: boolean,
  preVote = false,
): VoteResponse => ({ type: 'vote-response', from, to, term, preVote, granted });

const responses = (msgs: readonly Message[]): VoteResponse[] =>
  msgs.filter((m): m is VoteResponse => m.type === 'vote-response');

// ---- Elections -----------------------------------------------------------------------

test('checklist 1: a candidate whose log is less up to date is refused (last term first, then last index)', (t) => {
  // n2's log: terms [1, 2] (last term 2, last index 2).
  const cases: [number, number, boolean][] = [
    [5, 1, false], // longer log but older last term: refused
    [1, 1, false], // older last term and shorter
    [1, 2, false], // same last term, shorter
    [2, 2, true], // same last term and index
    [1, 3, true], // shorter but newer last term: granted
  ];
  for (const [lastIndex, lastTerm, expected] of cases) {
    const n2 = solo('n2', ['n1', 'n2', 'n3'], {
      hardState: { term: 2, vote: null, commit: 0 },
      entries: entries([1, 2]),
    });
    n2.step(voteReq('n1', 'n2', 3, lastIndex, lastTerm));
    const [r] = responses(drain(n2).messages);
    t.is(r?.granted, expected, `candidate last (index ${lastIndex}, term ${lastTerm})`);
  }
});

test('checklist 2: one vote per term, durable in the same Ready as the reply; a restarted node does not vote again', (t) => {
  const n2 = solo('n2', ['n1', 'n2', 'n3']);
  n2.step(voteReq('n1', 'n2', 5, 0, 0));
  const rd = drain(n2);
  t.deepEqual(
    rd.hardState,
    { term: 5, vote: 'n1', commit: 0 },
    'the vote is in the hard state of the Ready that carries the reply',
  );
  t.true(responses(rd.messages)[0]!.granted);
  n2.step(voteReq('n3', 'n2', 5, 0, 0));
  t.false(responses(drain(n2).messages)[0]!.granted, 'a second candidate in the same term is refused');

  const restarted = solo('n2', ['n1', 'n2', 'n3'], { hardState: rd.hardState! });
  restarted.step(voteReq('n3', 'n2', 5, 0, 0));
  t.false(responses(drain(restarted).messages)[0]!.granted, 'after a restart the vote is remembered');
  restarted.step(voteReq('n1', 'n2', 5, 0, 0));
  t.true(responses(drain(restarted).messages)[0]!.granted, 'the same candidate may ask again (lost reply)');
});

test('checklist 3: duplicated vote responses count once; votes from outside the configuration count zero', (t) => {
  const n1 = solo('n1', ['n1', 'n2', 'n3', 'n4', 'n5'], undefined, { preVote: false });
  for (let i = 0; i < 20 && n1.status().role === 'follower'; i++) n1.tick();
  t.is(n1.status().role, 'candidate');
  const term = n1.status().term;
  drain(n1);
  for (let i = 0; i < 3; i++) n1.step(voteResp('n2', 'n1', term, true));
  n1.step(voteResp('x9', 'n1', term, true));
  n1.step(voteResp('x8', 'n1', term, true));
  t.is(n1.status().role, 'candidate', 'n1 + n2 (thrice) + two outsiders is not a majority of five');
  n1.step(voteResp('n3', 'n1', term, true));
  t.is(n1.status().role, 'leader');
});

test('checklist 4: a higher term makes the receiver a follower first; lower-term messages are answered, never obeyed', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  const n1 = c.node('n1');
  const hb: Heartbeat = { type: 'heartbeat', from: 'n2', to: 'n1', term: 3, commit: 0, context: '' };
  n1.step(hb);
  t.deepEqual(c.view('n1'), { role: 'follower', term: 3, leader: 'n2' });

  // A deposed leader's append (term 1) reaches n3 at term 3: refused with n3's term.
  const n3 = solo('n3', ['n1', 'n2', 'n3'], { hardState: { term: 3, vote: null, commit: 0 } });
  const stale: AppendRequest = {
    type: 'append',
    from: 'n1',
    to: 'n3',
    term: 1,
    prevIndex: 0,
    prevTerm: 0,
    entries: entries([1]),
    commit: 1,
  };
  n3.step(stale);
  const rd = drain(n3);
  t.is(rd.entries.length, 0, 'nothing appended');
  t.is(n3.status().lastIndex, 0);
  t.is(n3.status().commit, 0);
  const answer = rd.messages[0] as AppendResponse;
  t.is(answer.type, 'append-response');
  t.is(answer.term, 3);
  t.false(answer.success);

  // The stale leader, on hearing term 3, steps down.
  const old = new Cluster(['n1', 'n2', 'n3']);
  old.elect('n1');
  old.node('n1').step({ ...answer, to: 'n1' });
  t.deepEqual(old.view('n1'), { role: 'follower', term: 3, leader: null });
});

test('checklist 5: PreVote: an isolated node keeps its term and does not depose the leader when it returns', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.isolated.add('n3');
  for (let i = 0; i < 100; i++) {
    c.tickAll();
    c.deliverAll();
  }
  t.is(c.view('n3').term, 1, 'pre-votes never bump the term');
  t.not(c.view('n3').role, 'candidate');
  c.isolated.delete('n3');
  for (let i = 0; i < 30; i++) {
    c.tickAll();
    c.deliverAll();
  }
  t.deepEqual(c.view('n1'), { role: 'leader', term: 1, leader: 'n1' });
  t.deepEqual(c.view('n3'), { role: 'follower', term: 1, leader: 'n1' });

  // Without PreVote the same isolation inflates n3's term and deposes the leader on return.
  const d = new Cluster(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false });
  d.elect('n1');
  d.isolated.add('n3');
  for (let i = 0; i < 100; i++) {
    d.tickAll();
    d.deliverAll();
  }
  t.true(d.view('n3').term > 5);
  d.isolated.delete('n3');
  d.tickAll();
  d.deliverAll();
  t.true(d.view('n1').term > 1, 'the control run shows what PreVote prevents');
});

test('checklist 6: CheckQuorum: a leader cut off from the majority steps down; followers in a lease ignore votes unless a transfer', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.isolated.add('n1');
  for (let i = 0; i < 9; i++) c.tick('n1');
  t.is(c.view('n1').role, 'leader', 'still leading within the election timeout');
  // The first check may still count the answers heard before the cut; the next cannot.
  c.tick('n1', 11);
  t.is(c.view('n1').role, 'follower', 'steps down after an election timeout without a quorum');

  const f = new Cluster(['n1', 'n2', 'n3']);
  f.elect('n1');
  const n2 = f.node('n2');
  n2.step(voteReq('n3', 'n2', 2, 1, 1));
  n2.step(voteReq('n3', 'n2', 2, 1, 1, { preVote: true }));
  t.deepEqual(drain(n2).messages, [], 'ignored inside the lease');
  t.is(f.view('n2').term, 1);
  n2.step(voteReq('n3', 'n2', 2, 1, 1, { transfer: true }));
  const [r] = responses(drain(n2).messages);
  t.true(r?.granted, 'a transfer-triggered election bypasses the lease');
  t.is(f.view('n2').term, 2);

  // After the lease expires (no heartbeats for an election timeout) the vote is considered.
  const g = new Cluster(['n1', 'n2', 'n3']);
  g.elect('n1');
  g.tick('n2', 10);
  g.node('n2').step(voteReq('n3', 'n2', 2, 1, 1, { preVote: true }));
  t.true(responses(drain(g.node('n2')).messages)[0]?.granted);
});

test('checklist 7: a single-node cluster elects itself and commits at once', (t) => {
  const c = new Cluster(['n1']);
  c.elect('n1');
  t.is(c.view('n1').role, 'leader');
  const { index } = c.propose('n1', 'x');
  c.processAll();
  t.is(c.node('n1').status().commit, index);
  t.deepEqual(c.commands('n1'), ['x']);
});

// ---- Replication and commit ------------------------------------------------------------

/**
 * Figure 8 of the Raft paper: s1 (term 2) wrote index 2 on s1, s2; s5 (term 3) wrote its own
 * index 2. s1 is elected in term 4 and copies its term-2 entry to s3: a majority now holds it,
 * yet it must not commit (s5 could still win and overwrite it). It commits only once an
 * entry of term 4 is on a majority.
 */
function figure8(make?: (c: RaftConfig, p?: PersistedState) => RaftCore): Cluster {
  const d = new Cluster(['s1', 's2', 's3', 's4', 's5'], {
    preVote: false,
    maxEntriesPerAppend: 1,
    ...(make ? { make } : {}),
  });
  const set = (id: string, terms: number[]): void => {
    const disk = d.disk(id);
    disk.hardState = { term: 3, vote: null, commit: 1 };
    disk.entries = entries(terms);
    d.restart(id);
  };
  set('s1', [1, 2]);
  set('s2', [1, 2]);
  set('s3', [1]);
  set('s4', [1]);
  set('s5', [1, 3]);
  // s1 wins term 4 with the votes of s2, s3, s4 (s5 is never asked).
  const s1 = d.node('s1');
  for (let i = 0; i < 30 && s1.status().role === 'follower'; i++) s1.tick();
  d.processAll();
  for (const m of d.take((m) => m.type === 'vote-request' && m.to !== 's5')) d.deliver(m);
  d.processAll();
  for (const m of d.take((m) => m.type === 'vote-response')) d.deliver(m);
  d.processAll(); // s1 persists its no-op (index 3, term 4)
  d.drop();
  // s2 already holds index 2 and says so (as it would answer an empty probe at index 2).
  s1.step({ type: 'append-response', from: 's2', to: 's1', term: 4, success: true, index: 2 });
  d.processAll();
  d.drop();
  // Only s3 is reachable now.
  for (const id of ['s2', 's4', 's5']) d.cut.add(`s1->${id}`);
  return d;
}

test('checklist 8: Figure 8: an entry of an earlier term commits only under an entry of the current term', (t) => {
  const d = figure8();
  const s1 = d.node('s1');
  t.deepEqual(d.view('s1'), { role: 'leader', term: 4, leader: 's1' });
  // s3 is walked back and receives index 2 (term 2), then index 3 (term 4), one per append.
  const matchOf = (id: string): number => s1.status().progress.find((p) => p.id === id)!.match;
  let sawTerm2OnMajority = false;
  d.tick('s1');
  for (let round = 0; round < 50 && matchOf('s3') < 3; round++) {
    d.processAll();
    for (const m of d.take()) d.deliver(m);
    if (matchOf('s3') === 2) sawTerm2OnMajority = true;
    t.is(s1.status().commit, 1, 'index 2 of term 2 is never committed by counting replicas');
  }
  t.true(sawTerm2OnMajority, 's1, s2 and s3 held index 2 of term 2 (a majority of five) at some point');
  t.deepEqual(d.logOf('s3'), [
    [1, 1],
    [2, 2],
    [3, 4],
  ]);
  t.is(s1.status().commit, 1, 'two of five hold the term-4 entry: still nothing');
  d.cut.delete('s1->s2');
  d.tick('s1');
  d.deliverAll();
  t.is(s1.status().commit, 3, 'the term-4 entry on s1, s2, s3 commits index 2 with it');
});

test('checklist 8: the isCommittable seam is what protects Figure 8 (a broken core commits early)', (t) => {
  class Broken extends RaftCore {
    protected override isCommittable(): boolean {
      return true;
    }
  }
  const d = figure8((c, p) => (p ? new Broken(c, p) : new Broken(c)));
  d.tick('s1');
  d.deliverAll();
  t.true(d.node('s1').status().commit >= 2, 'the broken core commits the term-2 entry by counting replicas');
});

test('checklist 9: a follower truncates only at a real conflict; committed entries are never truncated', (t) => {
  const f = solo('n2', ['n1', 'n2', 'n3'], {
    hardState: { term: 2, vote: null, commit: 1 },
    entries: entries([1, 1, 1]),
  });
  const append = (
    prevIndex: number,
    prevTerm: number,
    es: ReturnType<typeof entries>,
    commit = 1,
  ): AppendRequest => ({
    type: 'append',
    from: 'n1',
    to: 'n2',
    term: 2,
    prevIndex,
    prevTerm,
    entries: es,
    commit,
  });
  // An old, duplicated append (only index 2 of term 1) must not cut index 3.
  f.step(append(1, 1, entries([1], 1)));
  drain(f);
  t.is(f.status().lastIndex, 3);
  // A real conflict at 3 (term 2 instead of 1) truncates from 3.
  f.step(append(2, 1, entries([2], 2)));
  const rd = drain(f);
  t.deepEqual(
    rd.entries.map((e) => [e.index, e.term]),
    [[3, 2]],
  );
  t.is(f.status().lastIndex, 3);
  // A stale append below the commit index changes nothing and is answered with the commit index.
  const g = solo('n2', ['n1', 'n2', 'n3'], {
    hardState: { term: 2, vote: null, commit: 3 },
    entries: entries([1, 1, 1]),
  });
  g.step(append(1, 1, entries([2, 2], 1), 3));
  const r = drain(g);
  t.is(r.entries.length, 0);
  t.like(r.messages[0] as AppendResponse, { success: true, index: 3 });
  // A (malformed) append that would overwrite a committed entry trips the invariant.
  t.throws(() => g.step(append(3, 1, [{ type: 'noop', index: 3, term: 2 }], 3)), {
    instanceOf: InvariantError,
  });
});

test('checklist 10: stale or reordered append responses never move a match index backwards', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  for (let i = 0; i < 5; i++) c.propose('n1', `p${i}`);
  c.deliverAll();
  const n1 = c.node('n1');
  const match = (): number => n1.status().progress.find((p) => p.id === 'n2')!.match;
  t.is(match(), 6);
  n1.step({ type: 'append-response', from: 'n2', to: 'n1', term: 1, success: true, index: 3 });
  t.is(match(), 6, 'an old success does not lower match');
  n1.step({
    type: 'append-response',
    from: 'n2',
    to: 'n1',
    term: 1,
    success: false,
    index: 4,
    rejectHint: { conflictTerm: 0, hintIndex: 2 },
  });
  t.is(match(), 6, 'an old rejection does not lower match');
  t.is(n1.status().progress.find((p) => p.id === 'n2')!.state, 'replicate', 'nor does it force a probe');
});

test('checklist 11: fast backtracking: a rejection hint skips a whole term per round trip', (t) => {
  // Leader log: term 1 then 40 entries of term 4. Follower: term 1 then 40 entries of term 2 then 20 of term 3.
  const leaderLog = entries([1, ...Array<number>(40).fill(4)]);
  const followerLog = entries([1, ...Array<number>(40).fill(2), ...Array<number>(20).fill(3)]);
  const c = new Cluster(['n1', 'n2', 'n3'], { preVote: false });
  c.disk('n1').entries = leaderLog;
  c.disk('n1').hardState = { term: 4, vote: null, commit: 1 };
  c.disk('n2').entries = followerLog;
  c.disk('n2').hardState = { term: 4, vote: null, commit: 1 };
  c.disk('n3').entries = leaderLog;
  c.disk('n3').hardState = { term: 4, vote: null, commit: 1 };
  for (const id of ['n1', 'n2', 'n3']) c.restart(id);
  c.cut.add('n1->n2');
  c.elect('n1');
  c.cut.delete('n1->n2');
  for (let round = 0; round < 20; round++) {
    c.tick('n1');
    c.deliverAll();
  }
  const n2 = c.logOf('n2');
  t.deepEqual(n2, c.logOf('n1'), 'the follower converged on the leader log');
  const rejected = c.readies
    .get('n2')!
    .flatMap((r) => r.messages)
    .filter((m) => m.type === 'append-response' && !m.success).length;
  t.true(rejected <= 3, `took ${rejected} rejections (one per term at most), not ~60`);
});

test('checklist 12: followers learn the commit index from appends and heartbeats, capped at what matches the leader', (t) => {
  // n2 holds four entries of term 1; the term-2 leader's append proves only the first two match.
  const f = solo('n2', ['n1', 'n2', 'n3'], {
    hardState: { term: 2, vote: null, commit: 0 },
    entries: entries([1, 1, 1, 1]),
  });
  f.step({
    type: 'append',
    from: 'n1',
    to: 'n2',
    term: 2,
    prevIndex: 0,
    prevTerm: 0,
    entries: entries([1, 1]),
    commit: 10,
  });
  t.is(f.status().commit, 2, 'capped at the last entry the append proved, not at the local last index');
  t.is(f.status().lastIndex, 4);
  f.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 1, commit: 1, context: '' });
  t.is(f.status().commit, 2, 'never moves back');

  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.cut.add('n1->n3');
  c.propose('n1', 'a');
  c.propose('n1', 'b');
  c.deliverAll();
  t.is(c.node('n1').status().commit, 3);
  t.is(c.node('n3').status().commit, 1);
  c.cut.delete('n1->n3');
  c.tick('n1');
  c.processAll();
  const hb = c.inflight.find((m): m is Heartbeat => m.type === 'heartbeat' && m.to === 'n3')!;
  t.is(hb.commit, 1, "the heartbeat carries min(commit, n3's match)");
  const hb2 = c.inflight.find((m): m is Heartbeat => m.type === 'heartbeat' && m.to === 'n2')!;
  t.is(hb2.commit, 3);
  c.deliverAll();
  t.is(c.node('n3').status().commit, 3, 'n3 learns the commit once it holds the entries');
  t.deepEqual(c.commands('n3'), ['a', 'b']);
});

test('checklist 13: pipelining: batches go out before acks, up to the window; a rejection or a timeout drops back to probing', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], { maxEntriesPerAppend: 2, maxInflightAppends: 3 });
  c.elect('n1');
  const n1 = c.node('n1');
  for (let i = 0; i < 20; i++) c.propose('n1', `p${i}`);
  c.processAll();
  const toN2 = c.take((m) => m.type === 'append' && m.to === 'n2') as AppendRequest[];
  t.is(toN2.length, 3, 'three appends in flight, none acknowledged');
  t.deepEqual(
    toN2.map((m) => m.entries.length),
    [2, 2, 2],
  );
  t.is(n1.status().progress.find((p) => p.id === 'n2')!.state, 'replicate');
  // Ack the first: exactly one more append goes out.
  c.deliver(toN2[0]!);
  c.process('n2');
  for (const m of c.take((m) => m.from === 'n2')) c.deliver(m);
  c.processAll();
  t.is(c.take((m) => m.type === 'append' && m.to === 'n2').length, 1);
  // Skip the second (lost) and deliver the third: n2 rejects, the leader probes.
  c.deliver(toN2[2]!);
  c.process('n2');
  for (const m of c.take((m) => m.from === 'n2')) c.deliver(m);
  t.is(n1.status().progress.find((p) => p.id === 'n2')!.state, 'probe');
  c.deliverAll();
  t.is(
    n1.status().progress.find((p) => p.id === 'n2')!.match,
    21,
    'probing finds the gap and replication resumes',
  );

  // Timeout: appends lost with no answer at all: after an election timeout the leader probes again.
  c.propose('n1', 'late');
  c.processAll();
  c.drop(['append']);
  t.is(n1.status().progress.find((p) => p.id === 'n3')!.state, 'replicate');
  for (let i = 0; i < 10; i++) {
    n1.tick();
    c.processAll();
    c.drop(['heartbeat']);
  }
  t.is(n1.status().progress.find((p) => p.id === 'n3')!.state, 'probe');
  c.tick('n1');
  c.deliverAll();
  c.tick('n1');
  c.deliverAll();
  t.is(n1.status().progress.find((p) => p.id === 'n3')!.match, 22);
});

test('checklist 14: a new leader appends a no-op of its term at once', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  const e = c.node('n1').entriesAfter(0, 10);
  t.deepEqual(e, [{ type: 'noop', index: 1, term: 1 }]);
  c.isolated.add('n1');
  c.tick('n3', 10); // n3's lease on n1 runs out
  c.elect('n2');
  const e2 = c.node('n2').entriesAfter(1, 10);
  t.deepEqual(e2, [{ type: 'noop', index: 2, term: c.view('n2').term }]);
});

// ---- Snapshots -------------------------------------------------------------------------

test('checklist 15: a follower behind the leader first retained index gets the snapshot instead', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.isolated.add('n3');
  for (let i = 0; i < 10; i++) c.propose('n1', `p${i}`);
  c.deliverAll();
  const meta = c.node('n1').compact(8, enc('state@8'));
  t.like(meta, { index: 8, term: 1 });
  t.deepEqual(meta?.config, { voters: ['n1', 'n2', 'n3'], learners: [] });
  c.isolated.delete('n3');
  c.tick('n1');
  c.deliverAll();
  c.tick('n1');
  c.deliverAll();
  const installed = c.readies.get('n3')!.find((r) => r.snapshot);
  t.truthy(installed, 'n3 got a snapshot in a Ready');
  t.is(installed!.snapshot!.meta.index, 8);
  t.deepEqual(c.applied.get('n3'), ['<noop>', '<snapshot 8>', 'p7', 'p8', 'p9'], 'index 8 holds p6');
  t.is(c.node('n3').status().commit, 11);
  t.is(c.node('n3').status().firstIndex, 9);
});

test('checklist 16: a snapshot older than the commit index is ignored; one whose last entry matches keeps the suffix', (t) => {
  const snap = (index: number, term: number) => ({
    meta: { index, term, config: { voters: ['n1', 'n2', 'n3'], learners: [] }, configContext: {} },
    data: enc(`s${index}`),
  });
  const old = solo('n2', ['n1', 'n2', 'n3'], {
    hardState: { term: 1, vote: null, commit: 5 },
    entries: entries([1, 1, 1, 1, 1, 1]),
  });
  old.step({ type: 'snapshot', from: 'n1', to: 'n2', term: 1, snapshot: snap(4, 1) });
  let rd = drain(old);
  t.is(rd.snapshot, undefined, 'nothing to install');
  t.like(rd.messages[0] as AppendResponse, { success: true, index: 5 });
  t.is(old.status().lastIndex, 6);

  const match = solo('n2', ['n1', 'n2', 'n3'], {
    hardState: { term: 1, vote: null, commit: 2 },
    entries: entries([1, 1, 1, 1, 1, 1]),
  });
  match.step({ type: 'snapshot', from: 'n1', to: 'n2', term: 1, snapshot: snap(4, 1) });
  rd = drain(match);
  t.is(rd.snapshot, undefined, 'the log already holds the snapshot point: no install');
  t.is(match.status().commit, 4);
  t.is(match.status().lastIndex, 6, 'entries after the snapshot point are kept');

  const differ = solo('n2', ['n1', 'n2', 'n3'], {
    hardState: { term: 2, vote: null, commit: 2 },
    entries: entries([1, 1, 1, 1, 1, 1]),
  });
  differ.step({ type: 'snapshot', from: 'n1', to: 'n2', term: 2, snapshot: snap(4, 2) });
  rd = drain(differ);
  t.is(rd.snapshot?.meta.index, 4);
  t.is(differ.status().lastIndex, 4, 'a conflicting log is replaced by the snapshot');
  t.is(differ.status().commit, 4);
});

test('checklist 17: after a restart, state = snapshot + entries after it, applying no further than the durable commit index', (t) => {
  const snapshot = {
    meta: { index: 5, term: 1, config: { voters: ['n1', 'n2', 'n3'], learners: [] }, configContext: {} },
    data: enc('s5'),
  };
  const n = solo('n1', ['n1', 'n2', 'n3'], {
    hardState: { term: 2, vote: 'n1', commit: 8 },
    snapshot,
    entries: entries([1, 2, 2, 2, 2], 5),
  });
  const s = n.status();
  t.like(s, { applied: 5, commit: 8, snapshotIndex: 5, firstIndex: 6, lastIndex: 10, term: 2 });
  const rd = drain(n);
  t.deepEqual(
    rd.committedEntries.map((e) => e.index),
    [6, 7, 8],
    'entries 9 and 10 are not known committed',
  );
  t.is(rd.snapshot, undefined, 'the driver restores the persisted snapshot itself');
  t.false(n.hasReady());

  // A cluster member restarted mid-run catches up to the same state.
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  for (let i = 0; i < 5; i++) c.propose('n1', `p${i}`);
  c.deliverAll();
  c.node('n2').compact(3, enc('s3'));
  c.disk('n2').snapshot = {
    meta: { index: 3, term: 1, config: { voters: ['n1', 'n2', 'n3'], learners: [] }, configContext: {} },
    data: enc('s3'),
  };
  c.disk('n2').entries = c.disk('n2').entries.filter((e) => e.index > 3);
  c.restart('n2');
  c.tick('n1');
  c.deliverAll();
  t.deepEqual(
    c.applied.get('n2'),
    ['<snapshot 3>', 'p2', 'p3', 'p4'],
    'index 3 holds p1: p2.. come from the log',
  );
});

// ---- Membership ------------------------------------------------------------------------

test('checklist 18: one configuration change at a time; a second is refused until the first commits', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], {}, ['n4', 'n5']);
  c.elect('n1');
  c.proposeConf('n1', { kind: 'add-learner', node: 'n4' });
  const err = t.throws(() => c.proposeConf('n1', { kind: 'add-learner', node: 'n5' }), {
    instanceOf: ProposalDroppedError,
  });
  t.is(err?.code, 'proposal_dropped');
  c.deliverAll();
  t.notThrows(() => c.proposeConf('n1', { kind: 'add-learner', node: 'n5' }));
  c.deliverAll();
  t.deepEqual(c.node('n1').status().config, { voters: ['n1', 'n2', 'n3'], learners: ['n4', 'n5'] });
});

test('checklist 19: a new leader makes no configuration change until an entry of its term has committed', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], {}, ['n4']);
  const n1 = c.node('n1');
  c.electVotesOnly('n1');
  t.is(n1.status().role, 'leader');
  c.processAll();
  t.throws(() => c.proposeConf('n1', { kind: 'add-learner', node: 'n4' }), {
    instanceOf: ProposalDroppedError,
    message: /no entry of term/,
  });
  c.deliverAll();
  t.notThrows(() => c.proposeConf('n1', { kind: 'add-learner', node: 'n4' }));
});

test('checklist 20: new nodes join as learners: they replicate but neither vote nor count, and are promoted once caught up', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], {}, ['n4']);
  c.elect('n1');
  c.proposeConf('n1', { kind: 'add-learner', node: 'n4', context: 'addr-n4' });
  c.propose('n1', 'a');
  c.deliverAll();
  c.tick('n1');
  c.deliverAll();
  t.deepEqual(c.commands('n4'), ['a'], 'the learner replicates');
  t.deepEqual(c.node('n4').status().config, { voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
  t.deepEqual(c.node('n1').status().configContext, { n4: 'addr-n4' });
  // A learner never campaigns.
  c.tick('n4', 100);
  t.is(c.view('n4').role, 'follower');
  t.is(c.inflight.filter((m) => m.from === 'n4' && m.type === 'vote-request').length, 0);
  // It does not count for commit: with n2 and n3 cut, n1 + n4 cannot commit.
  c.cut.add('n1->n2');
  c.cut.add('n1->n3');
  const { index } = c.propose('n1', 'b');
  c.deliverAll();
  t.true(c.node('n1').status().commit < index);
  c.cut.clear();
  c.tick('n1');
  c.deliverAll();
  t.is(c.node('n1').status().commit, index);
  // Votes from a learner do not count either.
  const cand = solo('n2', ['n1', 'n2', 'n3'], undefined, { preVote: false });
  for (let i = 0; i < 30 && cand.status().role === 'follower'; i++) cand.tick();
  const term = cand.status().term;
  cand.step(voteResp('n4', 'n2', term, true));
  t.is(cand.status().role, 'candidate');
  // Promotion.
  c.proposeConf('n1', { kind: 'promote', node: 'n4' });
  c.deliverAll();
  t.deepEqual(c.node('n4').status().config, { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
});

test('checklist 21: removing the leader: it keeps leading until the change commits, then steps down; the rest elect a new leader', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  const { index } = c.proposeConf('n1', { kind: 'remove', node: 'n1' });
  c.processAll();
  t.is(c.view('n1').role, 'leader', 'still leading with the change appended but not committed');
  t.deepEqual(
    c.node('n1').status().config.voters,
    ['n2', 'n3'],
    'the new configuration is in force on append',
  );
  t.throws(() => c.propose('n1', 'x'), { instanceOf: ProposalDroppedError });
  c.deliverAll();
  t.true(c.node('n1').status().commit >= index);
  t.is(c.view('n1').role, 'follower', 'steps down once its removal committed');
  t.is(c.node('n2').status().commit, index, 'the others learnt the commit');
  for (let i = 0; i < 40 && ![c.view('n2').role, c.view('n3').role].includes('leader'); i++) {
    c.tickAll();
    c.deliverAll();
  }
  const leader = ['n2', 'n3'].find((id) => c.view(id).role === 'leader');
  t.truthy(leader, 'n2 or n3 leads');
  c.propose(leader!, 'after');
  c.deliverAll();
  t.deepEqual(c.commands('n2'), ['after']);
  t.deepEqual(c.commands('n3'), ['after']);
  t.is(c.view('n1').role, 'follower', 'n1 never campaigns again');
});

test('checklist 22: a removed node that still runs does not disrupt the cluster', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  // n3 is removed while cut off, so it never learns it was removed.
  c.isolated.add('n3');
  c.proposeConf('n1', { kind: 'remove', node: 'n3' });
  c.deliverAll();
  c.tick('n1');
  c.deliverAll();
  t.deepEqual(c.node('n1').status().config.voters, ['n1', 'n2']);
  c.isolated.delete('n3');
  for (let i = 0; i < 200; i++) {
    c.tickAll();
    c.deliverAll();
  }
  t.deepEqual(c.view('n1'), { role: 'leader', term: 1, leader: 'n1' }, 'the leader was never deposed');
  t.is(c.view('n2').term, 1);
  c.propose('n1', 'still-works');
  c.deliverAll();
  t.deepEqual(c.commands('n2'), ['still-works']);
});

// ---- Reads and leadership transfer -----------------------------------------------------

test('checklist 23: ReadIndex: commit recorded, leadership confirmed by a heartbeat quorum, not before a commit of its term; reads share a round', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  const n1 = c.node('n1');
  c.electVotesOnly('n1');
  t.is(n1.status().role, 'leader');
  n1.readIndex('early');
  c.processAll();
  t.is(
    c.inflight.filter((m) => m.type === 'heartbeat' && m.context !== '').length,
    0,
    'no round before the no-op commits',
  );
  c.deliverAll();
  t.deepEqual(c.readStates.get('n1'), [{ context: 'early', index: 1 }], 'answered once the term committed');

  c.propose('n1', 'w');
  c.deliverAll();
  n1.readIndex('r1');
  n1.readIndex('r2');
  c.processAll();
  const round = c.inflight.filter((m): m is Heartbeat => m.type === 'heartbeat' && m.context !== '');
  t.is(round.length, 2, 'one heartbeat per follower for both reads');
  t.is(round[0]!.context, round[1]!.context);
  t.deepEqual(c.readStates.get('n1')!.slice(1), [], 'not answered before the quorum confirms');
  // One follower's echo plus the leader itself is a quorum of three.
  const [first] = c.take((m) => m.type === 'heartbeat' && m.to === 'n2');
  c.deliver(first!);
  c.process('n2');
  for (const m of c.take((m) => m.from === 'n2')) c.deliver(m);
  c.processAll();
  t.deepEqual(c.readStates.get('n1')!.slice(1), [
    { context: 'r1', index: 2 },
    { context: 'r2', index: 2 },
  ]);

  // Followers forward to the leader.
  c.deliverAll();
  c.node('n3').readIndex('f1');
  c.deliverAll();
  t.deepEqual(c.readStates.get('n3'), [{ context: 'f1', index: 2 }]);

  // A single node answers at once.
  const s = new Cluster(['n1']);
  s.elect('n1');
  s.processAll();
  s.node('n1').readIndex('solo');
  t.deepEqual(drain(s.node('n1')).readStates, [{ context: 'solo', index: 1 }]);

  // A leader that lost its quorum never answers.
  const p = new Cluster(['n1', 'n2', 'n3']);
  p.elect('n1');
  p.isolated.add('n1');
  p.node('n1').readIndex('lost');
  p.deliverAll();
  t.deepEqual(p.readStates.get('n1'), []);
  p.tick('n1', 21);
  p.processAll();
  t.deepEqual(p.readStates.get('n1'), [{ context: 'lost', index: -1 }], 'refused when it steps down');
});

test('checklist 24: transfer: proposals stop, the target catches up, TimeoutNow makes it campaign at once; abandoned after an election timeout', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.cut.add('n1->n3');
  c.propose('n1', 'a');
  c.deliverAll();
  c.cut.delete('n1->n3');
  c.node('n1').transferLeadership('n3');
  t.is(c.node('n1').status().leadTransferee, 'n3');
  t.throws(() => c.propose('n1', 'b'), { instanceOf: ProposalDroppedError });
  c.processAll();
  t.is(c.inflight.filter((m) => m.type === 'timeout-now').length, 0, 'n3 must catch up first');
  c.deliverAll();
  t.is(c.view('n3').role, 'leader', 'n3 campaigned at once despite the lease of n2');
  t.is(c.view('n1').leader, 'n3');
  t.deepEqual(c.commands('n3'), ['a']);

  // Abandoned after an election timeout when the target never answers.
  const d = new Cluster(['n1', 'n2', 'n3']);
  d.elect('n1');
  d.isolated.add('n3');
  d.node('n1').transferLeadership('n3');
  for (let i = 0; i < 9; i++) {
    d.tick('n1');
    d.deliverAll();
  }
  t.throws(() => d.propose('n1', 'x'));
  d.tick('n1');
  d.deliverAll();
  t.is(d.node('n1').status().leadTransferee, null);
  t.notThrows(() => d.propose('n1', 'y'), 'proposals resume');
  t.is(d.view('n1').role, 'leader');
});
