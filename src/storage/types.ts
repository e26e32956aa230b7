// The storage contract the node driver writes against (docs/architecture.md §3):
// one durable write per Ready, snapshots stored atomically, and on restart the
// latest snapshot plus every entry after it.

import type { Entry, HardState, PersistedState, Snapshot } from '../raft/index.js';

/** What the driver loaded from storage on restart: the core's own PersistedState. */
export type { PersistedState };

export interface SaveBatch {
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
}

export interface RaftStorage {
  /** null on an empty data dir (first boot). */
  load(): Promise<PersistedState | null>;
  /**
   * One durable write per Ready (group commit): snapshot, entries (truncating any stored
   * suffix from entries[0].index), hard state. Resolves after fsync.
   */
  save(batch: SaveBatch): Promise<void>;
  /** A snapshot the local FSM took: store it atomically, then drop entries <= meta.index. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}
