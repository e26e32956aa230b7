// The leader's side: its ticks (heartbeats, CheckQuorum, abandoning a transfer), appending
// and replicating entries, the commit rule (§5.4.2: only entries of its own term by
// counting), leadership transfer's TimeoutNow, and serving reads (ReadIndex rounds on
// heartbeats, leases stamped on them).

import { NotLeaderError, ProposalDroppedError } from './errors.js';
import { FollowerSide } from './follower.js';
import { committedIndex } from './quorum.js';
import type { ConfirmedRead, ReadRequest } from './read-index.js';
import type { AppendResponse, Entry, HeartbeatResponse, LogIndex, NodeId } from './messages.js';

export abstract class LeaderSide extends FollowerSide {
  /** Raft §5.4.2: a leader commits by counting replicas only entries of its current term. */
  protected isCommittable(index: LogIndex): boolean {
    return this.log.term(index) === this.term;
  }

  /** A leader serves reads (ReadIndex or lease) only once an entry of its term has committed. */
  protected readsAdmitted(): boolean {
    return this.committedInTerm;
  }

  protected tickLeader(): void {
    this.lease.tick();
    this.heartbeatElapsed++;
    this.electionElapsed++;
    this.replication.tick();
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.replication.quorumActive(this.membership.current().conf.voters)) {
        this.trace('check-quorum-failed', { term: this.term });
        this.becomeFollower(this.term, null);
        return;
      }
      if (this.leadTransferee !== null) {
        this.trace('transfer-aborted', { to: this.leadTransferee });
        this.leadTransferee = null;
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.replication.broadcastHeartbeat(this.heartbeatContext());
    }
  }

  protected checkProposal(): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.leadTransferee !== null)
      throw new ProposalDroppedError(`leadership transfer to ${this.leadTransferee} in progress`);
    const conf = this.membership.current().conf;
    if (!conf.voters.includes(this.id))
      throw new ProposalDroppedError(`${this.id} is being removed from the cluster`);
  }

  protected appendLeaderEntry(entry: Entry): void {
    this.log.append([entry]);
    if (entry.type === 'config') {
      this.membership.appended(entry);
      this.syncProgress();
    }
    this.appendsPending = true;
    // A single voter commits as soon as the entry is persisted (advance); others as acks arrive.
    this.maybeCommit();
  }

  /** Progress for every member but us (learners included). */
  protected syncProgress(): void {
    const conf = this.membership.current().conf;
    this.replication.sync([...conf.voters, ...conf.learners]);
    if (this.leadTransferee !== null && !conf.voters.includes(this.leadTransferee))
      this.leadTransferee = null;
  }

  /** Sends what is waiting (new entries, a new commit index, a read round) at ready() time, batched. */
  protected flushLeader(): void {
    const context = this.reads.startRound(`${this.id}:${this.term}`, this.commit, this.id);
    if (context !== null) {
      this.lease.stamp(context);
      this.replication.broadcastHeartbeat(context);
    }
    if (this.appendsPending) {
      const commitChanged = this.commitChanged;
      this.appendsPending = false;
      this.commitChanged = false;
      this.replication.broadcastAppends(commitChanged);
    }
  }

  protected handleAppendResponse(m: AppendResponse): void {
    const pr = this.replication.onAppendResponse(m);
    if (!pr) return;
    this.maybeCommit();
    if (this.role !== 'leader') return;
    this.replication.sendAppends(pr, false);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  protected handleHeartbeatResponse(m: HeartbeatResponse): void {
    this.replication.onHeartbeatResponse(m);
    if (m.context === '') return;
    this.lease.ack(m.from, m.context);
    this.deliverReads(this.reads.ack(m.context, m.from, this.membership.current().conf.voters));
  }

  /**
   * Periodic heartbeats repeat the newest unconfirmed ReadIndex round (so a lost one is
   * retried); otherwise, with leaseReads, a fresh context stamped for the lease.
   */
  protected heartbeatContext(): string {
    const round = this.reads.latestRound();
    if (round !== null) return round;
    return this.cfg.leaseReads ? this.lease.next(`${this.id}:${this.term}`) : '';
  }

  protected sendTimeoutNow(to: NodeId): void {
    this.timeoutNowSent = true;
    this.trace('timeout-now-sent', { to });
    this.send({ type: 'timeout-now', from: this.id, to, term: this.term });
  }

  /** Advances commit to what a majority of voters persisted, if that entry is of our term. */
  protected maybeCommit(): void {
    const conf = this.membership.current().conf;
    const index = committedIndex(conf.voters, (id) => this.replication.match(id));
    if (index <= this.commit || !this.isCommittable(index)) return;
    this.commit = index;
    this.commitChanged = true;
    this.appendsPending = true;
    if (!this.committedInTerm && this.log.term(index) === this.term) {
      this.committedInTerm = true;
      this.reads.admit();
      if (this.singleVoter()) this.deliverReads(this.reads.takeBatch(this.commit));
    }
    // A leader removed from the configuration leads until its removal commits (§4.2.2).
    if (!conf.voters.includes(this.id) && this.commit >= this.membership.lastChangeIndex()) {
      this.trace('removed-leader-steps-down', { commit: this.commit });
      this.flushLeader();
      this.becomeFollower(this.term, null);
    }
  }

  protected singleVoter(): boolean {
    const voters = this.membership.current().conf.voters;
    return voters.length === 1 && voters[0] === this.id;
  }

  protected leaderRead(request: ReadRequest): void {
    const admitted = this.readsAdmitted();
    this.reads.add(request, admitted);
    if (admitted && this.singleVoter()) this.deliverReads(this.reads.takeBatch(this.commit));
  }

  protected deliverReads(reads: readonly ConfirmedRead[]): void {
    for (const r of reads) {
      if (r.from === this.id) this.readStates.push({ context: r.context, index: r.index });
      else
        this.send({
          type: 'read-index-response',
          from: this.id,
          to: r.from,
          term: this.term,
          context: r.context,
          index: r.index,
        });
    }
  }

  protected refuseReads(reads: readonly ReadRequest[]): void {
    this.deliverReads(reads.map((r) => ({ ...r, index: -1 })));
  }
}
