// What the driver records in its Prometheus registry, in one place (and nothing when the
// node was started without one). The metric names and help texts live in src/metrics.

import type { LogIndex } from '../raft/index.js';
import type { Metrics } from '../metrics/index.js';
import type { RoleChange } from './types.js';

export class NodeMetrics {
  constructor(private readonly m: Metrics | null) {}

  /** A proposal settled (`seconds` from proposal to outcome). */
  proposalSettled(seconds: number, outcome: 'ok' | 'lost' | 'timeout' | 'error'): void {
    if (!this.m) return;
    this.m.proposals.inc({ result: outcome });
    if (outcome === 'ok') this.m.proposalSeconds.observe(seconds);
  }

  /** A proposal refused before it reached the log. */
  proposalRejected(): void {
    this.m?.proposals.inc({ result: 'rejected' });
  }

  leaseRead(path: 'lease' | 'read_index'): void {
    this.m?.leaseReads.inc({ path });
  }

  /** One durable write of a Ready took `seconds`. */
  saved(seconds: number): void {
    this.m?.fsyncSeconds.observe(seconds);
    this.m?.fsyncRecent.observe(seconds);
  }

  commitIndex(index: LogIndex): void {
    this.m?.commitIndex.set(index);
  }

  appliedIndex(index: LogIndex): void {
    this.m?.appliedIndex.set(index);
  }

  roleChanged(change: RoleChange): void {
    if (!this.m) return;
    this.m.isLeader.set(change.role === 'leader' ? 1 : 0);
    this.m.term.set(change.term);
    if (change.leader !== change.previousLeader && change.leader !== null) this.m.leaderChanges.inc();
  }
}
