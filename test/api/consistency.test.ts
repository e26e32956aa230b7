// Read consistency levels: linearizable (default, ReadIndex; a follower asks the leader),
// leader (forwarded to the leader), stale (local state, answered even when cut off).

import test from 'ava';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';
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
