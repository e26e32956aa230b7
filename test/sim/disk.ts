// The simulated disk of one node: a RaftStorage with crash semantics. A write becomes durable
// when it completes (after a random delay, in the order it was issued); a crash loses every
// write still in flight, and may tear the oldest of them: a prefix of its entries reaches the
// disk without its hard state (a batch whose commit is past what survived would not load).
// What survives is exactly what load() returns on restart. The rules for what a save stores
// are the real ones (src/storage/log-rules.ts).
import type { Entry, HardState, PersistedState, Snapshot } from '../../src/raft/index.js';
import type { RaftStorage, SaveBatch } from '../../src/storage/index.js';
import { planSave } from '../../src/storage/log-rules.js';

interface Durable {
  hardState: HardState | null;
  snapshot: Snapshot | null;
  /** Entries after `snapshot.meta.index` (or after 0), contiguous. */
  entries: Entry[];
}

type Write =
  | { readonly kind: 'save'; readonly batch: SaveBatch }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

export interface DiskHooks {
  /** Schedules the completion of a write `delay` from now; `done` must run only if the disk still exists. */
  schedule(delay: number, done: () => void): void;
  /** A delay for the next write. */
  delay(): number;
  /** The driver issued a write (entries enter the node's log here). */
  onIssue(write: Write): void;
  /** A write became durable (before its promise resolves). */
  onDurable(write: Write, before: HardState | null): void;
}

export type { Write as DiskWrite };

export class SimDisk implements RaftStorage {
  private readonly durable: Durable = { hardState: null, snapshot: null, entries: [] };
  /** Issued, not yet durable, in issue order. */
  private inflight: { write: Write; resolve: () => void; reject: (error: Error) => void; done: boolean }[] =
    [];
  /** Bumped by a crash: completions scheduled before it do nothing. */
  private epoch = 0;
  hooks: DiskHooks | null = null;

  // ---- what the simulator reads -------------------------------------------------------

  get hardState(): HardState | null {
    return this.durable.hardState;
  }

  get snapshot(): Snapshot | null {
    return this.durable.snapshot;
  }

  get lastIndex(): number {
    const last = this.durable.entries[this.durable.entries.length - 1];
    return last ? last.index : (this.durable.snapshot?.meta.index ?? 0);
  }

  isEmpty(): boolean {
    const d = this.durable;
    return d.hardState === null && d.snapshot === null && d.entries.length === 0;
  }

  // ---- RaftStorage ----------------------------------------------------------------------

  async load(): Promise<PersistedState | null> {
    if (this.isEmpty()) return null;
    const d = this.durable;
    return {
      hardState: d.hardState ?? { term: 0, vote: null, commit: 0 },
      snapshot: d.snapshot,
      entries: d.entries.slice(),
    };
  }

  save(batch: SaveBatch): Promise<void> {
    return this.issue({ kind: 'save', batch });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.issue({ kind: 'snapshot', snapshot });
  }

  async close(): Promise<void> {}

  // ---- crashes ------------------------------------------------------------------------

  /** Loses every write in flight; with `tear`, a prefix of the oldest one's entries survives. */
  crash(tear: (entries: number) => number | null): void {
    const oldest = this.inflight[0];
    if (
      oldest &&
      oldest.write.kind === 'save' &&
      oldest.write.batch.entries.length > 0 &&
      !oldest.write.batch.snapshot
    ) {
      const keep = tear(oldest.write.batch.entries.length);
      if (keep !== null && keep > 0) this.apply({ entries: oldest.write.batch.entries.slice(0, keep) });
    }
    this.inflight = [];
    this.epoch++;
  }

  private issue(write: Write): Promise<void> {
    const hooks = this.hooks;
    if (!hooks) throw new Error('SimDisk used before the simulator attached it');
    hooks.onIssue(write);
    return new Promise<void>((resolve, reject) => {
      const entry = { write, resolve, reject, done: false };
      this.inflight.push(entry);
      const epoch = this.epoch;
      hooks.schedule(hooks.delay(), () => {
        if (this.epoch !== epoch) return;
        entry.done = true;
        // Writes become durable in the order they were issued (a later, quicker one waits).
        while (this.inflight[0]?.done) {
          const head = this.inflight.shift()!;
          const before = this.durable.hardState;
          try {
            // The real rules refuse a batch that would corrupt the log: the save fails, as on a real disk.
            if (head.write.kind === 'save') this.apply(head.write.batch);
            else this.applySnapshot(head.write.snapshot);
          } catch (error) {
            head.reject(error instanceof Error ? error : new Error(String(error)));
            continue;
          }
          hooks.onDurable(head.write, before);
          head.resolve();
        }
      });
    });
  }

  private apply(batch: SaveBatch): void {
    const d = this.durable;
    const first = (d.snapshot?.meta.index ?? 0) + 1;
    const plan = planSave(d.snapshot?.meta.index ?? 0, first, this.lastIndex, batch);
    if (plan.snapshot) {
      d.snapshot = plan.snapshot;
      d.entries = [];
    }
    if (plan.entries.length > 0) {
      const base = (d.snapshot?.meta.index ?? 0) + 1;
      d.entries.length = Math.max(0, Math.min(d.entries.length, plan.truncateFrom - base));
      for (const e of plan.entries) d.entries.push(e);
    }
    if (batch.hardState) d.hardState = batch.hardState;
  }

  private applySnapshot(snapshot: Snapshot): void {
    const d = this.durable;
    if (d.snapshot && snapshot.meta.index <= d.snapshot.meta.index) return;
    d.entries = d.entries.filter((e) => e.index > snapshot.meta.index);
    d.snapshot = snapshot;
  }
}
