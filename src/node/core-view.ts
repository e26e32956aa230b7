// The driver's read-only view of the consensus core, taken from RaftCore.status(). Keeping
// the mapping in one place means a change in the core's status shape touches one file.

import type { ConfState, LogIndex, NodeId, RaftCore, Role, Term } from '../raft/index.js';

export interface ProgressView {
  readonly id: NodeId;
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: string;
}

export interface CoreView {
  readonly role: Role;
  readonly term: Term;
  readonly leader: NodeId | null;
  readonly commit: LogIndex;
  readonly lastIndex: LogIndex;
  readonly firstIndex: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly config: ConfState;
  readonly configContext: Readonly<Record<NodeId, string>>;
  /** The leader's replication progress per member (empty on followers). */
  readonly progress: readonly ProgressView[];
  readonly leadTransferee: NodeId | null;
}

export function coreView(core: RaftCore): CoreView {
  const s = core.status();
  return {
    role: s.role,
    term: s.term,
    leader: s.leader,
    commit: s.commit,
    lastIndex: s.lastIndex,
    firstIndex: s.firstIndex,
    snapshotIndex: s.snapshotIndex,
    config: s.config,
    configContext: s.configContext,
    progress: s.progress.map((p) => ({ id: p.id, match: p.match, next: p.next, state: String(p.state) })),
    leadTransferee: s.leadTransferee ?? null,
  };
}

/** The voter (other than `self`) whose log matches the leader's furthest: where to hand leadership. */
export function bestTransferTarget(view: CoreView, self: NodeId): NodeId | null {
  let best: { id: NodeId; match: LogIndex } | null = null;
  for (const p of view.progress) {
    if (p.id === self || !view.config.voters.includes(p.id)) continue;
    if (!best || p.match > best.match) best = { id: p.id, match: p.match };
  }
  return best?.id ?? null;
}
