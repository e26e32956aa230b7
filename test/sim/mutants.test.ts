// The simulation must find real bugs: each deliberately broken core below has to be caught
// within a bounded number of seeds, by a safety check, on a seed the correct core passes.
import test from 'ava';
import { nodesForSeed, replayCommand } from './cli.js';
import { mutants } from './mutants.js';
import { runSimulation } from './simulator.js';

const MAX_SEEDS = 200;
/** Violations that show a broken safety property (not a crash of the core or a liveness timeout). */
const SAFETY = new Set([
  'assertElectionSafety',
  'assertLogMatching',
  'assertLeaderCompleteness',
  'assertStateMachineSafety',
  'assertCommitMonotonic',
  'assertAckedInLeaders',
  'assertLinearizable',
  'assertDurableBeforeSend',
]);

const expected: Record<string, readonly string[]> = {
  'commits by counting (Figure 8)': [
    'assertLeaderCompleteness',
    'assertStateMachineSafety',
    'assertAckedInLeaders',
    'assertLogMatching',
    'assertLinearizable',
  ],
  'votes twice in a term': [
    'assertElectionSafety',
    'assertLeaderCompleteness',
    'assertStateMachineSafety',
    'assertLogMatching',
  ],
};

for (const [name, factory] of Object.entries(mutants)) {
  test(`the simulation catches a core that ${name} within ${MAX_SEEDS} seeds`, (t) => {
    let caught: { seed: number; check: string; message: string } | null = null;
    for (let seed = 1; seed <= MAX_SEEDS && caught === null; seed++) {
      const nodes = nodesForSeed(seed);
      const result = runSimulation({ seed, nodes, factory });
      if (!result.violation || !SAFETY.has(result.violation.check)) continue;
      // The same seed must pass with the correct core: the violation is the mutation's doing.
      const control = runSimulation({ seed, nodes });
      if (control.violation) continue;
      caught = { seed, check: result.violation.check, message: result.violation.message };
    }
    if (caught === null) {
      t.fail(`no safety violation in ${MAX_SEEDS} seeds`);
      return;
    }
    t.log(
      `caught at seed ${caught.seed} (${replayCommand({ seed: caught.seed, nodes: nodesForSeed(caught.seed) })}) by ${caught.message.split('\n')[0]}`,
    );
    t.true(expected[name]!.includes(caught.check), `unexpected check ${caught.check}: ${caught.message}`);
  });
}

test(`the simulation catches a joining node booted with an empty configuration (instead of the initial members) within ${MAX_SEEDS} seeds`, (t) => {
  let caught: string | null = null;
  for (let seed = 1; seed <= MAX_SEEDS && caught === null; seed++) {
    const nodes = nodesForSeed(seed);
    const result = runSimulation({ seed, nodes, joinerBootsEmpty: true });
    if (result.violation && SAFETY.has(result.violation.check) && !runSimulation({ seed, nodes }).violation)
      caught = `seed ${seed}: ${result.violation.message}`;
  }
  t.not(caught, null, `no safety violation in ${MAX_SEEDS} seeds`);
  t.log(caught);
});

test(`the linearizability check catches a driver that answers reads from local state without ReadIndex within ${MAX_SEEDS} seeds`, (t) => {
  let caught: string | null = null;
  for (let seed = 1; seed <= MAX_SEEDS && caught === null; seed++) {
    const result = runSimulation({ seed, nodes: nodesForSeed(seed), localReads: true });
    if (result.violation?.check === 'assertLinearizable')
      caught = `seed ${seed}: ${result.violation.message.split('\n')[0]!}`;
  }
  t.not(caught, null, `no linearizability violation in ${MAX_SEEDS} seeds`);
  t.log(caught);
});
