// kill -9 the leader of a busy 3-node cluster of real processes: a new leader must accept
// writes within 2 s, no acknowledged write may be lost, and the killed node, restarted
// from its data dir, catches up by snapshot because the leader compacted past it.
// RAFT3D_FAILOVER_TRIALS (default 3) sets how many kills; `npm run failover` runs 20 and
// prints the distribution.

import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.js';
import { LoadWriter, postJson, printerIds } from '../helpers/load.js';
import { measureFailovers, waitCaughtUp } from '../helpers/failover.js';

const TRIALS = Number(process.env['RAFT3D_FAILOVER_TRIALS'] ?? 3);

test('kill -9 of the leader: new leader within 2 s, nothing acknowledged is lost, restarted node catches up by snapshot', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, tickMs: 50, electionTicks: 10, snapshotEvery: 200 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader(20_000);

  const writer = new LoadWriter(() => cluster.nodes.filter((n) => n.process).map((n) => n.url), 'busy', 4);
  writer.start();
  try {
    const samples = await measureFailovers(cluster, writer, TRIALS);
    t.log(`failover times (ms): ${samples.map((s) => s.toFixed(0)).join(', ')}`);
    for (const ms of samples)
      t.true(ms < 2000, `a new leader took ${ms.toFixed(0)} ms to accept a write\n${cluster.dump()}`);

    // One more kill, with enough writes while it is down that the leader compacts past it.
    const leader = await cluster.waitForLeader();
    const before = await cluster.status(leader.id);
    await cluster.kill(leader.id);
    const lastIndexAtKill = before?.commit ?? 0;
    const survivor = await cluster.waitForLeader(10_000, [leader.id]);
    for (let i = 0; i < 600; i++) {
      const res = await postJson(`${survivor.url}/api/v1/printers`, {
        id: `gap-${i}`,
        company: 'Bambu',
        model: 'X1C',
      });
      if (res.status === 201) writer.acks.push({ id: `gap-${i}`, at: performance.now() });
    }
    const survivorStatus = (await cluster.status(survivor.id)) as { snapshotIndex?: number } | null;
    t.true(
      (survivorStatus?.snapshotIndex ?? 0) > lastIndexAtKill,
      'the leader compacted its log past the killed node',
    );
    cluster.startNode(leader.id);
  } finally {
    await writer.stop();
  }

  // Every node, including the restarted one, ends with every acknowledged write.
  await waitCaughtUp(cluster);
  t.true(writer.acks.length > 100, `the cluster was busy (${writer.acks.length} acknowledged writes)`);
  for (const node of cluster.nodes) {
    const ids = await printerIds(node.url);
    const missing = writer.acks.filter((a) => !ids.has(a.id)).map((a) => a.id);
    t.deepEqual(missing.slice(0, 10), [], `${node.id} lost ${missing.length} acknowledged writes`);
  }
});
