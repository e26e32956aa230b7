// The idempotency table lives in the replicated state, so every replica answers a retried
// request the same way. Bounded by count and by age, where "now" is the `at` of the
// command being applied (deterministic); eviction is oldest-inserted first.

import type { ShopValue } from './types.js';

export interface IdempotencyEntry {
  readonly key: string;
  readonly fingerprint: string;
  /** `at` of the command that first used the key. */
  readonly at: number;
  /** Its (successful) result value, replayed to retries. */
  readonly value: ShopValue;
}

export interface IdempotencyLimits {
  /** Most keys kept (default 100,000). */
  readonly maxEntries: number;
  /** A key older than this, relative to the current command's `at`, is forgotten (default 24 h). */
  readonly ttlMs: number;
}

export const DEFAULT_IDEMPOTENCY_LIMITS: IdempotencyLimits = {
  maxEntries: 100_000,
  ttlMs: 24 * 60 * 60 * 1000,
};

/** Stored results are replayed and snapshotted, so no caller may change them afterwards. */
function frozen(entry: IdempotencyEntry): IdempotencyEntry {
  return Object.freeze({ ...entry, value: Object.freeze({ ...entry.value }) });
}

export class IdempotencyTable {
  /** Insertion order is eviction order. */
  private readonly entries = new Map<string, IdempotencyEntry>();

  constructor(private readonly limits: IdempotencyLimits) {
    if (!Number.isSafeInteger(limits.maxEntries) || limits.maxEntries < 1)
      throw new RangeError(`idempotency maxEntries must be a positive integer, not ${limits.maxEntries}`);
    if (!Number.isSafeInteger(limits.ttlMs) || limits.ttlMs < 1)
      throw new RangeError(`idempotency ttlMs must be a positive integer, not ${limits.ttlMs}`);
  }

  get size(): number {
    return this.entries.size;
  }

  private expired(entry: IdempotencyEntry, now: number): boolean {
    return now - entry.at >= this.limits.ttlMs;
  }

  /** The live entry for `key` at time `now`; an expired entry counts as absent. */
  lookup(key: string, now: number): IdempotencyEntry | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || this.expired(entry, now) ? undefined : entry;
  }

  /** Stores a first result, evicting expired entries and then the oldest ones over the bound. */
  record(entry: IdempotencyEntry): void {
    this.entries.delete(entry.key); // an expired entry with the same key
    for (const oldest of this.entries.values()) {
      if (!this.expired(oldest, entry.at)) break;
      this.entries.delete(oldest.key);
    }
    this.trim(this.limits.maxEntries - 1);
    this.entries.set(entry.key, frozen(entry));
  }

  private trim(max: number): void {
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(oldest);
    }
  }

  /** Entries in eviction order (oldest first), for snapshots. */
  list(): IdempotencyEntry[] {
    return [...this.entries.values()];
  }

  /** Replaces the contents with `entries` (snapshot order), keeping the newest within the bound. */
  load(entries: readonly IdempotencyEntry[]): void {
    this.entries.clear();
    for (const entry of entries) {
      this.entries.delete(entry.key);
      this.entries.set(entry.key, frozen(entry));
    }
    this.trim(this.limits.maxEntries);
  }
}
