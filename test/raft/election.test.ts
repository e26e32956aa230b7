import test from 'ava';
import { RaftCore, SeededPrng } from '../../src/raft/index.js';
import type { VoteRequest, VoteResponse } from '../../src/raft/index.js';
import { Cluster, drain, solo, testConfig } from './helpers.js';
import type { ClusterOptions } from './helpers.js';

/** Ticks until the core leaves the follower role; returns the number of ticks it took. */
function ticksToCampaign(core: RaftCore): number {
  for (let i = 1; i <= 1000; i++) {
    core.tick();
    if (core.status().role !== 'follower') return i;
  }
  throw new Error('never campaigned');
}

test('election timeouts are drawn from the injected PRNG in (E, 2E]', (t) => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 200; seed++) {
    const core = new RaftCore(testConfig('n1', ['n1', 'n2', 'n3'], { prng: new SeededPrng(seed) }));
    const n = ticksToCampaign(core);
    t.true(n > 10 && n <= 20, `seed ${seed}: campaigned after ${n} ticks`);
    seen.add(n);
  }
  t.true(seen.size >= 8, `jitter spreads timeouts (saw ${[...seen].join(',')})`);
  const a = new RaftCore(testConfig('n1', ['n1', 'n2', 'n3'], { prng: new SeededPrng(77) }));
  const b = new RaftCore(testConfig('n1', ['n1', 'n2', 'n3'], { prng: new SeededPrng(77) }));
  t.is(ticksToCampaign(a), ticksToCampaign(b), 'the same seed replays the same timeout');
});

test('the first follower to time out is past the lease of a peer whose clock is one tick behind', (t) => {
  // Both followers heard the leader's last heartbeat, then the leader died. n2's tick timer
  // runs one tick ahead of n3's. Whenever n2 campaigns, n3 must already be out of its
  // lease and answer the PreVote: with timeouts in [E, 2E) it ignored it when n2 drew
  // exactly E, and if n2 held the longer log the election then took a second timeout.
  for (let seed = 1; seed <= 60; seed++) {
    const c = new Cluster(['n1', 'n2', 'n3'], { seed });
    c.elect('n1');
    c.propose('n1', 'x');
    c.deliverAll();
    c.isolated.add('n1');
    const n2 = c.node('n2');
    let ticks = 0;
    while (n2.status().role === 'follower') {
      c.tick('n2');
      ticks++;
      if (n2.status().role === 'follower') c.tick('n3');
    }
    c.processAll();
    const preVote = c.take((m) => m.type === 'vote-request' && m.to === 'n3');
    t.is(preVote.length, 1, `seed ${seed}`);
    c.deliver(preVote[0]!);
    c.processAll();
    const answer = c.take((m) => m.type === 'vote-response' && m.to === 'n2');
    t.is(
      answer.length,
      1,
      `seed ${seed}: n3 (${ticks - 1} ticks since the heartbeat) ignored the PreVote of n2 (${ticks})`,
    );
    t.true((answer[0] as VoteResponse).granted, `seed ${seed}`);
  }
});

test('two survivors that time out together do not split the vote: the lower id, or the longer log, wins', (t) => {
  for (const longer of [null, 'n2', 'n3'] as const) {
    for (let seed = 1; seed <= 40; seed++) {
      const c = new Cluster(['n1', 'n2', 'n3'], { seed });
      c.elect('n1');
      c.propose('n1', 'x');
      c.deliverAll();
      if (longer !== null) {
        // One more entry reaches only `longer` before the leader dies.
        c.propose('n1', 'y');
        c.processAll();
        c.take((m) => m.type === 'append' && m.to !== longer);
        c.deliverAll();
      }
      c.isolated.add('n1');
      const term = c.node('n2').status().term;
      // Both time out before either hears from the other.
      for (const id of ['n2', 'n3'] as const) while (c.node(id).status().role === 'follower') c.tick(id);
      c.deliverAll();
      const expected = longer ?? 'n2';
      const where = `seed ${seed}, longer log on ${longer ?? 'neither'}`;
      t.deepEqual(c.view(expected), { role: 'leader', term: term + 1, leader: expected }, where);
      t.is(c.view(expected === 'n2' ? 'n3' : 'n2').role, 'follower', where);
    }
  }
});

