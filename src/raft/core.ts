// RaftCore: the consensus state machine (etcd-io/raft style). It does no I/O and owns no
// clock or randomness: time arrives as tick(), peers' messages as step(), jitter from the
// injected Prng. Work for the driver accumulates and is taken as a Ready.
//
// The driver's side is the Ready contract (the `Ready` type in messages.ts). The core's side:
// every message that depends on local state (a granted vote, an append acknowledgement, a
// candidate's self-vote) is emitted in the same Ready as that state, because messages are
// queued after the state change; committed entries handed out are entries an earlier
// advance() confirmed durable; and a leader counts itself towards commit only for its
// persisted entries (which is what lets it send appends before its own write).
//
// This file is the public API and the Ready plumbing; the rest is in layers beneath it
// (core-state.ts, elections.ts, follower.ts, leader.ts).

import { NotLeaderError, ProposalDroppedError, invariant } from './errors.js';
import { LeaderSide } from './leader.js';
import { validateChange } from './membership.js';
import type {
  ConfChange,
  Entry,
  HardState,
  LogIndex,
  Message,
  NodeId,
  Ready,
  Snapshot,
  SnapshotMeta,
  SoftState,
  Term,
} from './messages.js';
import type { PersistedState, ProgressStatus, RaftConfig, RaftStatus } from './types.js';

export type { PersistedState, ProgressStatus, RaftConfig, RaftStatus } from './types.js';

/** Committed entries handed out per Ready at most, so a long catch-up does not stall the driver. */
const MAX_COMMITTED_PER_READY = 4096;

interface Outstanding {
  readonly lastEntry: { readonly index: LogIndex; readonly term: Term } | null;
  readonly entryCount: number;
  readonly snapshotIndex: LogIndex | null;
  readonly appliedTo: LogIndex | null;
  readonly committedCount: number;
}

export class RaftCore extends LeaderSide {
  private outstanding: Outstanding | null = null;

  constructor(config: RaftConfig, persisted?: PersistedState) {
    super(config, persisted);
  }

