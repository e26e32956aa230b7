// `npm run failover -- [--trials 20]`: kill -9 the leader of a busy 3-node cluster of real
// processes again and again, and print how long each time it took until a surviving node
// accepted a write (min, p50, p90, max, and every sample), for the docs and issue notes.
// At the end it checks that every node holds every write acknowledged during the run, and
// exits 1 if one is missing.

import { parseArgs } from 'node:util';
import { ProcessCluster } from '../test/helpers/process-cluster.js';
import { LoadWriter, printerIds } from '../test/helpers/load.js';
import { measureFailovers, waitCaughtUp } from '../test/helpers/failover.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '20' } } });
const trials = Number(values.trials);

const cluster = await ProcessCluster.start({ size: 3, tickMs: 50, electionTicks: 10 });
const writer = new LoadWriter(() => cluster.nodes.filter((n) => n.process).map((n) => n.url), 'busy', 4);
try {
  await cluster.waitForLeader(30_000);
  writer.start();
  const samples = await measureFailovers(cluster, writer, trials);
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  console.log(
    `failover after kill -9 of the leader, ${trials} trials (tick 50 ms, election timeout 550-1000 ms):`,
  );
  console.log(
    `  min ${at(0).toFixed(0)} ms, p50 ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`,
  );
  console.log(`  samples: ${samples.map((s) => s.toFixed(0)).join(', ')}`);
  await writer.stop();
  await waitCaughtUp(cluster);
  const lost: string[] = [];
  for (const node of cluster.nodes) {
    const ids = await printerIds(node.url);
    const missing = writer.acks.filter((a) => !ids.has(a.id));
    if (missing.length > 0) lost.push(`${node.id} lacks ${missing.length} (e.g. ${missing[0]!.id})`);
  }
  console.log(
    `  acknowledged writes during the run: ${writer.acks.length}; ` +
      (lost.length === 0 ? `all present on all ${cluster.nodes.length} nodes` : `LOST: ${lost.join('; ')}`),
  );
  if (lost.length > 0) process.exitCode = 1;
} finally {
  await writer.stop();
  await cluster.stop();
}
