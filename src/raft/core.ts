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

import { NotLeaderError, ProposalDroppedError, invariant } from './errors.js';
import { LeaseTracker, leaseTicks } from './lease.js';
import type { LeaseConfig } from './lease.js';
import { RaftLog } from './log.js';
import { Membership, validateChange } from './membership.js';
import { Replication } from './replication.js';
import type { ProgressState } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import { ReadQueue } from './read-index.js';
import type { ConfirmedRead, ReadRequest } from './read-index.js';
import type { Prng } from './prng.js';
import type {
  AppendRequest,
  AppendResponse,
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  LogIndex,
  Message,
  NodeId,
  ReadIndexRequest,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotMeta,
  SoftState,
  Term,
  VoteRequest,
  VoteResponse,
} from './messages.js';

export interface RaftConfig {
  readonly id: NodeId;
  /** Configuration used only when there is no snapshot: every initial member must get the same list. */
  readonly initialVoters: readonly NodeId[];
  /** A follower campaigns after (E, 2E] ticks without hearing from a leader (E = electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxEntriesPerAppend: number;
  /** Pipelining window per follower (appends sent but not yet acknowledged). */
  readonly maxInflightAppends: number;
  readonly prng: Prng;
  /**
   * Leader leases for reads without a quorum round (leaseReadIndex). Needs checkQuorum. Every
   * member of a cluster must agree: with it, a node also honours, for one election timeout
   * after it restarts, any lease it may have granted before a crash.
   */
  readonly leaseReads?: LeaseConfig;
  /** Every decision the core takes (role changes, votes, step-downs...), as an event and key/values. */
  readonly logger?: (event: string, fields: Record<string, unknown>) => void;
}

/** What the driver loaded from storage on restart. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** All entries after snapshot.meta.index, in order. */
  readonly entries: readonly Entry[];
}

export interface ProgressStatus {
  readonly id: NodeId;
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: ProgressState;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly leader: NodeId | null;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  readonly lastIndex: LogIndex;
  /** Term of the entry at lastIndex (the snapshot's term when the log is empty). */
  readonly lastTerm: Term;
  readonly firstIndex: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly config: ConfState;
  readonly configContext: Record<NodeId, string>;
  /** The leader's view of every member, itself and learners included; empty on non-leaders. */
  readonly progress: readonly ProgressStatus[];
  readonly leadTransferee: NodeId | null;
}

type CampaignKind = 'pre-vote' | 'election' | 'transfer';

/** Committed entries handed out per Ready at most, so a long catch-up does not stall the driver. */
const MAX_COMMITTED_PER_READY = 4096;

interface Outstanding {
  readonly lastEntry: { readonly index: LogIndex; readonly term: Term } | null;
  readonly entryCount: number;
  readonly snapshotIndex: LogIndex | null;
  readonly appliedTo: LogIndex | null;
  readonly committedCount: number;
}

export class RaftCore {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;
  private readonly log: RaftLog;
  private readonly membership: Membership;

  private term: Term;
  private vote: NodeId | null;
  private commit: LogIndex;
  private applied: LogIndex;
  private role: Role = 'follower';
  private leader: NodeId | null = null;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  /** PreVote rounds campaigned since this node last heard from a leader (see defersPreVote). */
  private preVoteRounds = 0;
  /** Honouring, after a boot, a lease this node may have granted before it (see inLease). */
  private bootLease: boolean;

  // Leader state.
  private readonly replication: Replication;
  private leadTransferee: NodeId | null = null;
  /** An entry of this leader's term has committed (gates reads and config changes). */
  private committedInTerm = false;
  private readonly lease: LeaseTracker;
  /** A TimeoutNow left in this term: its target may campaign through any lease, so ours is void. */
  private timeoutNowSent = false;
  /** New entries or a new commit index wait to be sent to followers at the next ready(). */
  private appendsPending = false;
  private commitChanged = false;
  private readonly reads = new ReadQueue();

  // Output not yet taken by ready().
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Outstanding | null = null;

