// The leader's lease (dissertation §6.4.1, etcd's ReadOnlyLeaseBased): a read may be served
// from the leader's state without a quorum round while a quorum of voters is known to refuse
// every other candidate. A follower with CheckQuorum ignores (pre)votes for an election
// timeout after it last heard from its leader (RaftCore.inLease), so an echo of a heartbeat
// the leader *sent* at tick s bars other leaders until s + E ticks of that follower's clock.
//
// Counting: every leader heartbeat carries a context stamped with the leader's tick count
// when it was first sent. The lease holds at tick n while a quorum's freshest echoed stamps
// s satisfy n - s <= leaseTicks, where (derivation in docs/api.md, "consistency=leader"):
//   (n - s + 1) · tick <= (E - 1) · tick · (1 - maxClockDrift)
// The +1 and the -1 are the tick granularity on either side (a tick may fire right after a
// reset); maxClockDrift bounds how much faster the leader's clock may run slow against a
// follower's. The driver must tick the core for every tick interval that elapsed (it
// catches up after a pause) so that a tick count never under-states the time on the leader.

import { invariant } from './errors.js';
import { majority } from './quorum.js';
import type { NodeId } from './messages.js';

export interface LeaseConfig {
  /** Largest relative rate difference between two members' clocks, in [0, 1) (0.1 = 10 %). */
  readonly maxClockDrift: number;
}

/** Ticks after sending a heartbeat during which its echoes keep the lease (may be 0 or less: no lease). */
export function leaseTicks(electionTicks: number, lease: LeaseConfig): number {
  invariant(
    lease.maxClockDrift >= 0 && lease.maxClockDrift < 1,
    () => `maxClockDrift must be in [0, 1), got ${lease.maxClockDrift}`,
  );
  return Math.floor((electionTicks - 1) * (1 - lease.maxClockDrift)) - 1;
}

export class LeaseTracker {
  /** Leader ticks in the current term. */
  private now = 0;
  /** Heartbeat context -> the tick it was first sent (only those still young enough to matter). */
  private readonly sentAt = new Map<string, number>();
  /** Voter -> the latest send tick among the heartbeats it echoed. */
  private readonly heardAt = new Map<NodeId, number>();
  private seq = 0;

  constructor(private readonly ticks: number) {}

  /** A new leadership (or none): nothing heard yet. */
  reset(): void {
    this.now = 0;
    this.sentAt.clear();
    this.heardAt.clear();
  }

  tick(): void {
    this.now++;
    // Echoes of heartbeats older than the lease cannot extend it: forget their stamps.
    for (const [context, at] of this.sentAt) {
      if (this.now - at <= this.ticks) break; // insertion order is send order
      this.sentAt.delete(context);
    }
  }

  /** A context for a periodic heartbeat, stamped now. */
  next(prefix: string): string {
    const context = `${prefix}~${++this.seq}`;
    this.stamp(context);
    return context;
  }

  /** A heartbeat with `context` is about to be sent; only its first send counts. */
  stamp(context: string): void {
    if (!this.sentAt.has(context)) this.sentAt.set(context, this.now);
  }

  ack(from: NodeId, context: string): void {
    const at = this.sentAt.get(context);
    if (at === undefined) return;
    if ((this.heardAt.get(from) ?? -Infinity) < at) this.heardAt.set(from, at);
  }

  /** Whether a quorum of `voters` (with `self`, which always counts as heard now) echoed a heartbeat within the lease. */
  holds(voters: readonly NodeId[], self: NodeId): boolean {
    if (voters.length === 0 || this.ticks < 0) return false;
    const stamps = voters
      .map((id) => (id === self ? this.now : (this.heardAt.get(id) ?? -Infinity)))
      .sort((a, b) => b - a);
    const oldestOfQuorum = stamps[majority(voters.length) - 1] ?? -Infinity;
    return this.now - oldestOfQuorum <= this.ticks;
  }
}