test('a follower that keeps hearing heartbeats never campaigns', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  for (let i = 0; i < 100; i++) {
    c.tickAll();
    c.deliverAll();
  }
  t.deepEqual(c.view('n1'), { role: 'leader', term: 1, leader: 'n1' });
  t.deepEqual(c.view('n2'), { role: 'follower', term: 1, leader: 'n1' });
});

test('PreVote: a pre-candidate asks for term+1 without changing its own term or vote', (t) => {
  const n1 = solo('n1', ['n1', 'n2', 'n3'], { hardState: { term: 4, vote: 'n2', commit: 0 } });
  ticksToCampaign(n1);
  const rd = drain(n1);
  t.is(n1.status().role, 'pre-candidate');
  t.is(rd.hardState, undefined, 'nothing to persist: term and vote unchanged');
  const reqs = rd.messages as VoteRequest[];
  t.deepEqual(
    reqs.map((m) => [m.to, m.term, m.preVote]),
    [
      ['n2', 5, true],
      ['n3', 5, true],
    ],
  );
  // A granted PreVote (term 5) makes it a real candidate in term 5.
  n1.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 5, preVote: true, granted: true });
  t.is(n1.status().role, 'candidate');
  t.is(n1.status().term, 5);
  const rd2 = drain(n1);
  t.deepEqual(
    rd2.hardState,
    { term: 5, vote: 'n1', commit: 0 },
    'the self-vote is persisted with the requests',
  );
  t.true(rd2.messages.every((m) => m.type === 'vote-request' && !m.preVote && m.term === 5));
});

test('a pre-candidate refused by a majority goes back to follower in the same term', (t) => {
  const n1 = solo('n1', ['n1', 'n2', 'n3']);
  ticksToCampaign(n1);
  n1.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 0, preVote: true, granted: false });
  n1.step({ type: 'vote-response', from: 'n3', to: 'n1', term: 0, preVote: true, granted: false });
  t.like(n1.status(), { role: 'follower', term: 0 });
});

test('a candidate refused by a majority steps back to follower', (t) => {
  const n1 = solo('n1', ['n1', 'n2', 'n3'], undefined, { preVote: false });
  ticksToCampaign(n1);
  const term = n1.status().term;
  const no = (from: string): VoteResponse => ({
    type: 'vote-response',
    from,
    to: 'n1',
    term,
    preVote: false,
    granted: false,
  });
  n1.step(no('n2'));
  t.is(n1.status().role, 'candidate');
  n1.step(no('n3'));
  t.like(n1.status(), { role: 'follower', term });
});

test('a candidate that hears from a leader of its term follows it', (t) => {
  const n1 = solo('n1', ['n1', 'n2', 'n3'], undefined, { preVote: false });
  ticksToCampaign(n1);
  const term = n1.status().term;
  n1.step({ type: 'heartbeat', from: 'n2', to: 'n1', term, commit: 0, context: '' });
  t.like(n1.status(), { role: 'follower', term, leader: 'n2' });
});

test('granting a vote resets the election timer; a PreVote grant does not record a vote', (t) => {
  const n2 = solo('n2', ['n1', 'n2', 'n3']);
  n2.step({
    type: 'vote-request',
    from: 'n1',
    to: 'n2',
    term: 1,
    preVote: true,
    lastLogIndex: 0,
    lastLogTerm: 0,
    transfer: false,
  });
  const rd = drain(n2);
  t.is(rd.hardState, undefined);
  t.like(rd.messages[0] as VoteResponse, { granted: true, term: 1, preVote: true });
  t.like(n2.status(), { term: 0 });
});

test('a node outside the voters never campaigns, even on TimeoutNow', (t) => {
  const n4 = solo('n4', ['n1', 'n2', 'n3']);
  for (let i = 0; i < 100; i++) n4.tick();
  n4.step({ type: 'timeout-now', from: 'n1', to: 'n4', term: 0 });
  t.like(n4.status(), { role: 'follower', term: 0 });
  t.false(n4.hasReady());
});

