// RaftStorage in memory, for in-process tests. Every value is copied on the way in and
// on the way out, so a caller mutating an entry or a snapshot later can never change
// what was "persisted" (as a real disk would not).

import type { Entry, HardState, Snapshot } from '../raft/index.js';
import { copyEntry, copySnapshot, planSave } from './log-rules.js';
import type { PersistedState, RaftStorage, SaveBatch } from './types.js';

export class MemoryStorage implements RaftStorage {
  private hardState: HardState | null = null;
  private snapshot: Snapshot | null = null;
  /** Entries after the snapshot, contiguous. */
  private entries: Entry[] = [];
  private closed = false;
  /** Durable writes done so far (one per save or saveSnapshot), for tests. */
  saves = 0;

  async load(): Promise<PersistedState | null> {
    this.assertOpen();
    if (!this.hardState && !this.snapshot && this.entries.length === 0) return null;
    return {
      hardState: this.hardState ?? { term: 0, vote: null, commit: 0 },
      snapshot: this.snapshot ? copySnapshot(this.snapshot) : null,
      entries: this.entries.map(copyEntry),
    };
  }

  async save(batch: SaveBatch): Promise<void> {
    this.assertOpen();
    const plan = planSave(this.snapshot?.meta.index ?? 0, this.firstIndex(), this.lastIndex(), batch);
    if (plan.snapshot) {
      this.snapshot = copySnapshot(plan.snapshot);
      this.entries = [];
    }
    if (plan.entries.length > 0) {
      const keep = plan.truncateFrom - this.firstIndex();
      this.entries.length = Math.max(0, Math.min(this.entries.length, keep));
      for (const e of plan.entries) this.entries.push(copyEntry(e));
    }
    if (batch.hardState) this.hardState = { ...batch.hardState };
    this.saves++;
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    if (this.snapshot && snapshot.meta.index <= this.snapshot.meta.index) return;
    this.snapshot = copySnapshot(snapshot);
    this.entries = this.entries.filter((e) => e.index > snapshot.meta.index);
    this.saves++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Reopen after close(), keeping the data: a process restart in an in-process test. */
  reopen(): void {
    this.closed = false;
  }

  private firstIndex(): number {
    return (this.snapshot?.meta.index ?? 0) + 1;
  }

  private lastIndex(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.index : this.firstIndex() - 1;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryStorage is closed');
  }
}
