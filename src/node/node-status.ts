// What status() reports: the core's view plus what only the driver knows (applied index,
// snapshot, readiness, API addresses, and when each peer was last heard from).

import type { LogIndex, NodeId } from '../raft/index.js';
import type { CoreView } from './core-view.js';
import type { NodeStatus } from './types.js';

/** When a message from each peer last arrived (clock ms). */
export class LastContact {
  private readonly heard = new Map<NodeId, number>();

  record(from: NodeId, at: number): void {
    this.heard.set(from, at);
  }

  /** Milliseconds since `id` was last heard from at `now` (null: never). */
  since(id: NodeId, now: number): number | null {
    const at = this.heard.get(id);
    return at === undefined ? null : Math.max(0, Math.round(now - at));
  }
}

export interface LocalState {
  readonly id: NodeId;
  readonly applied: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly ready: boolean;
  readonly now: number;
  readonly lastContact: LastContact;
  apiAddress(id: NodeId): string | null;
}

export function nodeStatus(view: CoreView, local: LocalState): NodeStatus {
  const { id, now, lastContact } = local;
  const leader = view.leader;
  return {
    id,
    role: view.role,
    term: view.term,
    leader,
    leaderApi: leader === null ? null : local.apiAddress(leader),
    commit: view.commit,
    applied: local.applied,
    snapshotIndex: local.snapshotIndex,
    lastIndex: view.lastIndex,
    peers:
      view.role === 'leader'
        ? view.progress
            .filter((p) => p.id !== id)
            .map((p) => ({
              ...p,
              lag: Math.max(0, view.lastIndex - p.match),
              lastContactMs: lastContact.since(p.id, now),
            }))
        : [],
    lastContactMs: leader === null || leader === id ? null : lastContact.since(leader, now),
    config: view.config,
    ready: local.ready,
  };
}
