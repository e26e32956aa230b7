// The replicated log as one node sees it: the latest snapshot, then the entries after it
// in an array offset by the snapshot index (index i lives at entries[i - snapshotIndex - 1]).
// It also tracks what is durable: entries <= persistedIndex are in stable storage, entries
// >= unstableFrom have not yet been handed to a Ready. Appends are amortized O(1); only a
// conflict truncation or a compaction moves memory.

import { invariant } from './errors.js';
import type { Entry, LogIndex, Snapshot, Term } from './messages.js';

export class RaftLog {
  private snapIndex: LogIndex;
  private snapTerm: Term;
  private entries: Entry[];
  /** The latest snapshot this node holds (taken by the FSM or installed from a leader). */
  snapshot: Snapshot | null;
  /** A snapshot received from a leader that the driver has not yet been asked to install. */
  pendingSnapshot: Snapshot | null = null;
  /** Entries up to here are durable locally (acknowledged through advance()). */
  persistedIndex: LogIndex;
  /** First index not yet handed out in a Ready. */
  unstableFrom: LogIndex;

  constructor(snapshot: Snapshot | null, entries: readonly Entry[]) {
    this.snapshot = snapshot;
    this.snapIndex = snapshot?.meta.index ?? 0;
    this.snapTerm = snapshot?.meta.term ?? 0;
    this.entries = [...entries];
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      invariant(
        e.index === this.snapIndex + 1 + i,
        () =>
          `persisted entries are not contiguous: expected index ${this.snapIndex + 1 + i}, got ${e.index}`,
      );
    }
    this.persistedIndex = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
  }

  get snapshotIndex(): LogIndex {
    return this.snapIndex;
  }

  get snapshotTerm(): Term {
    return this.snapTerm;
  }

  firstIndex(): LogIndex {
    return this.snapIndex + 1;
  }

  lastIndex(): LogIndex {
    return this.snapIndex + this.entries.length;
  }

  lastTerm(): Term {
    const last = this.entries[this.entries.length - 1];
    return last ? last.term : this.snapTerm;
  }

  /** The term of the entry at `index`, or undefined when compacted away or beyond the end. */
  term(index: LogIndex): Term | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex) return undefined;
    return this.entries[index - this.snapIndex - 1]?.term;
  }

  entry(index: LogIndex): Entry | undefined {
    if (index <= this.snapIndex) return undefined;
    return this.entries[index - this.snapIndex - 1];
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  /** Entries in [lo, hi), lo >= firstIndex. Copies only the slice. */
  slice(lo: LogIndex, hi: LogIndex): Entry[] {
    invariant(lo >= this.firstIndex(), () => `slice(${lo}, ${hi}) below firstIndex ${this.firstIndex()}`);
    invariant(hi <= this.lastIndex() + 1, () => `slice(${lo}, ${hi}) beyond lastIndex ${this.lastIndex()}`);
    if (hi <= lo) return [];
    return this.entries.slice(lo - this.snapIndex - 1, hi - this.snapIndex - 1);
  }

  /** Raft's up-to-date rule (§5.4.1): compare last terms first, then last indexes. */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Appends entries that follow the last one directly. */
  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      invariant(
        e.index === this.lastIndex() + 1,
        () => `append: entry index ${e.index} does not follow lastIndex ${this.lastIndex()}`,
      );
      invariant(
        e.term >= this.lastTerm(),
        () => `append: entry ${e.index} has term ${e.term} below last term ${this.lastTerm()}`,
      );
      this.entries.push(e);
    }
  }

  /**
   * The index of the first entry of `entries` that is not already in the log (missing, or
   * same index with a different term), or 0 when all are present. Entries at or below the
   * snapshot are treated as present: they are committed, so they match.
   */
  findConflict(entries: readonly Entry[]): LogIndex {
    for (const e of entries) {
      if (e.index <= this.snapIndex) continue;
      if (this.term(e.index) !== e.term) return e.index;
    }
    return 0;
  }

  /**
   * Replaces everything from `entries[0].index` on with `entries`. The caller guarantees
   * that the truncated suffix holds nothing committed.
   */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    invariant(
      first.index > this.snapIndex,
      () => `truncateAndAppend at ${first.index} inside the snapshot (${this.snapIndex})`,
    );
    invariant(
      first.index <= this.lastIndex() + 1,
      () => `truncateAndAppend at ${first.index} leaves a gap after lastIndex ${this.lastIndex()}`,
    );
    if (first.index <= this.lastIndex()) {
      this.entries.length = first.index - this.snapIndex - 1;
      this.persistedIndex = Math.min(this.persistedIndex, first.index - 1);
      this.unstableFrom = Math.min(this.unstableFrom, first.index);
    }
    this.append(entries);
  }

  /**
   * The largest index <= `index` whose term is <= `term` (etcd's findConflictByTerm): both
   * sides of a rejected append use it to skip a whole term per round trip. Returns `index`
   * itself when its term is unknown (compacted).
   */
  findConflictByTerm(index: LogIndex, term: Term): LogIndex {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapIndex; i--) {
      const t = this.term(i);
      if (t !== undefined && t <= term) return i;
    }
    return i;
  }

  /** Entries not yet handed out in a Ready; marks them handed out. */
  takeUnstable(): Entry[] {
    const from = Math.max(this.unstableFrom, this.firstIndex());
    const out = this.slice(from, this.lastIndex() + 1);
    this.unstableFrom = this.lastIndex() + 1;
    return out;
  }

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex();
  }

  /** A Ready whose last entry was (index, term) is durable. Ignored if that entry was since replaced. */
  stableTo(index: LogIndex, term: Term): void {
    if (this.term(index) === term && index > this.persistedIndex) this.persistedIndex = index;
  }

  /** Drops entries <= index after the FSM snapshotted its state at `index`. */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    invariant(
      index > this.snapIndex,
      () => `compact(${index}) not after the current snapshot ${this.snapIndex}`,
    );
    invariant(
      index <= this.persistedIndex,
      () => `compact(${index}) beyond the persisted index ${this.persistedIndex}`,
    );
    const term = this.term(index);
    invariant(
      term === snapshot.meta.term,
      () => `compact(${index}): snapshot term ${snapshot.meta.term} but log term ${String(term)}`,
    );
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = snapshot.meta.term;
    this.snapshot = snapshot;
  }

  /** Replaces the whole log with a snapshot from the leader (it does not match our log). */
  restore(snapshot: Snapshot): void {
    this.entries = [];
    this.snapIndex = snapshot.meta.index;
    this.snapTerm = snapshot.meta.term;
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    // Nothing after the snapshot is in the log; the snapshot itself becomes durable in the
    // Ready that carries it, before anything after it can be applied.
    this.persistedIndex = snapshot.meta.index;
    this.unstableFrom = snapshot.meta.index + 1;
  }
}
