// The core's public shapes besides the messages: its configuration, the state it is
// restarted from, and the status it reports.

import type { LeaseConfig } from './lease.js';
import type { Prng } from './prng.js';
import type { ProgressState } from './progress.js';
import type { ConfState, Entry, HardState, LogIndex, NodeId, Role, Snapshot, Term } from './messages.js';

export interface RaftConfig {
  readonly id: NodeId;
  /** Configuration used only when there is no snapshot: every initial member must get the same list. */
  readonly initialVoters: readonly NodeId[];
  /** A follower campaigns after (E, 2E] ticks without hearing from a leader (E = electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxEntriesPerAppend: number;
  /** Pipelining window per follower (appends sent but not yet acknowledged). */
  readonly maxInflightAppends: number;
  readonly prng: Prng;
  /**
   * Leader leases for reads without a quorum round (leaseReadIndex). Needs checkQuorum. Every
   * member of a cluster must agree: with it, a node also honours, for one election timeout
   * after it restarts, any lease it may have granted before a crash.
   */
  readonly leaseReads?: LeaseConfig;
  /** Every decision the core takes (role changes, votes, step-downs...), as an event and key/values. */
  readonly logger?: (event: string, fields: Record<string, unknown>) => void;
}

/** What the driver loaded from storage on restart. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** All entries after snapshot.meta.index, in order. */
  readonly entries: readonly Entry[];
}

export interface ProgressStatus {
  readonly id: NodeId;
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: ProgressState;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly leader: NodeId | null;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  readonly lastIndex: LogIndex;
  /** Term of the entry at lastIndex (the snapshot's term when the log is empty). */
  readonly lastTerm: Term;
  readonly firstIndex: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly config: ConfState;
  readonly configContext: Record<NodeId, string>;
  /** The leader's view of every member, itself and learners included; empty on non-leaders. */
  readonly progress: readonly ProgressStatus[];
  readonly leadTransferee: NodeId | null;
}
