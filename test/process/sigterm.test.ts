// SIGTERM (what `kubectl delete pod` sends) to the leader: it hands leadership to the most
// caught-up follower before it exits, so writes are unavailable for well under one
// election timeout, and the process exits 0.

import test from 'ava';
import { ProcessCluster, sleep } from '../helpers/process-cluster.js';
import { LoadWriter } from '../helpers/load.js';

const TICK_MS = 50;
const ELECTION_TICKS = 10;

test('SIGTERM of the leader transfers leadership: the write gap stays under one election timeout', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, tickMs: TICK_MS, electionTicks: ELECTION_TICKS });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader(20_000);
  const survivors = cluster.nodes.filter((n) => n.id !== leader.id);
  const writer = new LoadWriter(() => survivors.map((n) => n.url), 'term', 4);
  writer.start();
  await sleep(500);
  const from = performance.now();
  const code = await cluster.terminate(leader.id);
  await cluster.waitForLeader(10_000, [leader.id]);
  await sleep(1000);
  const to = performance.now();
  await writer.stop();

  t.is(code, 0, `the old leader exited cleanly\n${leader.output.slice(-2000)}`);
  const gap = writer.longestGap(from, to);
  t.log(
    `longest write gap around SIGTERM: ${gap.toFixed(0)} ms (election timeout ${TICK_MS * ELECTION_TICKS}-${2 * TICK_MS * ELECTION_TICKS} ms)`,
  );
  t.true(gap < TICK_MS * ELECTION_TICKS, `writes were unavailable for ${gap.toFixed(0)} ms`);
});
