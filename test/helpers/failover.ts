// One failover measurement, shared by the kill -9 test and `npm run failover`: kill the
// leader, then probe the survivors with writes until one is acknowledged. The time from
// the kill to that acknowledgement is what a client sees as the outage.

import type { ProcessCluster } from './process-cluster.js';
import { sleep } from './process-cluster.js';
import type { LoadWriter } from './load.js';
import { postJson } from './load.js';

export async function measureFailover(
  cluster: ProcessCluster,
  writer: LoadWriter | null,
  trial: number,
): Promise<number> {
  const leader = await cluster.waitForLeader(20_000);
  const survivors = cluster.nodes.filter((n) => n.process && n.id !== leader.id);
  await sleep(300);
  const killedAt = performance.now();
  await cluster.kill(leader.id);
  let probe = 0;
  for (;;) {
    const results = await Promise.all(
      survivors.map(async (node) => {
        const id = `probe-${trial}-${probe++}`;
        try {
          const res = await postJson(
            `${node.url}/api/v1/printers`,
            { id, company: 'Voron', model: '2.4' },
            1000,
          );
          if (res.status === 201) writer?.acks.push({ id, at: performance.now() });
          return res.status === 201;
        } catch {
          return false;
        }
      }),
    );
    if (results.some(Boolean)) break;
    if (performance.now() - killedAt > 30_000)
      throw new Error(`no write accepted within 30 s of killing ${leader.id}\n${cluster.dump()}`);
    await sleep(10);
  }
  const elapsed = performance.now() - killedAt;
  cluster.startNode(leader.id);
  await waitCaughtUp(cluster);
  return elapsed;
}

export async function measureFailovers(
  cluster: ProcessCluster,
  writer: LoadWriter | null,
  trials: number,
): Promise<number[]> {
  const samples: number[] = [];
  for (let trial = 0; trial < trials; trial++) samples.push(await measureFailover(cluster, writer, trial));
  return samples;
}

/** Until every running node has applied what the leader had committed when we asked. */
export async function waitCaughtUp(cluster: ProcessCluster, timeoutMs = 30_000): Promise<void> {
  const leader = await cluster.waitForLeader(timeoutMs);
  const target = (await cluster.status(leader.id))?.commit ?? 0;
  const deadline = Date.now() + timeoutMs;
  for (const node of cluster.nodes.filter((n) => n.process)) {
    while (((await cluster.status(node.id))?.applied ?? -1) < target) {
      if (Date.now() > deadline)
        throw new Error(`${node.id} did not catch up to ${target}\n${cluster.dump()}`);
      await sleep(50);
    }
  }
}
