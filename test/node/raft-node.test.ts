// The node driver against real cores in one process (MemoryStorage + InProcessTransport):
// proposals settle on apply on every node, leadership fails over, followers refuse writes
// with a leader hint, reads go through ReadIndex, and proposals share durable writes.

import test from 'ava';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';
import { NoLeaderError, NotLeaderError, ProposalLostError, TimeoutError } from '../../src/node/index.js';
import type { ShopCommand, ShopResult } from '../../src/fsm/index.js';

const at = 1_700_000_000_000;
const printer = (id: string): ShopCommand => ({
  type: 'printer.create',
  at,
  printer: { id, company: 'Creality', model: 'Ender 3' },
});

function ok(result: ShopResult): unknown {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}`);
  return result.value;
}

test('a single node elects itself and applies proposals, settling each promise with its result', async (t) => {
  const cluster = await InProcessCluster.start({ size: 1, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const value = ok(await leader.node.propose(printer('p1')));
  t.like(value, { id: 'p1', company: 'Creality' });
  const dup = await leader.node.propose(printer('p1'));
  t.false(dup.ok);
  if (!dup.ok) t.is(dup.error.code, 'duplicate_id');
  await leader.node.readBarrier();
  t.deepEqual(
    leader.node.fsm.listPrinters().map((p) => p.id),
    ['p1'],
  );
  t.true(leader.node.status().ready);
});

test('in a 3-node cluster a proposal applies on every node', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  for (let i = 0; i < 5; i++) ok(await leader.node.propose(printer(`p${i}`)));
  const applied = leader.node.status().applied;
  await cluster.waitForApplied(applied);
  for (const m of cluster.members)
    t.is(m.node.fsm.listPrinters().length, 5, `seed ${cluster.seed} node ${m.id}`);
  const status = leader.node.status();
  t.is(status.role, 'leader');
  t.is(status.peers.length, 2);
  for (const p of status.peers) t.true(p.match >= 0 && p.lag >= 0);
});

test('a follower refuses a proposal with NotLeaderError naming the leader', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  const error = await t.throwsAsync(follower.node.propose(printer('x')), { instanceOf: NotLeaderError });
  t.is(error.leader, leader.id);
  t.is(error.code, 'not_leader');
});

test('when the leader is cut off the others elect a new leader and keep accepting writes', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const old = await cluster.waitForLeader();
  ok(await old.node.propose(printer('before')));
  cluster.isolate(old.id);
  const others = cluster.followers(old.id).map((m) => m.id);
  const next = await cluster.waitForLeader({ among: others });
  t.not(next.id, old.id);
  t.true(next.node.status().term > 0);
  ok(await next.node.propose(printer('after')));
  // The old leader steps down (CheckQuorum) and cannot commit anything on its own.
  const lost = old.node.propose(printer('lost')).then(
    () => 'applied',
    (error: unknown) => error,
  );
  cluster.heal();
  await cluster.waitForLeader();
  const outcome = await lost;
  t.true(
    outcome instanceof NotLeaderError ||
      outcome instanceof NoLeaderError ||
      outcome instanceof ProposalLostError ||
      outcome instanceof TimeoutError,
    `unexpected outcome ${String(outcome)}`,
  );
  await cluster.waitForApplied(next.node.status().applied);
  for (const m of cluster.members) {
    t.deepEqual(
      m.node.fsm.listPrinters().map((p) => p.id),
      ['before', 'after'],
      `node ${m.id} seed ${cluster.seed}`,
    );
  }
});

test('a linearizable read on a follower sees a write the leader acknowledged', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  for (let i = 0; i < 20; i++) {
    ok(await leader.node.propose(printer(`r${i}`)));
    await follower.node.readBarrier();
    t.truthy(
      follower.node.fsm.getPrinter(`r${i}`),
      `follower missed r${i} after a read barrier (seed ${cluster.seed})`,
    );
  }
});

test('many concurrent proposals share durable writes (group commit)', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const before = leader.storage.saves;
  const n = 500;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => leader.node.propose(printer(`g${i}`))),
  );
  t.true(results.every((r) => r.ok));
  const saves = leader.storage.saves - before;
  t.true(saves < n / 5, `${saves} durable writes for ${n} proposals`);
  t.is(leader.node.fsm.listPrinters().length, n);
});

test('one write per proposal on each node: a commit index alone is never written (it is re-learned)', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  await follower.node.readBarrier();
  const before = { leader: leader.storage.saves, follower: follower.storage.saves };
  for (let i = 0; i < 10; i++) ok(await leader.node.propose(printer(`s${i}`)));
  await follower.node.readBarrier();
  await sleep(200); // heartbeats carry the last commit index to the follower
  t.is(follower.node.status().commit, leader.node.status().commit);
  t.is(
    leader.storage.saves - before.leader,
    10,
    'the leader wrote each entry once, and no commit-only hard state',
  );
  t.is(
    follower.storage.saves - before.follower,
    10,
    'the follower wrote each entry once, and no commit-only hard state',
  );
});

test('events come from the log, and a compacted range reports where history starts', async (t) => {
  const cluster = await InProcessCluster.start({ size: 1, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const seen: number[] = [];
  const off = leader.node.on('applied', (e) => seen.push(e.index));
  for (let i = 0; i < 3; i++) ok(await leader.node.propose(printer(`e${i}`)));
  off();
  t.is(seen.length, 3);
  const page = leader.node.events(0, 100);
  if ('compacted' in page) return t.fail('not compacted yet');
  const creates = page.events.filter((e) => e.type === 'printer.create');
  t.deepEqual(
    creates.map((e) => e.index),
    seen,
  );
  t.like(creates[0]!.payload, { id: 'e0' });
  const meta = await leader.node.takeSnapshot();
  t.is(meta.index, leader.node.status().applied);
  const after = leader.node.events(0, 100);
  t.deepEqual(after, { compacted: meta.index + 1 });
  const tail = leader.node.events(meta.index, 100);
  t.false('compacted' in tail);
  return undefined;
});

test('role events report leadership changes', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const changes: string[] = [];
  const offs = cluster.members.map((m) => m.node.on('role', (c) => changes.push(`${m.id}:${c.role}`)));
  const target = cluster.followers(leader.id)[0]!.id;
  const to = await leader.node.transferLeadership(target);
  t.is(to, target);
  await cluster.waitForLeader();
  offs.forEach((off) => off());
  t.true(changes.includes(`${target}:leader`), changes.join(','));
  t.true(changes.includes(`${leader.id}:follower`), changes.join(','));
});

test('a stopped node rejects new work', async (t) => {
  const cluster = await InProcessCluster.start({ size: 1, http: false });
  const leader = await cluster.waitForLeader();
  await cluster.stop();
  await t.throwsAsync(leader.node.propose(printer('z')), { code: 'node_stopped' } as never);
  await sleep(1);
});

test('a proposal on a leader that loses its quorum fails with ProposalLostError when it steps down', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false, proposalTimeoutMs: 10_000 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  cluster.isolate(leader.id);
  const error = await t.throwsAsync(leader.node.propose(printer('orphan')), {
    instanceOf: ProposalLostError,
  });
  t.is(error.code, 'proposal_lost');
  cluster.heal();
  const next = await cluster.waitForLeader();
  await cluster.waitForApplied(next.node.status().applied);
  for (const m of cluster.members)
    t.is(m.node.fsm.getPrinter('orphan'), undefined, `node ${m.id} applied a lost proposal`);
});

test('a proposal that cannot commit in time fails with TimeoutError', async (t) => {
  const cluster = await InProcessCluster.start({
    size: 3,
    http: false,
    checkQuorum: false,
    proposalTimeoutMs: 200,
  });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  for (const f of cluster.followers(leader.id)) cluster.isolate(f.id);
  const started = Date.now();
  const error = await t.throwsAsync(leader.node.propose(printer('slow')), { instanceOf: TimeoutError });
  t.is(error.code, 'timeout');
  t.true(Date.now() - started >= 190);
});

test('a restarted node recovers its state from storage and rejoins', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  for (let i = 0; i < 5; i++) ok(await leader.node.propose(printer(`s${i}`)));
  const follower = cluster.followers(leader.id)[0]!;
  await cluster.waitForApplied(leader.node.status().applied, [follower.id]);
  await follower.node.takeSnapshot();
  ok(await leader.node.propose(printer('s5')));
  await cluster.waitForApplied(leader.node.status().applied, [follower.id]);
  await cluster.stopNode(follower.id);
  ok(await leader.node.propose(printer('while-down')));
  await cluster.restartNode(follower.id);
  await cluster.waitForApplied(leader.node.status().applied, [follower.id]);
  t.deepEqual(
    cluster
      .node(follower.id)
      .fsm.listPrinters()
      .map((p) => p.id),
    ['s0', 's1', 's2', 's3', 's4', 's5', 'while-down'],
  );
});

test('automatic snapshots: each member after 1-1.5x snapshotEvery entries, then every snapshotEvery, while writes go on', async (t) => {
  const every = 40;
  const cluster = await InProcessCluster.start({ size: 3, http: false, snapshotEvery: every });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const firsts = new Map<string, number>();
  const offs = cluster.members.map((m) =>
    m.node.on('applied', () => {
      const index = m.node.status().snapshotIndex;
      if (index > 0 && !firsts.has(m.id)) firsts.set(m.id, index);
    }),
  );
  // Concurrent writes, so entries keep applying while snapshots are encoded and stored.
  for (let round = 0; round < 10; round++)
    await Promise.all(Array.from({ length: 20 }, (_, i) => leader.node.propose(printer(`s${round}-${i}`))));
  await cluster.waitForApplied(leader.node.status().commit);
  offs.forEach((off) => off());
  for (const m of cluster.members) {
    const first = firsts.get(m.id);
    t.truthy(first, `${m.id} took an automatic snapshot`);
    t.true(first! >= every && first! <= every * 1.5 + 20, `${m.id} first snapshot at ${first}`);
    const status = m.node.status();
    t.true(
      status.applied - status.snapshotIndex < every + 20,
      `${m.id} keeps snapshotting (${status.snapshotIndex} of ${status.applied})`,
    );
    // The log really was compacted: events before the snapshot are gone.
    t.deepEqual(m.node.events(0, 10), { compacted: status.snapshotIndex + 1 });
  }
  // Every member ends with the same state, snapshots and all.
  const shops = cluster.members.map((m) => m.node.fsm.listPrinters().length);
  t.deepEqual(shops, [200, 200, 200]);
});

test('on-demand snapshots queue behind one in flight and each resolves once stored', async (t) => {
  const cluster = await InProcessCluster.start({ size: 1, http: false });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  for (let i = 0; i < 30; i++) ok(await leader.node.propose(printer(`q${i}`)));
  const first = leader.node.takeSnapshot();
  const more = leader.node.propose(printer('q-late'));
  const second = leader.node.takeSnapshot();
  ok(await more);
  const [a, b] = await Promise.all([first, second]);
  t.true(a.index >= 30);
  t.true(b.index >= a.index);
  t.is(leader.node.status().snapshotIndex, b.index);
  // A third with nothing new applied returns the stored one.
  const c = await leader.node.takeSnapshot();
  if (leader.node.status().applied === b.index) t.deepEqual(c, b);
  else t.true(c.index > b.index);
});
