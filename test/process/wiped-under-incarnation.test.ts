// A member wiped while the leader is itself a new incarnation must still rejoin. The joiner
// knows only the first configuration (n1, n2, n3); the leader `n1~x` was in none of it, so the
// joiner's transport refused every message of the leader that had just added it as a learner,
// and it stayed at applied 0 for ever (chaos seed 401, 5 nodes: n3 wiped, later leading, then
// n5 wiped). An incarnation runs where its base member ran, so the transport reaches it there.

import test from 'ava';
import { baseOf } from '../../src/membership/index.js';
import { ProcessCluster, sleep } from '../helpers/process-cluster.js';
import type { NodeStatusView, ProcessNode } from '../helpers/process-cluster.js';

/** Waits until some node leads with a voter of base `base` that is an incarnation, caught up everywhere. */
async function rejoined(cluster: ProcessCluster, base: string, what: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const views = await Promise.all(cluster.nodes.map((n) => cluster.status(n.id)));
    const leader = views.find((v): v is NodeStatusView => v?.role === 'leader');
    const voter = leader?.config.voters.find((v) => baseOf(v) === base && v !== base);
    const mine = views.find((v): v is NodeStatusView => v !== null && v.id === voter);
    if (voter !== undefined && mine !== undefined && leader !== undefined && mine.applied >= leader.commit)
      return voter;
    if (Date.now() > deadline)
      throw new Error(`${what}: ${base} never rejoined:\n${JSON.stringify(views)}\n${cluster.dump()}`);
    await sleep(100);
  }
}

async function rewipe(cluster: ProcessCluster, id: string): Promise<void> {
  await cluster.kill(id);
  cluster.wipe(id);
  cluster.startNode(id, ['--initial-cluster-state=existing']);
}

test('a member wiped while an incarnation leads rejoins and catches up', async (t) => {
  t.timeout(150_000);
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const first = await cluster.waitForLeader(30_000);
  const write = async (via: ProcessNode, model: string): Promise<void> => {
    const res = await fetch(`${via.url}/api/v1/printers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ company: 'Prusa', model }),
    });
    t.is(res.status, 201, await res.text());
  };
  await write(first, 'MK4');

  // 1. A follower loses its data and comes back as an incarnation; it is made the leader.
  const [a, b] = cluster.nodes.filter((n) => n !== first);
  if (!a || !b) return t.fail();
  await rewipe(cluster, a.id);
  const incarnation = await rejoined(cluster, a.id, 'first wipe');
  const res = await fetch(`${first.url}/cluster/transfer-leadership`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to: incarnation }),
  });
  t.is(res.status, 200, await res.text());
  t.is((await cluster.status(a.id))?.role, 'leader', `${incarnation} leads`);
  await write(a, 'XL');

  // 2. Another member loses its data while the incarnation leads: it must rejoin too.
  await rewipe(cluster, b.id);
  const second = await rejoined(cluster, b.id, 'second wipe');
  t.not(second, b.id);
  const printers = (await (await fetch(`${b.url}/api/v1/printers`)).json()) as { model: string }[];
  t.deepEqual(printers.map((p) => p.model).sort(), ['MK4', 'XL']);
});
