// The simulation must find real bugs: each deliberately broken core or driver below has to be
// caught within a bounded number of seeds, by the check named for the property it breaks, on
// a seed the correct code passes.
import test from 'ava';
import type { RaftCore } from '../../src/raft/index.js';
import type { PersistedState, RaftConfig } from '../../src/raft/index.js';
import { nodesForSeed, replayCommand } from './cli.js';
import {
  CommitsByCountingCore,
  DefersForeverCore,
  ReadsBeforeTermCommitCore,
  SkipsTermOnlySavesNode,
  VotesTwiceCore,
} from './mutants.js';
import { runSimulation } from './simulator.js';
import type { SimOptions } from './simulator.js';

const MAX_SEEDS = 200;

type Build = (config: RaftConfig, persisted: PersistedState | undefined) => RaftCore;
const core =
  (Mutant: typeof RaftCore): Build =>
  (config, persisted) =>
    persisted ? new Mutant(config, persisted) : new Mutant(config);

interface Mutant {
  readonly name: string;
  /** What to change in a run. */
  readonly options: Partial<SimOptions>;
  /** The checks that may catch it (the property it breaks). */
  readonly caughtBy: readonly string[];
}

const mutants: readonly Mutant[] = [
  {
    name: 'a core that commits earlier-term entries by counting replicas (Figure 8)',
    options: { core: core(CommitsByCountingCore) },
    caughtBy: [
      'assertLeaderCompleteness',
      'assertStateMachineSafety',
      'assertAckedInLeaders',
      'assertLogMatching',
      'assertLinearizable',
    ],
  },
  {
    name: 'a core that votes twice in a term',
    options: { core: core(VotesTwiceCore) },
    caughtBy: [
      'assertElectionSafety',
      'assertLeaderCompleteness',
      'assertStateMachineSafety',
      'assertLogMatching',
    ],
  },
  {
    name: 'a driver that skips term-only hard states (the double vote of b8e8934)',
    options: { driver: SkipsTermOnlySavesNode },
    caughtBy: ['assertDurableBeforeSend', 'assertElectionSafety'],
  },
  {
    name: 'a pre-candidate that defers to a lower id in every round (elections that never finish)',
    options: { core: core(DefersForeverCore), partialPhase: true },
    caughtBy: ['assertLiveness'],
  },
  {
    name: 'a leader that serves reads before an entry of its term has committed',
    options: { core: core(ReadsBeforeTermCommitCore) },
    caughtBy: ['assertLinearizable'],
  },
  {
    name: 'a joining node booted with only itself as the initial configuration',
    options: { joinerBootsAlone: true },
    caughtBy: [
      'assertElectionSafety',
      'assertLogMatching',
      'assertStateMachineSafety',
      'assertLeaderCompleteness',
    ],
  },
  {
    name: 'a driver that answers linearizable reads from local state without ReadIndex',
    options: { localReads: true },
    caughtBy: ['assertLinearizable'],
  },
];

for (const mutant of mutants) {
  test(`the simulation catches ${mutant.name} within ${MAX_SEEDS} seeds`, async (t) => {
    let caught: { seed: number; check: string; message: string } | null = null;
    const seen: string[] = [];
    for (let seed = 1; seed <= MAX_SEEDS && caught === null; seed++) {
      const nodes = nodesForSeed(seed);
      const result = await runSimulation({ seed, nodes, ...mutant.options });
      const check = result.violation?.check;
      if (check === undefined) continue;
      if (!mutant.caughtBy.includes(check)) {
        seen.push(`seed ${seed}: ${check}`);
        continue;
      }
      // The same seed must pass with the correct code: the violation is the mutation's doing.
      const {
        core: _c,
        driver: _d,
        joinerBootsAlone: _j,
        localReads: _l,
        ...control
      } = { seed, nodes, ...mutant.options };
      if ((await runSimulation(control)).violation) continue;
      caught = { seed, check, message: result.violation!.message };
    }
    if (caught === null) {
      t.fail(`not caught in ${MAX_SEEDS} seeds (other violations: ${seen.join('; ') || 'none'})`);
      return;
    }
    t.log(
      `caught at seed ${caught.seed} (${replayCommand({ seed: caught.seed, nodes: nodesForSeed(caught.seed) })}) by ${caught.message.split('\n')[0]!.slice(0, 300)}`,
    );
    t.pass();
  });
}