  // ---- public API -------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  step(m: Message): void {
    invariant(m.to === this.id, () => `message ${m.type} for ${m.to} stepped into ${this.id}`);
    if (m.from === this.id) return;
    if (m.term > this.term) {
      if (m.type === 'vote-request' && !m.transfer && this.inLease()) {
        this.trace('vote-ignored-in-lease', { from: m.from, term: m.term, preVote: m.preVote });
        return;
      }
      if (m.type === 'vote-request' && m.preVote) {
        // A PreVote never changes our term: the sender is only asking.
      } else if (m.type === 'vote-response' && m.preVote && m.granted) {
        // Granted PreVotes carry the term we would campaign in.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      this.answerStale(m);
      return;
    }

    if (this.role === 'leader') this.replication.markActive(m.from);

    switch (m.type) {
      case 'vote-request':
        this.handleVoteRequest(m);
        return;
      case 'vote-response':
        if ((this.role === 'pre-candidate' && m.preVote) || (this.role === 'candidate' && !m.preVote))
          this.poll(m.from, m.granted);
        return;
      case 'append':
        this.followLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.followLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.followLeader(m.from);
        this.handleSnapshot(m);
        return;
      case 'append-response':
        if (this.role === 'leader') this.handleAppendResponse(m);
        return;
      case 'heartbeat-response':
        if (this.role === 'leader') this.handleHeartbeatResponse(m);
        return;
      case 'timeout-now':
        if (this.role !== 'leader' && this.promotable()) {
          this.trace('timeout-now', { from: m.from, term: this.term });
          this.campaign('transfer');
        }
        return;
      case 'read-index':
        if (this.role === 'leader') this.leaderRead({ context: m.context, from: m.from });
        else this.refuseRead(m);
        return;
      case 'read-index-response':
        if (this.role !== 'leader') this.readStates.push({ context: m.context, index: m.index });
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  propose(data: Uint8Array): { index: LogIndex; term: Term } {
    this.checkProposal();
    const index = this.log.lastIndex() + 1;
    this.appendLeaderEntry({ type: 'command', index, term: this.term, data });
    return { index, term: this.term };
  }

  proposeConfChange(change: ConfChange): { index: LogIndex; term: Term } {
    this.checkProposal();
    if (!this.committedInTerm)
      throw new ProposalDroppedError(`no entry of term ${this.term} has committed yet`);
    const pending = this.membership.lastChangeIndex();
    if (pending > this.commit)
      throw new ProposalDroppedError(`the configuration change at index ${pending} has not committed yet`);
    const why = validateChange(this.membership.current().conf, change);
    if (why !== null) throw new ProposalDroppedError(why);
    const index = this.log.lastIndex() + 1;
    this.appendLeaderEntry({ type: 'config', index, term: this.term, change });
    return { index, term: this.term };
  }

  readIndex(context: string): void {
    if (this.role === 'leader') {
      this.leaderRead({ context, from: this.id });
      return;
    }
    if (this.leader === null) throw new NotLeaderError(null);
    this.send({ type: 'read-index', from: this.id, to: this.leader, term: this.term, context });
  }

  /**
   * The index a read may be served at now without a quorum round, or null when the lease does
   * not hold and the caller must use readIndex(). It holds only on a leader configured with
   * leaseReads that has committed an entry of its term, is not transferring leadership and
   * has sent no TimeoutNow in this term, and whose heartbeats a quorum echoed recently enough
   * (lease.ts). The caller serves the read once its applied index reaches the returned index.
   */
  leaseReadIndex(): LogIndex | null {
    if (this.role !== 'leader' || !this.readsAdmitted()) return null;
    if (this.leadTransferee !== null || this.timeoutNowSent) return null;
    return this.lease.holds(this.membership.current().conf.voters, this.id) ? this.commit : null;
  }

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (to === this.id) return;
    if (!this.membership.current().conf.voters.includes(to))
      throw new ProposalDroppedError(`${to} is not a voter`);
    if (this.leadTransferee === to) return;
    const pr = this.replication.get(to);
    invariant(pr !== undefined, () => `voter ${to} has no progress on leader ${this.id}`);
    this.leadTransferee = to;
    // The transfer is abandoned when the election timer fires (tickLeader).
    this.electionElapsed = 0;
    this.trace('transfer-start', { to, match: pr.match, lastIndex: this.log.lastIndex() });
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.replication.sendAppends(pr, true);
  }

  /**
   * The FSM's state at applied index `index` was saved as `data`: drop the log up to it.
   * Returns the snapshot's meta (use it when storing the snapshot: its config is the one in
   * force at `index`, not the current one), or null when the log already starts after
   * `index` (e.g. a leader's snapshot was installed meanwhile): then there is nothing to store.
   */
  compact(index: LogIndex, data: Uint8Array): SnapshotMeta | null {
    if (index <= this.log.snapshotIndex) return null;
    invariant(index <= this.applied, () => `compact(${index}) beyond the applied index ${this.applied}`);
    invariant(
      index >= this.log.firstIndex(),
      () => `compact(${index}) below firstIndex ${this.log.firstIndex()}`,
    );
    const term = this.log.term(index);
    invariant(term !== undefined, () => `compact(${index}): no term`);
    const point = this.membership.at(index);
    const meta: SnapshotMeta = { index, term, config: point.conf, configContext: point.context };
    this.log.compact({ meta, data });
    this.membership.compactedTo(index);
    this.trace('compacted', { index, term });
    return meta;
  }

  /** The latest snapshot's meta: taken here, or installed from a leader (maybe not yet handed out in a Ready). */
  snapshotMeta(): SnapshotMeta | null {
    return this.log.snapshot?.meta ?? null;
  }

  hasReady(): boolean {
    if (this.role === 'leader' && (this.appendsPending || this.reads.hasBatch())) return true;
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.log.pendingSnapshot !== null ||
      this.log.hasUnstable() ||
      this.softChanged() ||
      this.hardChanged() ||
      Math.min(this.commit, this.log.persistedIndex) > this.applied
    );
  }

  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance() of the previous Ready');
    if (this.role === 'leader') this.flushLeader();
    const soft = this.softState();
    const hard = this.hardState();
    const softChanged = this.softChanged();
    const hardChanged = this.hardChanged();
    this.prevSoft = soft;
    this.prevHard = hard;
    const snapshot = this.log.pendingSnapshot;
    this.log.pendingSnapshot = null;
    const entries = this.log.takeUnstable();
    const committedEntries = this.nextCommitted(snapshot);
    const messages = this.msgs;
    this.msgs = [];
    const readStates = this.readStates;
    this.readStates = [];
    const last = entries[entries.length - 1];
    const lastCommitted = committedEntries[committedEntries.length - 1];
    this.outstanding = {
      lastEntry: last ? { index: last.index, term: last.term } : null,
      entryCount: entries.length,
      snapshotIndex: snapshot ? snapshot.meta.index : null,
      appliedTo: lastCommitted ? lastCommitted.index : null,
      committedCount: committedEntries.length,
    };
    return {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      ...(snapshot ? { snapshot } : {}),
      entries,
      messages,
      committedEntries,
      readStates,
    };
  }

  advance(rd: Ready): void {
    const o = this.outstanding;
    invariant(o !== null, 'advance() without an outstanding Ready');
    invariant(
      rd.entries.length === o.entryCount && rd.committedEntries.length === o.committedCount,
      () =>
        `advance() with a different Ready: ${rd.entries.length}/${rd.committedEntries.length} entries/committed, expected ${o.entryCount}/${o.committedCount}`,
    );
    this.outstanding = null;
    if (o.snapshotIndex !== null) this.applied = Math.max(this.applied, o.snapshotIndex);
    if (o.lastEntry) this.log.stableTo(o.lastEntry.index, o.lastEntry.term);
    if (o.appliedTo !== null) {
      invariant(
        o.appliedTo > this.applied,
        () => `advance() would move applied back from ${this.applied} to ${o.appliedTo}`,
      );
      this.applied = o.appliedTo;
    }
    if (this.role === 'leader') this.maybeCommit();
  }

  status(): RaftStatus {
    const point = this.membership.current();
    const progress: ProgressStatus[] = [];
    if (this.role === 'leader') {
      progress.push({
        id: this.id,
        match: this.log.persistedIndex,
        next: this.log.lastIndex() + 1,
        state: 'replicate',
      });
      for (const pr of this.replication.all())
        progress.push({ id: pr.id, match: pr.match, next: pr.next, state: pr.state });
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leader: this.leader,
      commit: this.commit,
      applied: this.applied,
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      firstIndex: this.log.firstIndex(),
      snapshotIndex: this.log.snapshotIndex,
      config: point.conf,
      configContext: { ...point.context },
      progress,
      leadTransferee: this.leadTransferee,
    };
  }

  /** Up to `limit` entries after `index` (persisted or not), or 'compacted' when some are gone. */
  entriesAfter(index: LogIndex, limit: number): Entry[] | 'compacted' {
    if (index < this.log.snapshotIndex) return 'compacted';
    const hi = Math.min(this.log.lastIndex(), index + Math.max(0, limit));
    return this.log.slice(index + 1, hi + 1);
  }

  // ---- Ready plumbing ---------------------------------------------------------------

  private nextCommitted(installing: Snapshot | null): Entry[] {
    let from = this.applied + 1;
    if (installing) from = Math.max(from, installing.meta.index + 1);
    const to = Math.min(this.commit, this.log.persistedIndex, from + MAX_COMMITTED_PER_READY - 1);
    if (to < from) return [];
    invariant(
      from >= this.log.firstIndex(),
      () => `entries ${from}..${to} to apply are compacted (firstIndex ${this.log.firstIndex()})`,
    );
    return this.log.slice(from, to + 1);
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.leader, term: this.term };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.commit };
  }

  private softChanged(): boolean {
    const p = this.prevSoft;
    return p.role !== this.role || p.leader !== this.leader || p.term !== this.term;
  }

  private hardChanged(): boolean {
    const p = this.prevHard;
    return p.term !== this.term || p.vote !== this.vote || p.commit !== this.commit;
  }
}
