// `npm run chaos`: the fault-injection suite on real processes in network namespaces.
//   npm run chaos                         3 nodes, then 5 nodes, about 5 minutes each
//   npm run chaos -- --seed 42            replay a run's fault schedule from its seed
//   npm run chaos -- --nodes 5 --minutes 2
//   npm run chaos -- --faults disk-full,kill-leader   only these fault kinds
// Needs root, iproute2 and iptables (test/chaos/setup.sh installs them). Exit 1 on any
// failed check or a recovery over 3 election timeouts.

import { parseArgs } from 'node:util';
import { FAULT_KINDS } from './faults.js';
import { netnsUnavailable } from './netlab.js';
import { formatReport } from './report.js';
import { runChaos } from './run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    nodes: { type: 'string', default: '3,5' },
    minutes: { type: 'string', default: '5' },
    clients: { type: 'string', default: '6' },
    faults: { type: 'string' },
  },
});

const unavailable = netnsUnavailable();
if (unavailable) {
  console.error(`chaos: cannot run here: ${unavailable}`);
  process.exit(2);
}
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 1_000_000);
const wanted = values.faults?.split(',');
for (const k of wanted ?? []) {
  if (!(FAULT_KINDS as readonly string[]).includes(k)) {
    console.error(`chaos: unknown fault ${k}; one of ${FAULT_KINDS.join(', ')}`);
    process.exit(2);
  }
}
const kinds = FAULT_KINDS.filter((k) => wanted?.includes(k) ?? true);
console.log(
  `chaos: seed ${seed} (replay: npm run chaos -- --seed ${seed} --nodes ${values.nodes} --minutes ${values.minutes})`,
);
let failed = false;
for (const nodes of values.nodes.split(',').map(Number)) {
  console.log(`\n== ${nodes} nodes, ${values.minutes} min`);
  const result = await runChaos({
    seed,
    nodes,
    durationMs: Number(values.minutes) * 60_000,
    kinds,
    clients: Number(values.clients),
    log: (line) => console.log(line),
  });
  console.log(`\n${formatReport(result)}`);
  for (const note of result.notes) console.log(note);
  if (result.failures.length > 0) {
    failed = true;
    console.log(`\nFAILED (${result.failures.length}):`);
    for (const f of result.failures) console.log(`  - ${f}`);
  } else {
    console.log('\nall checks passed');
  }
}
console.log(`\nchaos: seed ${seed}: ${failed ? 'FAILED' : 'passed'}`);
process.exit(failed ? 1 : 0);
