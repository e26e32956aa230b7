// Read consistency levels: linearizable (default, ReadIndex; a follower asks the leader),
// leader (forwarded to the leader), stale (local state, answered even when cut off).

import test from 'ava';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';
import { leaseTicks } from '../../src/raft/index.js';
import { assertProblem, get, post } from './client.js';

let cluster: InProcessCluster;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 3, readTimeoutMs: 1_000 });
  await cluster.waitForLeader();
});
test.after.always(async () => {
  await cluster.stop();
});

const ids = (body: unknown): string[] => (body as { id: string }[]).map((x) => x.id);

test.serial(
  'a default (linearizable) read on a follower sees every write the leader acknowledged',
  async (t) => {
    const leader = await cluster.waitForLeader();
    const followers = cluster.followers(leader.id);
    for (let i = 0; i < 10; i++) {
      const id = `lin${i}`;
      t.is((await post(leader.url, '/api/v1/printers', { id, company: 'C', model: 'M' })).status, 201);
      const follower = followers[i % followers.length]!;
      const read = await get(follower.url, `/api/v1/printers/${id}`);
      t.is(read.status, 200, `follower ${follower.id} missed ${id} (seed ${cluster.seed}): ${read.text}`);
      const explicit = await get(follower.url, `/api/v1/printers/${id}?consistency=linearizable`);
      t.is(explicit.status, 200);
    }
  },
);

test.serial('consistency=leader on a follower is answered by the leader', async (t) => {
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  t.is((await post(leader.url, '/api/v1/printers', { id: 'lead1', company: 'C', model: 'M' })).status, 201);
  const read = await get(follower.url, '/api/v1/printers?consistency=leader');
  t.is(read.status, 200, read.text);
  t.is(read.headers.get('x-raft3d-leader'), leader.id);
  t.true(ids(read.body).includes('lead1'));
  const onLeader = await get(leader.url, '/api/v1/printers?consistency=leader');
  t.is(onLeader.status, 200);
});

test.serial(
  'a cut-off follower still answers stale reads but refuses linearizable ones with 503/504',
  async (t) => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.followers(leader.id)[0]!;
    t.is(
      (await post(leader.url, '/api/v1/printers', { id: 'pre-cut', company: 'C', model: 'M' })).status,
      201,
    );
    await cluster.waitForApplied(leader.node.status().applied, [follower.id]);
    cluster.isolate(follower.id);
    try {
      t.is(
        (await post(leader.url, '/api/v1/printers', { id: 'while-cut', company: 'C', model: 'M' })).status,
        201,
      );
      const stale = await get(follower.url, '/api/v1/printers?consistency=stale');
      t.is(stale.status, 200);
      t.true(ids(stale.body).includes('pre-cut'));
      t.false(ids(stale.body).includes('while-cut'), 'a cut-off follower cannot know the newer write');
      const linear = await get(follower.url, '/api/v1/printers');
      t.true(linear.status === 503 || linear.status === 504, `got ${linear.status}: ${linear.text}`);
      assertProblem(t, linear, linear.status);
    } finally {
      cluster.heal();
    }
    await cluster.waitForLeader();
    // Healed: the linearizable read now sees the write.
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++) {
      const read = await get(follower.url, '/api/v1/printers');
      seen = read.status === 200 && ids(read.body).includes('while-cut');
      if (!seen) await sleep(20);
    }
    t.true(seen);
  },
);

/** consistency=leader reads the leader served, by how: under its lease, or after a ReadIndex round. */
async function leaderReads(
  metrics: InProcessCluster['members'][number]['metrics'],
): Promise<Record<string, number>> {
  const values = (await metrics.leaseReads.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.path), v.value]));
}

test.serial(
  'consistency=leader on a healthy leader is served under its lease, with no quorum round',
  async (t) => {
    const leader = await cluster.waitForLeader();
    t.is(
      (await post(leader.url, '/api/v1/printers', { id: 'lease1', company: 'C', model: 'M' })).status,
      201,
    );
    await sleep(cluster.tickMs * 3); // a few heartbeat rounds renew the lease
    const before = await leaderReads(leader.metrics);
    for (let i = 0; i < 20; i++) {
      const read = await get(leader.url, '/api/v1/printers/lease1?consistency=leader');
      t.is(read.status, 200, read.text);
    }
    const after = await leaderReads(leader.metrics);
    const lease = (after.lease ?? 0) - (before.lease ?? 0);
    const fallback = (after.read_index ?? 0) - (before.read_index ?? 0);
    t.is(lease + fallback, 20);
    t.true(lease >= 15, `only ${lease} of 20 under the lease (seed ${cluster.seed})`);
  },
);

test.serial(
  'consistency=leader on a leader cut off from its followers falls back to ReadIndex and fails, never answers stale',
  async (t) => {
    const leader = await cluster.waitForLeader();
    for (const f of cluster.followers(leader.id)) cluster.isolate(f.id);
    try {
      // Past the lease (E = 20 ticks, 10 % drift: 16 ticks), about when CheckQuorum steps down.
      await sleep(cluster.tickMs * (leaseTicks(cluster.electionTicks, { maxClockDrift: 0.1 }) + 2));
      const read = await get(leader.url, '/api/v1/printers?consistency=leader');
      t.true(read.status === 503 || read.status === 504, `got ${read.status}: ${read.text}`);
      assertProblem(t, read, read.status);
    } finally {
      cluster.heal();
    }
    await cluster.waitForLeader();
  },
);
