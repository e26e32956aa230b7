// The shapes the node driver works with: the state machine and codec it is generic over,
// its options, the status it reports and the events it emits. The driver is written
// against these structural interfaces, so any FSM with apply/snapshot/restore fits.

import type { Logger } from 'pino';
import type {
  ConfState,
  LogIndex,
  NodeId,
  PersistedState,
  RaftConfig,
  RaftCore,
  Role,
  Term,
} from '../raft/index.js';
import type { Clock } from './clock.js';
import type { RaftStorage } from '../storage/index.js';
import type { Transport } from '../transport/index.js';
import type { Metrics } from '../metrics/index.js';

/** hashicorp/raft's FSM in TypeScript: deterministic apply, versioned snapshot bytes. */
export interface StateMachine<C, R> {
  apply(command: C, meta: { index: LogIndex; term: Term }): R;
  snapshot(): Uint8Array;
  /**
   * Optional: capture the state now and encode it later, a slice per `next()`, the last
   * returning the same bytes snapshot() would have. The node then takes its automatic and
   * on-demand snapshots without blocking the event loop for the whole encoding; the state
   * machine must keep the captured state unchanged meanwhile (e.g. immutable records).
   */
  captureSnapshot?(): Iterator<void, Uint8Array, void>;
  restore(bytes: Uint8Array): void;
}

/** How commands travel inside log entries. */
export interface CommandCodec<C> {
  encode(command: C): Uint8Array;
  decode(bytes: Uint8Array): C;
}

/** One applied change, as the event log and the SSE stream show it. */
export interface DecodedEvent {
  readonly index: LogIndex;
  readonly term: Term;
  readonly type: string;
  readonly payload: unknown;
}

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
  // Tunables: defaults and validation in options.ts (DEFAULT_NODE_TUNING, resolveTuning).
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
  /** Applied entries between automatic snapshots (default 10,000; 0 disables). */
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

export type CoreFactory = (config: RaftConfig, persisted: PersistedState | undefined) => RaftCore;

export interface PeerStatus {
  readonly id: NodeId;
  readonly match: LogIndex;
  /** How many entries the peer is behind the leader's last index. */
  readonly lag: number;
  readonly state?: string;
  /** Milliseconds since the leader last received a message from this peer (null: never). */
  readonly lastContactMs: number | null;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly leader: NodeId | null;
  readonly leaderApi: string | null;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly lastIndex: LogIndex;
  /** Only on the leader: each other member's replication progress. */
  readonly peers: readonly PeerStatus[];
  /** On a follower: milliseconds since it last heard from its leader (null: no leader, never, or this is the leader). */
  readonly lastContactMs: number | null;
  readonly config: ConfState;
  /** Has a leader and has applied what the leader had committed when this node joined it. */
  readonly ready: boolean;
}

export interface RoleChange {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: Term;
  readonly previousRole: Role;
  readonly previousLeader: NodeId | null;
}

export interface NodeEvents {
  role: RoleChange;
  applied: DecodedEvent;
  /** The state machine was replaced by a snapshot from the leader. */
  restored: { readonly index: LogIndex; readonly term: Term };
}

export type EventsPage =
  { readonly events: DecodedEvent[]; readonly next: LogIndex } | { readonly compacted: LogIndex };
