// Errors the node driver rejects proposals and reads with. Each has a stable `code` that
// the API maps to an HTTP status in one place (src/api/problem.ts); messages are for humans.

import type { NodeId } from '../raft/messages.js';

/** Base class: every driver error carries a stable, machine-readable code. */
export abstract class NodeError extends Error {
  abstract readonly code: string;
  /** Whether retrying the same request later may succeed (the API adds Retry-After). */
  abstract readonly retryable: boolean;
}

/** This node is not the leader. `leader`/`leaderApi` say where to go when known. */
export class NotLeaderError extends NodeError {
  readonly code = 'not_leader';
  readonly retryable = true;
  constructor(
    readonly leader: NodeId | null,
    readonly leaderApi: string | null,
  ) {
    super(
      leader === null
        ? 'this node is not the leader and no leader is known'
        : `this node is not the leader; the leader is ${leader}`,
    );
    this.name = 'NotLeaderError';
  }
}

/** No leader is known (election in progress or no quorum): try again shortly. */
export class NoLeaderError extends NodeError {
  readonly code = 'no_leader';
  readonly retryable = true;
  constructor(message = 'no leader is available (election in progress or quorum lost)') {
    super(message);
    this.name = 'NoLeaderError';
  }
}

/** The operation did not finish in time; for a write the outcome is unknown. */
export class TimeoutError extends NodeError {
  readonly code = 'timeout';
  readonly retryable = true;
  constructor(what: string, ms: number) {
    super(
      `${what} did not complete within ${ms} ms (the cluster may have lost quorum); its outcome is unknown`,
    );
    this.name = 'TimeoutError';
  }
}

/**
 * A proposal's entry was overwritten by another term's entry, or this node stopped leading
 * before it committed. The write may or may not have been applied: retry with the same
 * Idempotency-Key to find out safely.
 */
export class ProposalLostError extends NodeError {
  readonly code = 'proposal_lost';
  readonly retryable = true;
  constructor(reason: string) {
    super(`proposal lost: ${reason}; it may or may not have been applied`);
    this.name = 'ProposalLostError';
  }
}

/** The node is stopping or stopped. */
export class NodeStoppedError extends NodeError {
  readonly code = 'node_stopped';
  readonly retryable = true;
  constructor() {
    super('the node is stopping');
    this.name = 'NodeStoppedError';
  }
}

/** A read barrier was refused by the leader or could not reach a quorum. */
export class NoQuorumError extends NodeError {
  readonly code = 'no_quorum';
  readonly retryable = true;
  constructor(message = 'the leader could not confirm its leadership with a quorum') {
    super(message);
    this.name = 'NoQuorumError';
  }
}

/** A request the core refused for a reason other than leadership (e.g. a transfer in progress). */
export class ProposalDroppedError extends NodeError {
  readonly code = 'proposal_dropped';
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'ProposalDroppedError';
  }
}
