// The short variant of `npm run chaos` (test/chaos/): about a minute of seeded faults on 3
// and then 5 real processes in network namespaces, under the concurrent workload, then every
// check (linearizability per job, nothing acknowledged lost, convergence, weights, stale
// reads, recovery within 3 election timeouts of each heal). Skips, saying why, where network
// namespaces cannot be made. R3D_CHAOS_SEED replays another schedule.

import test from 'ava';
import { FAULT_KINDS } from '../chaos/faults.js';
import { netnsUnavailable } from '../chaos/netlab.js';
import { formatReport } from '../chaos/report.js';
import { runChaos } from '../chaos/run.js';

const unavailable = netnsUnavailable();
if (unavailable) console.log(`chaos: skipped, network namespaces cannot be made here: ${unavailable}`);
const netnsTest = unavailable ? test.skip : test.serial;
const seed = Number(process.env['R3D_CHAOS_SEED'] ?? 7);
const kinds = FAULT_KINDS;

for (const nodes of [3, 5]) {
  netnsTest(
    `${nodes} nodes survive a minute of seeded faults with every check passing (seed ${seed})`,
    async (t) => {
      t.timeout(170_000);
      const result = await runChaos({ seed: seed + nodes, nodes, durationMs: 55_000, kinds, clients: 4 });
      t.log(`replay: npm run chaos -- --seed ${seed + nodes} --nodes ${nodes} --minutes 0.92`);
      t.log(formatReport(result));
      for (const note of result.notes.filter((n) => !n.startsWith('node output'))) t.log(note);
      t.true(result.faults.length >= 5, `only ${result.faults.length} faults ran`);
      t.deepEqual(result.failures, [], result.notes.join('\n'));
    },
  );
}
