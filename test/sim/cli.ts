// `npm run sim -- --seeds N [--start S] [--nodes 3|5] [--verbose]`: runs N seeds of the
// cluster simulation and prints, last, `sim: <N> seeds, <V> violations` (exit 1 if V > 0).
// A failing seed prints the command that replays it and the tail of its trace.
import { pathToFileURL } from 'node:url';
import { runSimulation } from './simulator.js';
import type { SimResult } from './simulator.js';

interface Args {
  seeds: number;
  start: number;
  nodes: number | null;
  verbose: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seeds: 100, start: 1, nodes: null, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v)) throw new Error(`${a} needs an integer`);
      return v;
    };
    if (a === '--seeds') args.seeds = value();
    else if (a === '--start') args.start = value();
    else if (a === '--nodes') {
      const n = value();
      if (n !== 3 && n !== 5) throw new Error('--nodes must be 3 or 5');
      args.nodes = n;
    } else if (a === '--verbose') args.verbose = true;
    else throw new Error(`unknown argument ${a} (usage: --seeds N [--start S] [--nodes 3|5] [--verbose])`);
  }
  return args;
}

/** Which cluster size a seed runs with when --nodes is not given: mixes 3 and 5 (two of three seeds use 3). */
export function nodesForSeed(seed: number): number {
  return seed % 3 === 0 ? 5 : 3;
}

export function replayCommand(result: Pick<SimResult, 'seed' | 'nodes'>): string {
  return `npm run sim -- --seeds 1 --start ${result.seed} --nodes ${result.nodes}`;
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const started = performance.now();
  let violations = 0;
  const totals = new Map<string, number>();
  const add = (key: string, n: number): void => void totals.set(key, (totals.get(key) ?? 0) + n);
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.start + i;
    const nodes = args.nodes ?? nodesForSeed(seed);
    const result = await runSimulation({
      seed,
      nodes,
      traceLines: args.verbose ? 400 : 40,
      traceMessages: args.verbose,
    });
    const st = result.stats;
    add('events', st.events);
    add('leaders', st.leaders);
    add('committed entries', st.committed);
    add('client ops ok', st.opsOk);
    for (const [level, n] of Object.entries(st.reads)) add(`reads ${level}`, n);
    for (const [kind, n] of Object.entries(st.faults)) add(`fault ${kind}`, n);
    if (st.partial) {
      add('still partial partitions', 1);
      if (st.partial.electable) add('  of which electable (liveness property applied)', 1);
    }
    if (result.violation) {
      violations++;
      console.log(`\nseed ${seed} (${nodes} nodes) FAILED: ${result.violation.message}`);
      console.log(`  replay: ${replayCommand(result)}   (add --verbose for a message-level trace)`);
      console.log('  trace tail:');
      for (const line of result.trace) console.log(`    ${line}`);
    } else if (args.verbose) {
      console.log(`seed ${seed} (${nodes} nodes) ok ${JSON.stringify(result.stats)}`);
    }
    if (!args.verbose && (i + 1) % 1000 === 0)
      console.log(
        `... ${i + 1} seeds, ${violations} violations, ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\n${args.seeds} seeds in ${seconds.toFixed(1)} s (${(args.seeds / seconds).toFixed(1)} seeds/s); totals:`,
  );
  for (const [key, n] of totals) console.log(`  ${key}: ${n}`);
  console.log(`sim: ${args.seeds} seeds, ${violations} violations`);
  process.exit(violations > 0 ? 1 : 0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
