// The leader's side of log replication: one Progress per member (learners included) and the
// appends, snapshots and heartbeats that bring each follower up to date — batched by
// maxEntriesPerAppend, pipelined up to maxInflightAppends, probing after a rejection, and a
// snapshot for a follower that needs compacted entries. The core decides when to send and
// what commits; this module decides what goes to whom.

import { invariant } from './errors.js';
import type { RaftLog } from './log.js';
import type { AppendResponse, HeartbeatResponse, LogIndex, Message, NodeId, Term } from './messages.js';
import { Progress } from './progress.js';
import { hasQuorum } from './quorum.js';

export interface ReplicationContext {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly maxEntriesPerAppend: number;
  readonly maxInflightAppends: number;
  readonly electionTicks: number;
  term(): Term;
  commit(): LogIndex;
  send(m: Message): void;
  trace(event: string, fields: Record<string, unknown>): void;
}

export class Replication {
  private readonly progress = new Map<NodeId, Progress>();

  constructor(private readonly ctx: ReplicationContext) {}

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  all(): IterableIterator<Progress> {
    return this.progress.values();
  }

  clear(): void {
    this.progress.clear();
  }

  /** Progress for exactly `members` (minus us); newcomers start probing at the end of our log. */
  sync(members: Iterable<NodeId>): void {
    const want = new Set(members);
    want.delete(this.ctx.id);
    for (const id of this.progress.keys()) if (!want.has(id)) this.progress.delete(id);
    for (const id of want) {
      if (!this.progress.has(id))
        this.progress.set(id, new Progress(id, this.ctx.log.lastIndex() + 1, this.ctx.maxInflightAppends));
    }
  }

  /** What `id` is known to hold: our own persisted index for us. */
  match(id: NodeId): LogIndex {
    return id === this.ctx.id ? this.ctx.log.persistedIndex : (this.progress.get(id)?.match ?? 0);
  }

  /** One leader tick: appends or a snapshot unanswered for an election timeout were lost; probe again. */
  tick(): void {
    for (const pr of this.progress.values()) {
      const waiting = pr.state === 'snapshot' || (pr.state === 'replicate' && pr.inflights.count > 0);
      if (!waiting) continue;
      pr.stallTicks++;
      if (pr.stallTicks >= this.ctx.electionTicks) {
        this.ctx.trace('progress-stalled', { peer: pr.id, state: pr.state, match: pr.match });
        pr.becomeProbe();
      }
    }
  }

  /** CheckQuorum: did a majority of `voters` (us included) talk to us since the last check? Resets the marks. */
  quorumActive(voters: readonly NodeId[]): boolean {
    const active = new Set<NodeId>([this.ctx.id]);
    for (const pr of this.progress.values()) {
      if (pr.recentActive) active.add(pr.id);
      pr.recentActive = false;
    }
    return hasQuorum(voters, active);
  }

  markActive(id: NodeId): void {
    const pr = this.progress.get(id);
    if (pr) pr.recentActive = true;
  }

  /** New entries for everyone; with `commitChanged`, idle followers get an empty append carrying the commit index. */
  broadcastAppends(commitChanged: boolean): void {
    for (const pr of this.progress.values()) this.sendAppends(pr, commitChanged && pr.inflights.count === 0);
  }

  broadcastHeartbeat(context: string): void {
    const term = this.ctx.term();
    const commit = this.ctx.commit();
    for (const pr of this.progress.values()) {
      // Never tell a follower to commit beyond what it is known to hold.
      this.ctx.send({
        type: 'heartbeat',
        from: this.ctx.id,
        to: pr.id,
        term,
        commit: Math.min(commit, pr.match),
        context,
      });
    }
  }

  /** Sends as many appends to `pr` as its state allows (one when probing). */
  sendAppends(pr: Progress, sendIfEmpty: boolean): void {
    let empty = sendIfEmpty;
    while (this.sendAppend(pr, empty)) empty = false;
  }

  /**
   * An append response. A rejection walks `next` back (using the follower's hint to skip a
   * whole term) and re-probes. Returns the progress when a success moved its match (the
   * caller re-checks the commit index and keeps the pipeline going), else null.
   */
  onAppendResponse(m: AppendResponse): Progress | null {
    const pr = this.progress.get(m.from);
    if (!pr) return null;
    if (!m.success) {
      let hint = m.rejectHint ? m.rejectHint.hintIndex : m.index - 1;
      if (m.rejectHint && m.rejectHint.conflictTerm > 0)
        hint = this.ctx.log.findConflictByTerm(hint, m.rejectHint.conflictTerm);
      if (pr.maybeDecrTo(m.index, hint)) {
        this.ctx.trace('append-rejected', { from: m.from, rejected: m.index, next: pr.next });
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppends(pr, true);
      }
      return null;
    }
    if (!pr.maybeUpdate(m.index)) return null;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot') {
      if (pr.match >= pr.pendingSnapshot || pr.match + 1 >= this.ctx.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      pr.inflights.freeLE(m.index);
    }
    return pr;
  }

  onHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    if (pr.state === 'probe') pr.probeSent = false;
    else if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
    // A follower still behind after a heartbeat round may have lost appends: an (empty) append
    // at `next` either succeeds or is rejected, and a rejection sends it back to probing.
    if (pr.match < this.ctx.log.lastIndex()) this.sendAppends(pr, true);
  }

  private sendAppend(pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    const log = this.ctx.log;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined || pr.next < log.firstIndex()) return this.sendSnapshot(pr);
    const last = Math.min(log.lastIndex(), prevIndex + this.ctx.maxEntriesPerAppend);
    const entries = log.slice(pr.next, last + 1);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.ctx.send({
      type: 'append',
      from: this.ctx.id,
      to: pr.id,
      term: this.ctx.term(),
      prevIndex,
      prevTerm,
      entries,
      commit: this.ctx.commit(),
    });
    pr.sentEntries(entries.length, last);
    return entries.length > 0;
  }

  private sendSnapshot(pr: Progress): boolean {
    const snapshot = this.ctx.log.snapshot;
    invariant(
      snapshot !== null,
      () =>
        `${pr.id} needs entry ${pr.next} below firstIndex ${this.ctx.log.firstIndex()} but there is no snapshot`,
    );
    this.ctx.trace('send-snapshot', { to: pr.id, index: snapshot.meta.index });
    this.ctx.send({ type: 'snapshot', from: this.ctx.id, to: pr.id, term: this.ctx.term(), snapshot });
    pr.becomeSnapshot(snapshot.meta.index);
    return false;
  }
}
