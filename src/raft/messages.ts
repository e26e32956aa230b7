// Types that cross the boundary of the consensus core: log entries, hard state,
// snapshots, peer messages and the Ready batch. Everything here is plain data
// (no classes), so storage and transport can encode it and the simulation can copy it.

/** A member's stable identity (pod name on Kubernetes, `n1`.. locally). */
export type NodeId = string;
export type Term = number;
export type LogIndex = number;

/** Voting and non-voting members. Learners replicate but neither vote nor count for commit. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/**
 * One single-server membership change. `context` is opaque to the core; the driver uses
 * it to carry e.g. the new member's peer address.
 */
export interface ConfChange {
  readonly kind: 'add-learner' | 'promote' | 'remove';
  readonly node: NodeId;
  readonly context?: string;
}

interface EntryBase {
  readonly index: LogIndex;
  readonly term: Term;
}

/** An opaque application command (the FSM decodes `data`). */
export interface CommandEntry extends EntryBase {
  readonly type: 'command';
  readonly data: Uint8Array;
}

/** The empty entry a new leader appends at once (Raft §5.4.2, §8). */
export interface NoopEntry extends EntryBase {
  readonly type: 'noop';
}

/** A membership change; it takes effect when appended, not when committed (dissertation §4.1). */
export interface ConfigEntry extends EntryBase {
  readonly type: 'config';
  readonly change: ConfChange;
}

export type Entry = CommandEntry | NoopEntry | ConfigEntry;

/** What must be durable before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId | null;
  readonly commit: LogIndex;
}

export interface SnapshotMeta {
  /** Last log index covered by the snapshot. */
  readonly index: LogIndex;
  /** Term of the entry at `index`. */
  readonly term: Term;
  /** Configuration in force at `index`. */
  readonly config: ConfState;
  /** Contexts of the config entries folded into `config` (e.g. peer addresses), by node. */
  readonly configContext: Readonly<Record<NodeId, string>>;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine's serialized state at `meta.index` (opaque to the core). */
  readonly data: Uint8Array;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/** RequestVote, or a PreVote probe when `preVote` (then `term` is the term the sender would campaign in). */
export interface VoteRequest extends MessageBase {
  readonly type: 'vote-request';
  readonly preVote: boolean;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  /** Set when a leadership transfer (TimeoutNow) started this election: bypasses the leader lease. */
  readonly transfer: boolean;
}

export interface VoteResponse extends MessageBase {
  readonly type: 'vote-response';
  readonly preVote: boolean;
  readonly granted: boolean;
}

export interface AppendRequest extends MessageBase {
  readonly type: 'append';
  readonly prevIndex: LogIndex;
  readonly prevTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
}

export interface AppendResponse extends MessageBase {
  readonly type: 'append-response';
  readonly success: boolean;
  /**
   * On success: the highest index the follower now knows matches the leader
   * (prevIndex + entries.length). On rejection: the prevIndex that was rejected.
   */
  readonly index: LogIndex;
  /** On rejection, the fast-backtracking hint (dissertation §5.3 / etcd's findConflictByTerm). */
  readonly rejectHint?: {
    /** Term of the follower's entry at `hintIndex`, or 0 if none. */
    readonly conflictTerm: Term;
    /**
     * The follower's best guess of where the logs may match: the last index <= min(index,
     * its lastIndex) whose term is <= the rejected prevTerm. The leader then skips back to its
     * own last index <= hintIndex with term <= conflictTerm: a whole term per round trip.
     */
    readonly hintIndex: LogIndex;
  };
}

/** Leader liveness, commit propagation and ReadIndex confirmation in one message. */
export interface Heartbeat extends MessageBase {
  readonly type: 'heartbeat';
  /** min(leader commit, follower's match index): never tells a follower to commit what it may not hold. */
  readonly commit: LogIndex;
  /** ReadIndex round this heartbeat confirms leadership for ('' when none). */
  readonly context: string;
}

export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeat-response';
  readonly context: string;
}

export interface InstallSnapshot extends MessageBase {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Sent by a leader transferring leadership: campaign now, even inside a lease. */
export interface TimeoutNow extends MessageBase {
  readonly type: 'timeout-now';
}

/** A follower asks the leader for a read index on behalf of its own client (etcd's MsgReadIndex). */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'read-index';
  readonly context: string;
}

export interface ReadIndexResponse extends MessageBase {
  readonly type: 'read-index-response';
  readonly context: string;
  /** The index the follower must have applied before answering; -1 if the leader refused. */
  readonly index: LogIndex;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state the driver wants to know about when it changes (not persisted). */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: Term;
}

/** A linearizable read is safe once the local applied index reaches `index`. */
export interface ReadState {
  readonly context: string;
  readonly index: LogIndex;
}

/**
 * A batch of work for the driver. THE READY CONTRACT (everything else points here):
 *  1. Persist `snapshot` (if any), `entries` (overwriting any stored entry at or after
 *     `entries[0].index`) and `hardState` (if any), durably (fsync), whenever `mustSync`
 *     (ready.ts) says so against the last hard state *saved*. A hard state in which only
 *     `commit` moved need not be written: a crash that loses it only means relearning the
 *     commit index from the leader.
 *  2. Only then send `messages`. One exception, and only on the leader: its `append` and
 *     `heartbeat` messages may leave before (in parallel with) its own write (dissertation
 *     §10.2.1), because the leader counts itself towards commit only for entries an
 *     `advance()` confirmed durable. Every other message (vote grants, append
 *     acknowledgements, anything a follower or candidate sends) waits for the write.
 *  3. Restore the FSM from `snapshot` (if any), then apply `committedEntries` in order.
 *     The committed entries may be applied while the write of step 1 is in flight (etcd's
 *     server does the same), because the core hands out only entries an earlier `advance()`
 *     confirmed durable; a snapshot is restored only after it is written.
 *  4. Call `advance(ready)`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
}
