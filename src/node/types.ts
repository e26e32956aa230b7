// The shapes the node driver works with: the state machine and codec it is generic over,
// the status it reports and the events it emits (its options are in options.ts). The driver is written
// against these structural interfaces, so any FSM with apply/snapshot/restore fits.

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
