// The driver's options: their types, every default and every validation in one place
// (hashicorp/raft's DefaultConfig + ValidateConfig). resolveNodeOptions() is the only reader
// of a raw NodeOptions; the driver works with what it returns, and nothing else in src/node
// writes `options.x ?? default`.

import { randomInt } from 'node:crypto';
import pino from 'pino';
import type { Logger } from 'pino';
import { RaftCore, SeededPrng } from '../raft/index.js';
import type { NodeId, PersistedState, RaftConfig } from '../raft/index.js';
import type { RaftStorage } from '../storage/index.js';
import type { Transport } from '../transport/index.js';
import type { Metrics } from '../metrics/index.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { CommandCodec, CoreFactory, NodeEvents, StateMachine } from './types.js';

export interface NodeOptions<C, R, S extends StateMachine<C, R> = StateMachine<C, R>> {
  readonly id: NodeId;
  /** Members on first boot (ignored once state was persisted). */
  readonly initialVoters: readonly NodeId[];
  readonly storage: RaftStorage;
  readonly transport: Transport;
  /** Builds the (empty) state machine; called once. */
  readonly stateMachine: () => S;
  readonly codec: CommandCodec<C>;
  /** Event-log view of a command; default: its `type` field and the command itself. */
  readonly describe?: (command: C) => { type: string; payload: unknown };
  /**
   * Whether the command whose result this is changed the state machine; default: always.
   * Commands that changed nothing (a refusal, a replay) are left out of events() and of
   * the `applied` events.
   */
  readonly changed?: (result: R) => boolean;
  // Tunables: defaults in DEFAULT_NODE_TUNING, validation in resolveNodeOptions (below).
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /**
   * The clock-rate difference between members that leader leases allow for (default 0.1);
   * null turns leases off, and consistency=leader reads then take a ReadIndex round.
   */
  readonly maxClockDrift?: number | null;
  readonly maxEntriesPerAppend?: number;
  /** Pipelining window per follower (appends sent but not yet acknowledged). */
  readonly maxInflightAppends?: number;
  /** Applied entries between automatic snapshots (default 50,000; 0 disables). */
  readonly snapshotEvery?: number;
  /** How long a proposal may wait for its entry to apply (default 5,000 ms). */
  readonly proposalTimeoutMs?: number;
  /** How long a read barrier may take (default 5,000 ms). */
  readonly readTimeoutMs?: number;
  /** API base URL of each member, by id, for leader hints and forwarding. */
  readonly apiAddresses?: ReadonlyMap<NodeId, string>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /**
   * Seed of this life's randomness: election jitter, the phase of automatic snapshots, the
   * nonce of its read contexts (default: random). Give every start of a node its own seed.
   */
  readonly seed?: number;
  /** Time and timers (default: the system clock); the simulation passes a virtual one. */
  readonly clock?: Clock;
  /** Builds the consensus core (default: RaftCore); the simulation observes it and tests pass broken ones. */
  readonly core?: CoreFactory;
  /** Listeners in place before the loop starts (its first Ready may already apply entries). */
  readonly listeners?: { readonly [K in keyof NodeEvents]?: (payload: NodeEvents[K]) => void };
}

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

type Listeners = NonNullable<NodeOptions<unknown, unknown>['listeners']>;

/** NodeOptions with every default filled in and every value checked: what the driver runs with. */
export interface ResolvedNodeOptions<C, R, S extends StateMachine<C, R>> extends Pick<
  NodeOptions<C, R, S>,
  'id' | 'initialVoters' | 'storage' | 'transport' | 'stateMachine' | 'codec'
> {
  readonly describe: (command: C) => { type: string; payload: unknown };
  /** null: every command counts as a change. */
  readonly changed: ((result: R) => boolean) | null;
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
  readonly apiAddresses: ReadonlyMap<NodeId, string>;
  readonly logger: Logger;
  /** The core's decisions as debug lines of the caller's logger; null when none was given. */
  readonly coreLogger: RaftConfig['logger'] | null;
  readonly metrics: Metrics | null;
  readonly clock: Clock;
  readonly core: CoreFactory;
  readonly listeners: Listeners;
  /** This life's randomness, all drawn from `seed` (or at random without one). */
  readonly random: {
    /** Seeds the core's PRNG (election jitter). */
    readonly coreSeed: number;
    /** Extra applied entries before the first automatic snapshot, in [0, snapshotEvery / 2]. */
    readonly snapshotDelay: number;
    /** Makes this life's read contexts unique across restarts. */
    readonly readNonce: number;
  };
}

