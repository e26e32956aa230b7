// Pending linearizable reads on the leader (ReadIndex, dissertation §6.4). A read waits
// until the leader has committed an entry of its own term (before that its commit index may
// lag the cluster's); then reads are batched into rounds: a round records the commit index,
// one heartbeat broadcast carries its context, and a quorum of echoes confirms that this
// node was still the leader when the round started. A confirmed round also confirms every
// earlier one.

import { hasQuorum } from './quorum.js';
import type { LogIndex, NodeId } from './messages.js';

export interface ReadRequest {
  /** The caller's context (echoed back in the ReadState / read-index-response). */
  readonly context: string;
  /** Who asked: this node's own id, or the follower that forwarded it. */
  readonly from: NodeId;
}

export interface ConfirmedRead extends ReadRequest {
  readonly index: LogIndex;
}

interface Round {
  readonly context: string;
  readonly index: LogIndex;
  readonly requests: readonly ReadRequest[];
  readonly acks: Set<NodeId>;
}

export class ReadQueue {
  /** Waiting for the first commit of the leader's term. */
  private held: ReadRequest[] = [];
  /** Admitted, not yet in a heartbeat round. */
  private batch: ReadRequest[] = [];
  private rounds: Round[] = [];
  private seq = 0;

  get pending(): number {
    return this.held.length + this.batch.length + this.rounds.reduce((n, r) => n + r.requests.length, 0);
  }

  /** The context of the newest unconfirmed round: periodic heartbeats carry it, so a lost one is retried. */
  latestRound(): string | null {
    return this.rounds[this.rounds.length - 1]?.context ?? null;
  }

  hasBatch(): boolean {
    return this.batch.length > 0;
  }

  /** Queues a read; `admitted` says whether the leader's term has committed an entry yet. */
  add(request: ReadRequest, admitted: boolean): void {
    (admitted ? this.batch : this.held).push(request);
  }

  /** The leader committed its first entry of the term: held reads may proceed. */
  admit(): void {
    if (this.held.length === 0) return;
    this.batch.push(...this.held);
    this.held = [];
  }

  /**
   * Starts a round for the batched reads at `commit`; returns the round's context for the
   * heartbeats, or null when nothing was batched. `self` acknowledges at once.
   */
  startRound(prefix: string, commit: LogIndex, self: NodeId): string | null {
    if (this.batch.length === 0) return null;
    const context = `${prefix}#${++this.seq}`;
    this.rounds.push({ context, index: commit, requests: this.batch, acks: new Set([self]) });
    this.batch = [];
    return context;
  }

  /** Releases requests that need no round (a single voter is its own quorum). */
  takeBatch(commit: LogIndex): ConfirmedRead[] {
    const out = this.batch.map((r) => ({ ...r, index: commit }));
    this.batch = [];
    return out;
  }

  /**
   * `from` echoed the heartbeat of round `context`. Returns the reads this confirms (the
   * round and every earlier one) once a quorum of `voters` has echoed.
   */
  ack(context: string, from: NodeId, voters: readonly NodeId[]): ConfirmedRead[] {
    const at = this.rounds.findIndex((r) => r.context === context);
    if (at < 0) return [];
    const round = this.rounds[at]!;
    round.acks.add(from);
    if (!hasQuorum(voters, round.acks)) return [];
    const done = this.rounds.splice(0, at + 1);
    const out: ConfirmedRead[] = [];
    for (const r of done) for (const req of r.requests) out.push({ ...req, index: r.index });
    return out;
  }

  /** Leadership is lost: every pending request, to be refused. */
  drain(): ReadRequest[] {
    const out = [...this.held, ...this.batch];
    for (const r of this.rounds) out.push(...r.requests);
    this.held = [];
    this.batch = [];
    this.rounds = [];
    return out;
  }
}
