// What the driver believes about leadership, as its Readies report it (its role and the leader
// it follows), whether it has caught up with that leader (readiness), and how it
// says no to a request it cannot serve: the errors a client acts on (retry elsewhere, follow
// the leader, wait for an election).

import type { Logger } from 'pino';
import { NotLeaderError, ProposalDroppedError } from '../raft/index.js';
import type { NodeId, Role, Term } from '../raft/index.js';
import { NoLeaderError, NodeStoppedError } from './errors.js';
import type { NodeMetrics } from './node-metrics.js';
import type { RoleChange } from './types.js';

export interface StandingDeps {
  readonly id: NodeId;
  readonly logger: Logger;
  readonly gauges: NodeMetrics;
  /** True once the node stopped (gracefully or on a fatal error). */
  readonly stopped: () => boolean;
  /** The node's linearizable read barrier: resolves once it applied what the leader committed. */
  readonly readBarrier: () => Promise<void>;
  readonly apiAddress: (id: NodeId) => string | null;
}

export class Standing {
  private currentRole: Role = 'follower';
  private currentLeader: NodeId | null = null;
  private caughtUp = false;
  private catchingUp = false;

  constructor(private readonly deps: StandingDeps) {}

  get role(): Role {
    return this.currentRole;
  }

  get leader(): NodeId | null {
    return this.currentLeader;
  }

  /** A Ready's soft state: records the new role and leader, and returns the change. */
  change(role: Role, leader: NodeId | null, term: Term): RoleChange {
    const change: RoleChange = { role, leader, term, previousRole: this.role, previousLeader: this.leader };
    this.currentRole = role;
    this.currentLeader = leader;
    this.deps.gauges.roleChanged(change);
    if (leader !== change.previousLeader && leader !== null)
      this.deps.logger.info({ id: this.deps.id, leader, term }, 'leader changed');
    return change;
  }

  /** Follows a leader and has applied what it had committed when this node first followed it. */
  get ready(): boolean {
    return this.leader !== null && this.caughtUp;
  }

  /** Readiness: one read barrier after first following a leader = "applied what it had committed". */
  catchUp(): void {
    if (this.caughtUp || this.catchingUp || this.leader === null || this.deps.stopped()) return;
    this.catchingUp = true;
    this.deps.readBarrier().then(
      () => {
        this.caughtUp = true;
        this.catchingUp = false;
      },
      () => {
        this.catchingUp = false;
      },
    );
  }

  /** Why a write cannot be taken here (null on a running leader). */
  writeRefusal(): Error | null {
    if (this.deps.stopped()) return new NodeStoppedError();
    if (this.role === 'leader') return null;
    if (this.leader === null) return new NoLeaderError();
    return new NotLeaderError(this.leader, this.deps.apiAddress(this.leader));
  }

  /**
   * The client's error for a refusal from the core (never a broken invariant: the driver stops
   * on those before asking). The core may know it lost leadership before the driver saw the
   * Ready saying so.
   */
  coreRefusal(error: unknown): Error {
    if (this.deps.stopped()) return new NodeStoppedError();
    if (error instanceof NotLeaderError) {
      return error.leader === null || error.leader === this.deps.id
        ? new NoLeaderError()
        : new NotLeaderError(error.leader, this.deps.apiAddress(error.leader));
    }
    if (error instanceof ProposalDroppedError) return error;
    return new ProposalDroppedError(error instanceof Error ? error.message : String(error));
  }
}
