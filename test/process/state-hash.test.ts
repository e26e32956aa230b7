// The event log rebuilds the store: a member restarted from its data dir alone (no
// snapshot taken, so it replays every entry) reaches the same state hash as the others.

import test from 'ava';
import { ProcessCluster, sleep } from '../helpers/process-cluster.js';
import { getJson, postJson } from '../helpers/load.js';
import { waitCaughtUp } from '../helpers/failover.js';

interface StateHash {
  applied: number;
  hash: string;
}

async function hashes(cluster: ProcessCluster): Promise<StateHash[]> {
  return Promise.all(
    cluster.nodes.map(async (n) => (await getJson<StateHash>(`${n.url}/cluster/state-hash`)).body),
  );
}

test('a member restarted from its data dir reconstructs the same state hash as the others', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, tickMs: 50, snapshotEvery: 1_000_000 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader(20_000);
  const post = async (route: string, body: unknown): Promise<void> => {
    const res = await postJson(`${leader.url}/api/v1/${route}`, body);
    t.is(res.status, 201, `${route}: ${JSON.stringify(res.body)}`);
  };
  await post('printers', { id: 'p1', company: 'Prusa', model: 'MK4' });
  await post('filaments', {
    id: 'f1',
    type: 'PLA',
    color: 'red',
    total_weight_in_grams: 1000,
    remaining_weight_in_grams: 800,
  });
  for (let i = 0; i < 5; i++) {
    await post('print_jobs', {
      id: `j${i}`,
      printer_id: 'p1',
      filament_id: 'f1',
      filepath: `prints/part${i}.gcode`,
      print_weight_in_grams: 50,
    });
  }
  for (const [job, status] of [
    ['j0', 'Running'],
    ['j0', 'Done'],
    ['j1', 'Canceled'],
    ['j2', 'Running'],
  ] as const) {
    const res = await postJson(`${leader.url}/api/v1/print_jobs/${job}/status?status=${status}`, {});
    t.is(res.status, 200, JSON.stringify(res.body));
  }
  await waitCaughtUp(cluster);
  const before = await hashes(cluster);
  t.is(new Set(before.map((h) => h.hash)).size, 1, `all members agree: ${JSON.stringify(before)}`);

  const follower = cluster.nodes.find((n) => n.id !== leader.id)!;
  t.is(await cluster.terminate(follower.id), 0);
  cluster.startNode(follower.id);
  const deadline = Date.now() + 20_000;
  let after: StateHash | null = null;
  while (Date.now() < deadline) {
    try {
      after = (await getJson<StateHash>(`${follower.url}/cluster/state-hash`)).body;
      if (after.applied >= before[0]!.applied) break;
    } catch {
      // still starting
    }
    await sleep(100);
  }
  t.is(after?.applied, before[0]!.applied);
  t.is(after?.hash, before[0]!.hash, 'replaying the log rebuilt the same state');
});
