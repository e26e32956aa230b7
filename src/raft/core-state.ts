// The state every part of the core shares (term, vote, commit, role, log, membership, the
// outbox) and the role changes, one method each (becomeFollower, becomePreCandidate,
// becomeCandidate, becomeLeader). The core is built in layers, one concern a file:
// core-state.ts <- elections.ts <- follower.ts <- leader.ts <- core.ts (the public API and
// the Ready plumbing). The layers share this state as one class would; none does I/O.

import { invariant } from './errors.js';
import { LeaseTracker, leaseTicks } from './lease.js';
import { RaftLog } from './log.js';
import { Membership } from './membership.js';
import { Replication } from './replication.js';
import { ReadQueue } from './read-index.js';
import type { ReadRequest } from './read-index.js';
import type {
  Entry,
  HardState,
  LogIndex,
  Message,
  NodeId,
  ReadState,
  Role,
  SoftState,
  Term,
} from './messages.js';
import type { PersistedState, RaftConfig } from './types.js';

export type CampaignKind = 'pre-vote' | 'election' | 'transfer';

export abstract class CoreState {
  readonly id: NodeId;
  protected readonly cfg: RaftConfig;
  protected readonly log: RaftLog;
  protected readonly membership: Membership;

  protected term: Term;
  protected vote: NodeId | null;
  protected commit: LogIndex;
  protected applied: LogIndex;
  protected role: Role = 'follower';
  protected leader: NodeId | null = null;

  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  protected randomizedElectionTimeout = 0;
  protected votes = new Map<NodeId, boolean>();
  /** PreVote rounds campaigned since this node last heard from a leader (see defersPreVote). */
  protected preVoteRounds = 0;
  /** Honouring, after a boot, a lease this node may have granted before it (see inLease). */
  protected bootLease: boolean;

  // Leader state.
  protected readonly replication: Replication;
  protected leadTransferee: NodeId | null = null;
  /** An entry of this leader's term has committed (gates reads and config changes). */
  protected committedInTerm = false;
  protected readonly lease: LeaseTracker;
  /** A TimeoutNow left in this term: its target may campaign through any lease, so ours is void. */
  protected timeoutNowSent = false;
  /** New entries or a new commit index wait to be sent to followers at the next ready(). */
  protected appendsPending = false;
  protected commitChanged = false;
  protected readonly reads = new ReadQueue();

  // Output not yet taken by ready().
  protected msgs: Message[] = [];
  protected readStates: ReadState[] = [];
  protected prevSoft: SoftState;
  protected prevHard: HardState;

  protected constructor(config: RaftConfig, persisted?: PersistedState) {
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

  // ---- what later layers provide -------------------------------------------------------

  /** leader.ts: appends an entry of this leader's term (the no-op of becomeLeader). */
  protected abstract appendLeaderEntry(entry: Entry): void;
  /** leader.ts: progress for every member but us. */
  protected abstract syncProgress(): void;
  /** leader.ts: answers reads that can no longer be served (index -1). */
  protected abstract refuseReads(reads: readonly ReadRequest[]): void;

  // ---- roles ---------------------------------------------------------------------------

  /**
   * On a new term, messages of older terms still waiting in the outbox are dropped (the
   * network may lose them anyway): one could claim an entry the disk does not hold
   * (docs/architecture.md, "Rules the core guarantees").
   */
  protected dropStaleMessages(): void {
    if (this.msgs.length > 0) this.msgs = this.msgs.filter((m) => m.term >= this.term);
  }

  protected becomeFollower(term: Term, leader: NodeId | null): void {
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

  protected becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    this.role = 'pre-candidate';
    this.leader = null;
    this.resetRoleState();
    this.preVoteRounds++;
    this.trace('become-pre-candidate', { term: this.term, round: this.preVoteRounds });
  }

  protected becomeCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a candidate');
    this.term += 1;
    this.dropStaleMessages();
    this.vote = this.id;
    this.role = 'candidate';
    this.leader = null;
    this.resetRoleState();
    this.trace('become-candidate', { term: this.term });
  }

  protected becomeLeader(): void {
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

  protected resetRoleState(): void {
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

  protected resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const e = this.cfg.electionTicks;
    // (E, 2E], not etcd's [E, 2E): a peer that counted one tick fewer since the same
    // heartbeat may still be in its lease (docs/architecture.md, "Elections").
    this.randomizedElectionTimeout = e + 1 + Math.floor(this.cfg.prng.next() * e);
  }

  protected followLeader(from: NodeId): void {
    invariant(
      this.role !== 'leader',
      () => `${this.id} leads term ${this.term} but ${from} also acts as leader`,
    );
    if (this.role !== 'follower') this.becomeFollower(this.term, from);
    this.leader = from;
    this.electionElapsed = 0;
    this.preVoteRounds = 0;
  }

  protected promotable(): boolean {
    return this.membership.current().conf.voters.includes(this.id);
  }

  protected send(m: Message): void {
    invariant(m.to !== this.id, () => `${this.id} sending ${m.type} to itself`);
    this.msgs.push(m);
  }

  protected trace(event: string, fields: Record<string, unknown>): void {
    this.cfg.logger?.(event, { id: this.id, ...fields });
  }
}
