// Majorities on real processes: a 5-node cluster keeps writing with two members down; a
// 3-node cluster with two down refuses writes with 503 (not a hang, not a half-applied
// write) and loses nothing once they return.

import test from 'ava';
import { ProcessCluster, sleep } from '../helpers/process-cluster.js';
import { postJson, printerIds } from '../helpers/load.js';
import { waitCaughtUp } from '../helpers/failover.js';

async function writeMany(url: string, prefix: string, count: number): Promise<string[]> {
  const acked: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const res = await postJson(`${url}/api/v1/printers`, { id, company: 'Creality', model: 'K1' });
    if (res.status !== 201)
      throw new Error(`write ${id} to ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
    acked.push(id);
  }
  return acked;
}

test('a 5-node cluster survives two failures, including the leader', async (t) => {
  const cluster = await ProcessCluster.start({ size: 5, tickMs: 50 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader(20_000);
  const acked = await writeMany(leader.url, 'before', 20);
  const follower = cluster.nodes.find((n) => n.id !== leader.id)!;
  await cluster.kill(leader.id);
  await cluster.kill(follower.id);
  const next = await cluster.waitForLeader(10_000, [leader.id, follower.id]);
  acked.push(...(await writeMany(next.url, 'during', 20)));
  cluster.startNode(leader.id);
  cluster.startNode(follower.id);
  await waitCaughtUp(cluster);
  for (const node of cluster.nodes) {
    const ids = await printerIds(node.url);
    t.deepEqual(
      acked.filter((id) => !ids.has(id)),
      [],
      `${node.id} is missing acknowledged writes`,
    );
  }
});

test('a 3-node cluster with two members down answers writes with 503 and loses nothing', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, tickMs: 50 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader(20_000);
  const acked = await writeMany(leader.url, 'before', 10);
  const down = cluster.nodes.filter((n) => n.id !== leader.id);
  for (const node of down) await cluster.kill(node.id);

  // CheckQuorum: the lone leader steps down within about an election timeout.
  const deadline = Date.now() + 5_000;
  while ((await cluster.status(leader.id))?.role === 'leader' && Date.now() < deadline) await sleep(50);
  t.not((await cluster.status(leader.id))?.role, 'leader', 'a leader without a quorum stepped down');

  const refused = await postJson(`${leader.url}/api/v1/printers`, {
    id: 'no-quorum',
    company: 'Elegoo',
    model: 'Neptune',
  });
  t.is(refused.status, 503, JSON.stringify(refused.body));
  t.regex(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
  t.truthy(refused.headers.get('retry-after'));

  for (const node of down) cluster.startNode(node.id);
  const back = await cluster.waitForLeader(20_000);
  acked.push(...(await writeMany(back.url, 'after', 10)));
  await waitCaughtUp(cluster);
  for (const node of cluster.nodes) {
    const ids = await printerIds(node.url);
    t.deepEqual(
      acked.filter((id) => !ids.has(id)),
      [],
      `${node.id} is missing acknowledged writes`,
    );
    t.false(ids.has('no-quorum'), 'the refused write was not applied later');
  }
});
