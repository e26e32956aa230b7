// Elections: the election timer, PreVote and real campaigns, granting votes (one per term,
// only for an up-to-date log), counting them, and the CheckQuorum lease that makes a
// follower ignore (pre)votes while its leader is alive. The reasons behind the timeout range
// and the PreVote tie-break are in docs/architecture.md ("Elections").

import { CoreState } from './core-state.js';
import type { CampaignKind } from './core-state.js';
import { voteResult } from './quorum.js';
import type { NodeId, VoteRequest, VoteResponse } from './messages.js';

export abstract class Elections extends CoreState {
  /**
   * At most one vote per term (or a PreVote for a future term), and only for an up-to-date log
   * (§5.4.1). A node that believes it is a learner still answers (as etcd does): the candidate
   * may already hold its promotion. Only the candidate's own voters count (poll()).
   */
  protected canGrantVote(m: VoteRequest): boolean {
    const free =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (m.preVote && m.term > this.term);
    return free && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  }

  /**
   * How many PreVote rounds after losing its leader a pre-candidate refuses the PreVote of a
   * higher id with the same log (see defersPreVote). More than one round would let two
   * pre-candidates that cannot reach each other refuse a third that could win, for ever.
   */
  protected preVoteDeferralRounds(): number {
    return 1;
  }

  /**
   * CheckQuorum's side of the leader lease: within an election timeout of hearing from a
   * leader, (pre)votes are ignored, so no other leader can be elected meanwhile. A node that
   * restarts with leaseReads configured may have echoed a heartbeat just before it crashed,
   * so for its first election timeout it honours that lease too (lease.ts relies on both).
   */
  protected inLease(): boolean {
    if (!this.cfg.checkQuorum || this.electionElapsed >= this.cfg.electionTicks) return false;
    return this.leader !== null || this.bootLease;
  }

  protected tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) this.bootLease = false;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre-vote' : 'election');
    }
  }

  protected campaign(kind: CampaignKind): void {
    const preVote = kind === 'pre-vote';
    if (preVote) this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = preVote ? this.term + 1 : this.term;
    const voters = this.membership.current().conf.voters;
    this.votes.set(this.id, true);
    if (voteResult(voters, this.votes) === 'won') {
      if (preVote) this.campaign('election');
      else this.becomeLeader();
      return;
    }
    for (const to of voters) {
      if (to === this.id) continue;
      this.send({
        type: 'vote-request',
        from: this.id,
        to,
        term: voteTerm,
        preVote,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        transfer: kind === 'transfer',
      });
    }
  }

  protected handleVoteRequest(m: VoteRequest): void {
    const granted = this.canGrantVote(m) && !this.defersPreVote(m);
    if (granted && !m.preVote) {
      this.vote = m.from;
      this.electionElapsed = 0;
    }
    this.trace('vote', { to: m.from, term: m.term, preVote: m.preVote, granted });
    const response: VoteResponse = {
      type: 'vote-response',
      from: this.id,
      to: m.from,
      term: granted ? m.term : this.term,
      preVote: m.preVote,
      granted,
    };
    this.send(response);
  }

  /**
   * Two pre-candidates with equally up-to-date logs would grant each other's PreVote and
   * split the real vote (docs/architecture.md, "Elections"). So in its first PreVote round
   * after losing its leader, a pre-candidate refuses the PreVote of a higher id with the same
   * log: the lower id goes first. Only in the first round: a pre-candidate that cannot win
   * (say it reaches too few voters) must not keep refusing one that can.
   */
  protected defersPreVote(m: VoteRequest): boolean {
    return (
      m.preVote &&
      this.role === 'pre-candidate' &&
      this.preVoteRounds <= this.preVoteDeferralRounds() &&
      m.from > this.id &&
      m.lastLogTerm === this.log.lastTerm() &&
      m.lastLogIndex === this.log.lastIndex()
    );
  }

  protected poll(from: NodeId, granted: boolean): void {
    const voters = this.membership.current().conf.voters;
    if (!voters.includes(from) || this.votes.has(from)) return;
    this.votes.set(from, granted);
    const result = voteResult(voters, this.votes);
    if (result === 'won') {
      if (this.role === 'pre-candidate') this.campaign('election');
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, null);
    }
  }
}