  constructor(config: RaftConfig, persisted?: PersistedState) {
    invariant(
      config.electionTicks > config.heartbeatTicks && config.heartbeatTicks > 0,
      () => `need electionTicks (${config.electionTicks}) > heartbeatTicks (${config.heartbeatTicks}) > 0`,
    );
    invariant(
      config.maxEntriesPerAppend >= 1 && config.maxInflightAppends >= 1,
      'maxEntriesPerAppend and maxInflightAppends must be >= 1',
    );
    invariant(
      config.leaseReads === undefined || config.checkQuorum,
      'leaseReads needs checkQuorum (followers honour a lease only with it)',
    );
    this.id = config.id;
    this.cfg = config;
    this.lease = new LeaseTracker(
      config.leaseReads ? leaseTicks(config.electionTicks, config.leaseReads) : -1,
    );
    // Only a node that ran before (it has persisted state) can have echoed a heartbeat.
    this.bootLease = config.leaseReads !== undefined && persisted !== undefined;
    const snapshot = persisted?.snapshot ?? null;
    // Entries the snapshot covers may survive a crash between storing it and trimming the log.
    const stored = (persisted?.entries ?? []).filter((e) => e.index > (snapshot?.meta.index ?? 0));
    this.log = new RaftLog(snapshot, stored);
    this.replication = new Replication({
      id: config.id,
      log: this.log,
      maxEntriesPerAppend: config.maxEntriesPerAppend,
      maxInflightAppends: config.maxInflightAppends,
      electionTicks: config.electionTicks,
      term: () => this.term,
      commit: () => this.commit,
      send: (m) => this.send(m),
      trace: (event, fields) => this.trace(event, fields),
    });
    this.membership = snapshot
      ? Membership.fromSnapshot(snapshot.meta)
      : new Membership({ index: 0, conf: { voters: [...config.initialVoters], learners: [] }, context: {} });
    for (const e of stored) if (e.type === 'config') this.membership.appended(e);
    const hs = persisted?.hardState ?? { term: 0, vote: null, commit: 0 };
    this.term = hs.term;
    this.vote = hs.vote;
    this.commit = Math.max(hs.commit, this.log.snapshotIndex);
    invariant(
      this.commit <= this.log.lastIndex(),
      () => `persisted commit ${this.commit} is beyond the last persisted entry ${this.log.lastIndex()}`,
    );
    this.applied = this.log.snapshotIndex;
    this.prevHard = { term: hs.term, vote: hs.vote, commit: hs.commit };
    this.prevSoft = { role: 'follower', leader: null, term: this.term };
    this.resetTimers();
  }

  // ---- the seams the simulator's broken-core tests override -------------------------

  /** Raft §5.4.2: a leader commits by counting replicas only entries of its current term. */
  protected isCommittable(index: LogIndex): boolean {
    return this.log.term(index) === this.term;
  }

  /**
   * How many PreVote rounds after losing its leader a pre-candidate refuses the PreVote of a
   * higher id with the same log (see defersPreVote). More than one round would let two
   * pre-candidates that cannot reach each other refuse a third that could win, for ever.
   */
  protected preVoteDeferralRounds(): number {
    return 1;
  }

  /** A leader serves reads (ReadIndex or lease) only once an entry of its term has committed. */
  protected readsAdmitted(): boolean {
    return this.committedInTerm;
  }

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

  // ---- roles ------------------------------------------------------------------------

  /**
   * On a new term, messages of older terms still waiting in the outbox are dropped (the
   * network may lose them anyway). An append acknowledgement queued in term T may name an
   * entry that a term-T+1 leader has since truncated before it was ever persisted: sending
   * it after this Ready's write would claim an entry the disk does not hold.
   */
  private dropStaleMessages(): void {
    if (this.msgs.length > 0) this.msgs = this.msgs.filter((m) => m.term >= this.term);
  }

  /** Index -1 tells the asking follower that this node cannot serve its ReadIndex. */
  private refuseRead(m: ReadIndexRequest): void {
    this.send({
      type: 'read-index-response',
      from: this.id,
      to: m.from,
      term: this.term,
      context: m.context,
      index: -1,
    });
  }

  private becomeFollower(term: Term, leader: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    if (term !== this.term) {
      invariant(term > this.term, () => `becomeFollower: term ${term} below current ${this.term}`);
      this.term = term;
      this.vote = null;
      this.dropStaleMessages();
    }
    this.role = 'follower';
    this.leader = leader;
    this.resetRoleState();
    if (wasLeader) this.refuseReads(this.reads.drain());
    this.trace('become-follower', { term, leader });
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    this.role = 'pre-candidate';
    this.leader = null;
    this.resetRoleState();
    this.preVoteRounds++;
    this.trace('become-pre-candidate', { term: this.term, round: this.preVoteRounds });
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a candidate');
    this.term += 1;
    this.dropStaleMessages();
    this.vote = this.id;
    this.role = 'candidate';
    this.leader = null;
    this.resetRoleState();
    this.trace('become-candidate', { term: this.term });
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', () => `becomeLeader from ${this.role}`);
    this.role = 'leader';
    this.leader = this.id;
    this.resetRoleState();
    this.preVoteRounds = 0;
    this.syncProgress();
    this.trace('become-leader', { term: this.term, lastIndex: this.log.lastIndex() });
    // §5.4.2/§8: a no-op of our term lets earlier entries (and reads) commit.
    this.appendLeaderEntry({ type: 'noop', index: this.log.lastIndex() + 1, term: this.term });
  }

