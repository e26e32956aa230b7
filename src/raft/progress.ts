// The leader's view of one follower (etcd's tracker.Progress). In `probe` the leader sends
// one append at a time and waits for the answer to find where the logs match; in `replicate`
// it streams batches optimistically, up to `maxInflightAppends` unacknowledged; in
// `snapshot` it waits for a snapshot to be installed. `match` only ever grows.

import type { LogIndex, NodeId } from './messages.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of in-flight appends, each remembered by its last index (a ring buffer). */
export class Inflights {
  private readonly buffer: LogIndex[];
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.buffer = new Array<LogIndex>(capacity).fill(0);
  }

  get count(): number {
    return this.size;
  }

  full(): boolean {
    return this.size >= this.capacity;
  }

  add(lastIndex: LogIndex): void {
    if (this.full()) throw new Error(`inflights: window of ${this.capacity} is full`);
    this.buffer[(this.start + this.size) % this.capacity] = lastIndex;
    this.size++;
  }

  /** Forgets every in-flight append whose last index is <= `index` (acknowledged). */
  freeLE(index: LogIndex): void {
    while (this.size > 0 && (this.buffer[this.start] ?? 0) <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.size--;
    }
  }

  freeFirst(): void {
    if (this.size === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.size--;
  }

  reset(): void {
    this.start = 0;
    this.size = 0;
  }
}

export class Progress {
  match: LogIndex = 0;
  next: LogIndex;
  state: ProgressState = 'probe';
  /** In probe: an append is outstanding, wait for its answer (or a heartbeat answer). */
  probeSent = false;
  /** In snapshot: the index of the snapshot sent. */
  pendingSnapshot: LogIndex = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Leader ticks since this follower last made progress while something was in flight. */
  stallTicks = 0;
  readonly inflights: Inflights;

  constructor(
    readonly id: NodeId,
    next: LogIndex,
    maxInflight: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.stallTicks = 0;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.stallTicks = 0;
    this.inflights.reset();
  }

  becomeSnapshot(index: LogIndex): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.probeSent = false;
    this.stallTicks = 0;
    this.inflights.reset();
  }

  /** A successful append response up to `index`. Returns whether match moved (stale answers never move it back). */
  maybeUpdate(index: LogIndex): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      this.stallTicks = 0;
      updated = true;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append whose prevIndex was `rejected`; `hint` is the leader's best
   * guess of the last matching index. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: LogIndex, hint: LogIndex): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader must not send another append now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Records an append that carried entries up to `lastIndex` (`count` of them). */
  sentEntries(count: number, lastIndex: LogIndex): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }
}