/** Fills in the defaults and refuses values the driver cannot run with (a clear message, at start). */
export function resolveNodeOptions<C, R, S extends StateMachine<C, R>>(
  options: NodeOptions<C, R, S>,
): ResolvedNodeOptions<C, R, S> {
  const d = DEFAULT_NODE_TUNING;
  const snapshotEvery = options.snapshotEvery ?? d.snapshotEvery;
  const o: Omit<ResolvedNodeOptions<C, R, S>, 'random'> = {
    id: options.id,
    initialVoters: options.initialVoters,
    storage: options.storage,
    transport: options.transport,
    stateMachine: options.stateMachine,
    codec: options.codec,
    describe: options.describe ?? defaultDescribe,
    changed: options.changed ?? null,
    tickMs: options.tickMs ?? d.tickMs,
    electionTicks: options.electionTicks ?? d.electionTicks,
    heartbeatTicks: options.heartbeatTicks ?? d.heartbeatTicks,
    preVote: options.preVote ?? d.preVote,
    checkQuorum: options.checkQuorum ?? d.checkQuorum,
    maxClockDrift: options.maxClockDrift === undefined ? d.maxClockDrift : options.maxClockDrift,
    maxEntriesPerAppend: options.maxEntriesPerAppend ?? d.maxEntriesPerAppend,
    maxInflightAppends: options.maxInflightAppends ?? d.maxInflightAppends,
    snapshotEvery,
    proposalTimeoutMs: options.proposalTimeoutMs ?? d.proposalTimeoutMs,
    readTimeoutMs: options.readTimeoutMs ?? d.readTimeoutMs,
    apiAddresses: new Map(options.apiAddresses ?? []),
    logger: options.logger ?? pino({ enabled: false }),
    coreLogger: options.logger ? coreLogger(options.logger) : null,
    metrics: options.metrics ?? null,
    clock: options.clock ?? systemClock,
    core: options.core ?? defaultCore,
    listeners: options.listeners ?? {},
  };
  validate(o);
  return { ...o, random: lifeRandomness(options.seed, snapshotEvery) };
}

function validate<C, R, S extends StateMachine<C, R>>(o: Omit<ResolvedNodeOptions<C, R, S>, 'random'>): void {
  const positive = (name: 'tickMs' | 'proposalTimeoutMs' | 'readTimeoutMs', value: number): void => {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be > 0, got ${value}`);
  };
  positive('tickMs', o.tickMs);
  positive('proposalTimeoutMs', o.proposalTimeoutMs);
  positive('readTimeoutMs', o.readTimeoutMs);
  for (const name of [
    'electionTicks',
    'heartbeatTicks',
    'maxEntriesPerAppend',
    'maxInflightAppends',
  ] as const)
    if (!Number.isInteger(o[name]) || o[name] < 1)
      throw new RangeError(`${name} must be a whole number >= 1`);
  if (o.heartbeatTicks >= o.electionTicks)
    throw new RangeError(
      `heartbeatTicks (${o.heartbeatTicks}) must be below electionTicks (${o.electionTicks})`,
    );
  if (!Number.isInteger(o.snapshotEvery) || o.snapshotEvery < 0)
    throw new RangeError('snapshotEvery must be a whole number >= 0 (0: no automatic snapshots)');
  if (o.maxClockDrift !== null && !(o.maxClockDrift >= 0 && o.maxClockDrift < 1))
    throw new RangeError(`maxClockDrift must be in [0, 1) or null, got ${o.maxClockDrift}`);
}

/**
 * Members that start together would otherwise snapshot at the same indexes, all pausing at
 * once: the first automatic snapshot waits a random extra 0-50 % of the interval. Read
 * contexts must never repeat across restarts: a leader may still answer a request of this
 * node's previous life, and that answer must not release a read of this one (found by the
 * simulation, seed 8918: a stale linearizable read), so each life has its own nonce.
 */
function lifeRandomness(
  seed: number | undefined,
  snapshotEvery: number,
): ResolvedNodeOptions<unknown, unknown, StateMachine<unknown, unknown>>['random'] {
  const spread = Math.floor(snapshotEvery / 2) + 1;
  if (seed === undefined)
    return {
      coreSeed: randomInt(0, 2 ** 31),
      snapshotDelay: randomInt(0, spread),
      readNonce: randomInt(0, 2 ** 47),
    };
  return {
    coreSeed: seed,
    snapshotDelay: new SeededPrng(seed + 1).int(spread),
    readNonce: new SeededPrng(seed + 2).int(2 ** 31),
  };
}

/** The core's configuration for this node (leases only with CheckQuorum, which they rely on). */
export function coreConfig<C, R, S extends StateMachine<C, R>>(o: ResolvedNodeOptions<C, R, S>): RaftConfig {
  return {
    id: o.id,
    initialVoters: o.initialVoters,
    prng: new SeededPrng(o.random.coreSeed),
    ...(o.coreLogger ? { logger: o.coreLogger } : {}),
    electionTicks: o.electionTicks,
    heartbeatTicks: o.heartbeatTicks,
    preVote: o.preVote,
    checkQuorum: o.checkQuorum,
    maxEntriesPerAppend: o.maxEntriesPerAppend,
    maxInflightAppends: o.maxInflightAppends,
    ...(o.maxClockDrift !== null && o.checkQuorum ? { leaseReads: { maxClockDrift: o.maxClockDrift } } : {}),
  };
}

function defaultDescribe(command: unknown): { type: string; payload: unknown } {
  const type =
    typeof command === 'object' && command !== null && 'type' in command && typeof command.type === 'string'
      ? command.type
      : 'command';
  return { type, payload: command };
}

function defaultCore(config: RaftConfig, persisted: PersistedState | undefined): RaftCore {
  return persisted ? new RaftCore(config, persisted) : new RaftCore(config);
}

/** The core's trace events as debug lines of the node's log (hashicorp/raft logs each transition). */
function coreLogger(logger: Logger): (event: string, fields: Record<string, unknown>) => void {
  return (event, fields) => {
    if (logger.isLevelEnabled('debug')) logger.debug({ ...fields, event }, `raft ${event}`);
  };
}
