// The cluster simulation as part of `npm test`: a few hundred fixed seeds, 3- and 5-node
// clusters, each running real RaftNodes. A failure prints the seed's replay command and the
// tail of its trace.
import test from 'ava';
import { replayCommand } from './cli.js';
import { runSimulation } from './simulator.js';
import type { SimResult } from './simulator.js';

function report(result: SimResult): string {
  return [
    `seed ${result.seed} (${result.nodes} nodes): ${result.violation?.message ?? ''}`,
    `replay: ${replayCommand(result)}`,
    ...result.trace.slice(-25),
  ].join('\n');
}

const chunks: { nodes: number; from: number; to: number }[] = [];
for (let s = 1; s <= 200; s += 50) chunks.push({ nodes: 3, from: s, to: s + 49 });
for (let s = 1; s <= 100; s += 50) chunks.push({ nodes: 5, from: s, to: s + 49 });

for (const { nodes, from, to } of chunks) {
  test(`${nodes} nodes, seeds ${from}..${to}: every safety property holds after every step, histories are linearizable, and the cluster recovers after the faults heal`, async (t) => {
    const failures: string[] = [];
    let committed = 0;
    for (let seed = from; seed <= to; seed++) {
      const result = await runSimulation({ seed, nodes });
      committed += result.stats.committed;
      if (result.violation) failures.push(report(result));
    }
    t.deepEqual(failures, [], failures.join('\n\n'));
    // The runs must do real work, or the checks above are vacuous.
    t.true(committed > (to - from + 1) * 10, `only ${committed} entries committed in ${to - from + 1} seeds`);
  });
}

test('a seed replays exactly', async (t) => {
  const a = await runSimulation({ seed: 4242, nodes: 3 });
  const b = await runSimulation({ seed: 4242, nodes: 3 });
  t.deepEqual(a.stats, b.stats);
  t.deepEqual(a.trace, b.trace);
});

/** Seeds that once found a bug (kept so it stays fixed), with what they found. */
const regressions: readonly { seed: number; nodes: number; found: string }[] = [
  {
    seed: 3746,
    nodes: 3,
    found:
      'a local snapshot being encoded when a leader snapshot arrived stopped the node (compaction raced the install)',
  },
];

for (const r of regressions) {
  test(`regression seed ${r.seed} (${r.nodes} nodes): ${r.found}`, async (t) => {
    const result = await runSimulation({ seed: r.seed, nodes: r.nodes });
    t.is(result.violation, null, result.violation ? report(result) : '');
  });
}