  private resetRoleState(): void {
    this.resetTimers();
    this.votes.clear();
    this.replication.clear();
    this.leadTransferee = null;
    this.committedInTerm = false;
    this.appendsPending = false;
    this.commitChanged = false;
    this.lease.reset();
    this.timeoutNowSent = false;
    this.bootLease = false;
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const e = this.cfg.electionTicks;
    // (E, 2E], not etcd's [E, 2E): a peer that counted one tick fewer since the same
    // heartbeat may still be in its lease (docs/architecture.md, "Elections").
    this.randomizedElectionTimeout = e + 1 + Math.floor(this.cfg.prng.next() * e);
  }

  private followLeader(from: NodeId): void {
    invariant(
      this.role !== 'leader',
      () => `${this.id} leads term ${this.term} but ${from} also acts as leader`,
    );
    if (this.role !== 'follower') this.becomeFollower(this.term, from);
    this.leader = from;
    this.electionElapsed = 0;
    this.preVoteRounds = 0;
  }

  // ---- elections --------------------------------------------------------------------

  private promotable(): boolean {
    return this.membership.current().conf.voters.includes(this.id);
  }

  /**
   * CheckQuorum's side of the leader lease: within an election timeout of hearing from a
   * leader, (pre)votes are ignored, so no other leader can be elected meanwhile. A node that
   * restarts with leaseReads configured may have echoed a heartbeat just before it crashed,
   * so for its first election timeout it honours that lease too (lease.ts relies on both).
   */
  private inLease(): boolean {
    if (!this.cfg.checkQuorum || this.electionElapsed >= this.cfg.electionTicks) return false;
    return this.leader !== null || this.bootLease;
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) this.bootLease = false;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre-vote' : 'election');
    }
  }

  private campaign(kind: CampaignKind): void {
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

  private handleVoteRequest(m: VoteRequest): void {
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
  private defersPreVote(m: VoteRequest): boolean {
    return (
      m.preVote &&
      this.role === 'pre-candidate' &&
      this.preVoteRounds <= this.preVoteDeferralRounds() &&
      m.from > this.id &&
      m.lastLogTerm === this.log.lastTerm() &&
      m.lastLogIndex === this.log.lastIndex()
    );
  }

  private poll(from: NodeId, granted: boolean): void {
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

  /** A message from an older term: tell the sender our term where that helps, never obey it. */
  private answerStale(m: Message): void {
    if (m.type === 'append' || m.type === 'heartbeat') {
      // A deposed leader (e.g. back from a partition) learns it must step down.
      this.send({
        type: 'append-response',
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        index: 0,
      });
    } else if (m.type === 'vote-request') {
      this.send({
        type: 'vote-response',
        from: this.id,
        to: m.from,
        term: this.term,
        preVote: m.preVote,
        granted: false,
      });
    } else if (m.type === 'read-index') {
      this.refuseRead(m);
    }
  }

  // ---- follower side of replication --------------------------------------------------

  private handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.commit) {
      // Everything up to our commit index matches any leader's log: say so.
      this.respondAppend(m.from, true, this.commit);
      return;
    }
    if (!this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      const probe = Math.min(m.prevIndex, this.log.lastIndex());
      const hintIndex = this.log.findConflictByTerm(probe, m.prevTerm);
      const conflictTerm = this.log.term(hintIndex) ?? 0;
      this.send({
        type: 'append-response',
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        index: m.prevIndex,
        rejectHint: { conflictTerm, hintIndex },
      });
      return;
    }
    const lastNew = m.prevIndex + m.entries.length;
    const conflict = this.log.findConflict(m.entries);
    if (conflict !== 0) {
      invariant(
        conflict > this.commit,
        () => `append from ${m.from} would overwrite committed entry ${conflict} (commit ${this.commit})`,
      );
      const fresh = m.entries.slice(conflict - m.prevIndex - 1);
      if (conflict <= this.log.lastIndex()) this.membership.truncatedFrom(conflict);
      this.log.truncateAndAppend(fresh);
      for (const e of fresh) if (e.type === 'config') this.membership.appended(e);
    }
    this.commitTo(Math.min(m.commit, lastNew));
    this.respondAppend(m.from, true, lastNew);
  }

  private handleHeartbeat(m: Heartbeat): void {
    this.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const response: HeartbeatResponse = {
      type: 'heartbeat-response',
      from: this.id,
      to: m.from,
      term: this.term,
      context: m.context,
    };
    this.send(response);
  }

  private handleSnapshot(m: InstallSnapshot): void {
    const meta = m.snapshot.meta;
    if (meta.index <= this.commit) {
      this.respondAppend(m.from, true, this.commit);
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // Our log already holds the snapshot's last entry: keep what follows it.
      this.commitTo(meta.index);
      this.respondAppend(m.from, true, this.commit);
      return;
    }
    this.trace('restore-snapshot', { index: meta.index, term: meta.term, from: m.from });
    this.log.restore(m.snapshot);
    this.membership.reset(meta);
    this.commit = meta.index;
    this.respondAppend(m.from, true, meta.index);
  }

  private respondAppend(to: NodeId, success: boolean, index: LogIndex): void {
    const response: AppendResponse = {
      type: 'append-response',
      from: this.id,
      to,
      term: this.term,
      success,
      index,
    };
    this.send(response);
  }

  private commitTo(index: LogIndex): void {
    if (index <= this.commit) return;
    invariant(
      index <= this.log.lastIndex(),
      () => `commit ${index} beyond lastIndex ${this.log.lastIndex()}`,
    );
    this.commit = index;
  }

  // ---- leader side of replication ----------------------------------------------------

  private tickLeader(): void {
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

  private checkProposal(): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.leadTransferee !== null)
      throw new ProposalDroppedError(`leadership transfer to ${this.leadTransferee} in progress`);
    const conf = this.membership.current().conf;
    if (!conf.voters.includes(this.id))
      throw new ProposalDroppedError(`${this.id} is being removed from the cluster`);
  }

  private appendLeaderEntry(entry: Entry): void {
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
  private syncProgress(): void {
    const conf = this.membership.current().conf;
    this.replication.sync([...conf.voters, ...conf.learners]);
    if (this.leadTransferee !== null && !conf.voters.includes(this.leadTransferee))
      this.leadTransferee = null;
  }

  /** Sends what is waiting (new entries, a new commit index, a read round) at ready() time, batched. */
  private flushLeader(): void {
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

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.replication.onAppendResponse(m);
    if (!pr) return;
    this.maybeCommit();
    if (this.role !== 'leader') return;
    this.replication.sendAppends(pr, false);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    this.replication.onHeartbeatResponse(m);
    if (m.context === '') return;
    this.lease.ack(m.from, m.context);
    this.deliverReads(this.reads.ack(m.context, m.from, this.membership.current().conf.voters));
  }

  /**
   * Periodic heartbeats repeat the newest unconfirmed ReadIndex round (so a lost one is
   * retried); otherwise, with leaseReads, a fresh context stamped for the lease.
   */
  private heartbeatContext(): string {
    const round = this.reads.latestRound();
    if (round !== null) return round;
    return this.cfg.leaseReads ? this.lease.next(`${this.id}:${this.term}`) : '';
  }

  private sendTimeoutNow(to: NodeId): void {
    this.timeoutNowSent = true;
    this.trace('timeout-now-sent', { to });
    this.send({ type: 'timeout-now', from: this.id, to, term: this.term });
  }

  /** Advances commit to what a majority of voters persisted, if that entry is of our term. */
  private maybeCommit(): void {
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

  // ---- reads ------------------------------------------------------------------------

  private singleVoter(): boolean {
    const voters = this.membership.current().conf.voters;
    return voters.length === 1 && voters[0] === this.id;
  }

  private leaderRead(request: ReadRequest): void {
    const admitted = this.readsAdmitted();
    this.reads.add(request, admitted);
    if (admitted && this.singleVoter()) this.deliverReads(this.reads.takeBatch(this.commit));
  }

  private deliverReads(reads: readonly ConfirmedRead[]): void {
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

  private refuseReads(reads: readonly ReadRequest[]): void {
    this.deliverReads(reads.map((r) => ({ ...r, index: -1 })));
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

  private send(m: Message): void {
    invariant(m.to !== this.id, () => `${this.id} sending ${m.type} to itself`);
    this.msgs.push(m);
  }

  private trace(event: string, fields: Record<string, unknown>): void {
    this.cfg.logger?.(event, { id: this.id, ...fields });
  }
}
