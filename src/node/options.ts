// The driver's tunables: every default and every validation in one place (hashicorp/raft's
// DefaultConfig + ValidateConfig). Nothing else in src/node writes `options.x ?? default`.

import type { RaftConfig } from '../raft/index.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { NodeOptions, StateMachine } from './types.js';

export const DEFAULT_NODE_TUNING = {
  tickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  /** Leader leases for consistency=leader reads (needs checkQuorum); null turns them off. */
  maxClockDrift: 0.1 as number | null,
  maxEntriesPerAppend: 512,
  maxInflightAppends: 64,
  /** From the scale table in docs/performance.md: why 50,000 and not etcd's 100,000 is said there. */
  snapshotEvery: 50_000,
  proposalTimeoutMs: 5_000,
  readTimeoutMs: 5_000,
} as const;

export interface ResolvedTuning {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxClockDrift: number | null;
  readonly maxEntriesPerAppend: number;
  readonly maxInflightAppends: number;
  readonly snapshotEvery: number;
  readonly proposalTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly clock: Clock;
}

/** Fills in the defaults and refuses values the driver cannot run with (a clear message, at start). */
export function resolveTuning<C, R, S extends StateMachine<C, R>>(
  options: NodeOptions<C, R, S>,
): ResolvedTuning {
  const d = DEFAULT_NODE_TUNING;
  const t: ResolvedTuning = {
    tickMs: options.tickMs ?? d.tickMs,
    electionTicks: options.electionTicks ?? d.electionTicks,
    heartbeatTicks: options.heartbeatTicks ?? d.heartbeatTicks,
    preVote: options.preVote ?? d.preVote,
    checkQuorum: options.checkQuorum ?? d.checkQuorum,
    maxClockDrift: options.maxClockDrift === undefined ? d.maxClockDrift : options.maxClockDrift,
    maxEntriesPerAppend: options.maxEntriesPerAppend ?? d.maxEntriesPerAppend,
    maxInflightAppends: options.maxInflightAppends ?? d.maxInflightAppends,
    snapshotEvery: options.snapshotEvery ?? d.snapshotEvery,
    proposalTimeoutMs: options.proposalTimeoutMs ?? d.proposalTimeoutMs,
    readTimeoutMs: options.readTimeoutMs ?? d.readTimeoutMs,
    clock: options.clock ?? systemClock,
  };
  const positive = (name: keyof ResolvedTuning, value: number): void => {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be > 0, got ${value}`);
  };
  positive('tickMs', t.tickMs);
  positive('proposalTimeoutMs', t.proposalTimeoutMs);
  positive('readTimeoutMs', t.readTimeoutMs);
  for (const name of [
    'electionTicks',
    'heartbeatTicks',
    'maxEntriesPerAppend',
    'maxInflightAppends',
  ] as const)
    if (!Number.isInteger(t[name]) || t[name] < 1)
      throw new RangeError(`${name} must be a whole number >= 1`);
  if (t.heartbeatTicks >= t.electionTicks)
    throw new RangeError(
      `heartbeatTicks (${t.heartbeatTicks}) must be below electionTicks (${t.electionTicks})`,
    );
  if (!Number.isInteger(t.snapshotEvery) || t.snapshotEvery < 0)
    throw new RangeError('snapshotEvery must be a whole number >= 0 (0: no automatic snapshots)');
  if (t.maxClockDrift !== null && !(t.maxClockDrift >= 0 && t.maxClockDrift < 1))
    throw new RangeError(`maxClockDrift must be in [0, 1) or null, got ${t.maxClockDrift}`);
  return t;
}

/** The core's configuration for this node (leases only with CheckQuorum, which they rely on). */
export function coreConfig(
  t: ResolvedTuning,
  base: Pick<RaftConfig, 'id' | 'initialVoters' | 'prng' | 'logger'>,
): RaftConfig {
  return {
    ...base,
    electionTicks: t.electionTicks,
    heartbeatTicks: t.heartbeatTicks,
    preVote: t.preVote,
    checkQuorum: t.checkQuorum,
    maxEntriesPerAppend: t.maxEntriesPerAppend,
    maxInflightAppends: t.maxInflightAppends,
    ...(t.maxClockDrift !== null && t.checkQuorum ? { leaseReads: { maxClockDrift: t.maxClockDrift } } : {}),
  };
}