test('five nodes elect exactly one leader per term under random ticking', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const c = new Cluster(['a', 'b', 'c', 'd', 'e'], { seed: seed * 10 });
    const prng = new SeededPrng(seed);
    const leaders = new Map<number, string>();
    for (let step = 0; step < 300; step++) {
      const ids = [...c.nodes.keys()];
      c.tick(ids[prng.int(ids.length)]!);
      c.processAll();
      // deliver in a random order, dropping some
      const msgs = c.take();
      for (const m of msgs) if (prng.next() > 0.1) c.deliver(m);
      for (const id of ids) {
        const v = c.view(id);
        if (v.role !== 'leader') continue;
        const prev = leaders.get(v.term);
        t.true(
          prev === undefined || prev === id,
          `seed ${seed}: two leaders in term ${v.term}: ${prev} and ${id}`,
        );
        leaders.set(v.term, id);
      }
    }
    t.true(leaders.size > 0, `seed ${seed}: someone got elected`);
  }
});

/** Cuts both directions of every listed link. */
function cutBoth(c: Cluster, links: readonly (readonly [string, string])[]): void {
  for (const [a, b] of links) {
    c.cut.add(`${a}->${b}`);
    c.cut.add(`${b}->${a}`);
  }
}

/** A 5-voter cluster led by n1 with every log equal, then the given links cut and nodes down. */
function fiveWithLayout(
  layout: { down: readonly string[]; cut: readonly (readonly [string, string])[] },
  make?: ClusterOptions['make'],
): Cluster {
  const c = new Cluster(['n1', 'n2', 'n3', 'n4', 'n5'], make ? { make } : {});
  c.elect('n1');
  c.propose('n1', 'x');
  c.deliverAll();
  for (const id of layout.down) c.isolated.add(id);
  cutBoth(c, layout.cut);
  return c;
}

/** A leader of the current term that has committed an entry of its term after the layout changed. */
function committingLeader(c: Cluster): string | null {
  const id = c.leader();
  if (id === null) return null;
  const s = c.node(id).status();
  const last = c.logOf(id).at(-1);
  return s.commit === s.lastIndex && last !== undefined && last[1] === s.term && s.term > 1 ? id : null;
}

const bridge = { down: ['n3', 'n4'], cut: [['n1', 'n2']] as const };
const star = {
  down: [],
  cut: [
    ['n1', 'n2'],
    ['n1', 'n3'],
    ['n1', 'n4'],
    ['n2', 'n3'],
    ['n2', 'n4'],
    ['n3', 'n4'],
  ] as const,
};

test('checklist 27: a bridge is elected: two voters down, n1-n2 cut, n5 linked to both', (t) => {
  const c = fiveWithLayout(bridge);
  const ticks = c.runUntil(() => committingLeader(c) !== null, 2000);
  t.not(
    ticks,
    null,
    `no leader after 2000 ticks: ${JSON.stringify(['n1', 'n2', 'n5'].map((id) => c.view(id)))}`,
  );
  t.is(committingLeader(c), 'n5', 'only n5 reaches a quorum both ways');
  t.log(`n5 leads and commits ${ticks} ticks after the cut`);
});

test('checklist 27: the hub of a star is elected: all five up, n5 linked to all, the others cut pairwise', (t) => {
  const c = fiveWithLayout(star);
  const ticks = c.runUntil(() => committingLeader(c) !== null, 2000);
  t.not(ticks, null, 'no leader after 2000 ticks');
  t.is(committingLeader(c), 'n5');
  t.log(`n5 leads and commits ${ticks} ticks after the cut`);
});

class DefersForeverCore extends RaftCore {
  protected override preVoteDeferralRounds(): number {
    return Infinity;
  }
}

test('checklist 27: the preVoteDeferralRounds seam is what elects the bridge and the hub (a core that defers in every round never does)', (t) => {
  for (const layout of [bridge, star]) {
    const c = fiveWithLayout(layout, (config, persisted) =>
      persisted ? new DefersForeverCore(config, persisted) : new DefersForeverCore(config),
    );
    t.is(
      c.runUntil(() => committingLeader(c) !== null, 2000),
      null,
      'the old rule (a pre-candidate always refuses a higher id) must fail here, or this test proves nothing',
    );
  }
});
