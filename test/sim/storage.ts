// The simulated disk of one node. A Ready's snapshot, entries and hard state become durable
// only when the simulated driver persists them; a crash before that loses them, and a crash may
// also lose a commit-only hard state that was written without fsync. A restart reads back
// exactly what is here.
import type { Entry, HardState, Ready, Snapshot } from '../../src/raft/messages.js';
import type { PersistedState } from '../../src/raft/index.js';

export class SimStorage {
  hardState: HardState | null = null;
  snapshot: Snapshot | null = null;
  /** Entries after `snapshot.meta.index` (or after 0), contiguous. */
  entries: Entry[] = [];

  get firstIndex(): number {
    return (this.snapshot?.meta.index ?? 0) + 1;
  }

  get lastIndex(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.index : (this.snapshot?.meta.index ?? 0);
  }

  /** The hard state as of the last fsynced write (what a crash falls back to). */
  private syncedHardState: HardState | null = null;

  /**
   * Step 1 of the Ready contract: snapshot, then entries (overwriting a suffix), then hard state.
   * Like src/node (etcd's MustSync), a write that only moves the commit index is not fsynced.
   */
  persist(ready: Ready): void {
    const hs = ready.hardState;
    const sync =
      ready.entries.length > 0 ||
      ready.snapshot !== undefined ||
      (hs !== undefined && (hs.term !== this.hardState?.term || hs.vote !== this.hardState.vote));
    if (ready.snapshot) {
      this.snapshot = ready.snapshot;
      this.entries = [];
    }
    const first = ready.entries[0];
    if (first) {
      if (first.index < this.firstIndex)
        throw new Error(
          `Ready entries start at ${first.index}, before the first stored index ${this.firstIndex}`,
        );
      if (first.index > this.lastIndex + 1)
        throw new Error(
          `Ready entries start at ${first.index}, leaving a gap after the last stored index ${this.lastIndex}`,
        );
      this.entries.length = first.index - this.firstIndex;
      for (const e of ready.entries) this.entries.push(e);
    }
    if (hs) this.hardState = hs;
    if (sync) this.syncedHardState = this.hardState;
  }

  /** A crash: writes that were not fsynced (commit-only hard states) may be lost. */
  crash(loseUnsynced: boolean): void {
    if (loseUnsynced) this.hardState = this.syncedHardState;
  }

  /** A snapshot the local FSM took: store it, then drop the entries it covers. */
  saveSnapshot(snapshot: Snapshot): void {
    if (this.snapshot && snapshot.meta.index <= this.snapshot.meta.index) return;
    const drop = snapshot.meta.index - this.firstIndex + 1;
    this.entries = this.entries.slice(Math.max(0, drop));
    this.snapshot = snapshot;
  }

  isEmpty(): boolean {
    return this.hardState === null && this.snapshot === null && this.entries.length === 0;
  }

  load(): PersistedState {
    return {
      hardState: this.hardState ?? { term: 0, vote: null, commit: 0 },
      snapshot: this.snapshot,
      entries: this.entries.slice(),
    };
  }
}
