// Rules every RaftStorage applies the same way: which part of a save batch is stored,
// from which index the stored suffix is truncated, and deep copies of plain data.

import type { Entry, Snapshot } from '../raft/index.js';
import { StorageInvariantError } from './errors.js';
import type { SaveBatch } from './types.js';

export interface SavePlan {
  /** A snapshot installed from the leader: it replaces the whole stored log. */
  readonly snapshot: Snapshot | null;
  /** Entries to store (those already covered by the snapshot are left out). */
  readonly entries: readonly Entry[];
  /** Stored entries at or after this index are deleted before `entries` are written. */
  readonly truncateFrom: number;
  /** The last index of the stored log once the save is done. */
  readonly lastIndex: number;
}

/**
 * Works out what a save does, given the stored log (snapshotIndex, then entries
 * firstIndex..lastIndex). Throws when the batch would leave a hole in the log or is not
 * contiguous: persisting such a log would corrupt it, so the caller must crash instead.
 */
export function planSave(
  snapshotIndex: number,
  firstIndex: number,
  lastIndex: number,
  batch: SaveBatch,
): SavePlan {
  let base = snapshotIndex;
  let last = lastIndex;
  let snapshot: Snapshot | null = null;
  if (batch.snapshot) {
    snapshot = batch.snapshot;
    base = snapshot.meta.index;
    last = base;
  }
  let entries = batch.entries;
  const first = entries[0];
  if (first && first.index <= base) entries = entries.filter((e) => e.index > base);
  const head = entries[0];
  if (!head) return checkCommit(batch, { snapshot, entries, truncateFrom: last + 1, lastIndex: last });
  if (head.index > last + 1) {
    throw new StorageInvariantError(
      `storage: entries start at ${head.index} but the log ends at ${last} (first ${Math.max(firstIndex, base + 1)}): refusing to leave a gap`,
    );
  }
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1] as Entry;
    const cur = entries[i] as Entry;
    if (cur.index !== prev.index + 1 || cur.term < prev.term) {
      throw new StorageInvariantError(
        `storage: batch is not contiguous at index ${cur.index} (previous ${prev.index}, terms ${prev.term} -> ${cur.term})`,
      );
    }
  }
  return checkCommit(batch, {
    snapshot,
    entries,
    truncateFrom: head.index,
    lastIndex: head.index + entries.length - 1,
  });
}

/** A commit index past the end of the log would make the store refuse to open: fail now, loudly. */
function checkCommit(batch: SaveBatch, plan: SavePlan): SavePlan {
  if (batch.hardState && batch.hardState.commit > plan.lastIndex) {
    throw new StorageInvariantError(
      `storage: hard state commit ${batch.hardState.commit} is past the end of the log (${plan.lastIndex})`,
    );
  }
  return plan;
}

export function copyEntry(e: Entry): Entry {
  switch (e.type) {
    case 'command':
      return { index: e.index, term: e.term, type: 'command', data: e.data.slice() };
    case 'noop':
      return { index: e.index, term: e.term, type: 'noop' };
    case 'config':
      return { index: e.index, term: e.term, type: 'config', change: { ...e.change } };
  }
}

export function copySnapshot(s: Snapshot): Snapshot {
  return {
    meta: {
      index: s.meta.index,
      term: s.meta.term,
      config: { voters: [...s.meta.config.voters], learners: [...s.meta.config.learners] },
      configContext: { ...s.meta.configContext },
    },
    data: s.data.slice(),
  };
}
