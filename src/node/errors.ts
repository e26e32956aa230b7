// Errors the node driver rejects proposals and reads with. Each has a stable `code` that
// the API maps to an HTTP status in one place (src/api/errors.ts); messages are for humans.
// The core's refusals (NotLeaderError, ProposalDroppedError from src/raft) pass through
// the driver as they are, with the leader's API address filled in.

import type { RaftErrorCode } from '../raft/index.js';

/** Base class: every driver error carries a stable, machine-readable code. */
export abstract class NodeError extends Error {
  abstract readonly code: 'no_leader' | 'timeout' | 'proposal_lost' | 'node_stopped' | 'no_quorum';
}

/** Every code a proposal or read can fail with: the driver's own, and the core's refusals. */
export type NodeErrorCode = NodeError['code'] | Exclude<RaftErrorCode, 'invariant'>;

/** No leader is known (election in progress or no quorum): try again shortly. */
export class NoLeaderError extends NodeError {
  readonly code = 'no_leader';
  constructor(message = 'no leader is available (election in progress or quorum lost)') {
    super(message);
    this.name = 'NoLeaderError';
  }
}

/** The operation did not finish in time; for a write the outcome is unknown. */
export class TimeoutError extends NodeError {
  readonly code = 'timeout';
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
  constructor(reason: string) {
    super(`proposal lost: ${reason}; it may or may not have been applied`);
    this.name = 'ProposalLostError';
  }
}

/** The node is stopping or stopped. */
export class NodeStoppedError extends NodeError {
  readonly code = 'node_stopped';
  constructor() {
    super('the node is stopping');
    this.name = 'NodeStoppedError';
  }
}

/** A read barrier was refused by the leader or could not reach a quorum. */
export class NoQuorumError extends NodeError {
  readonly code = 'no_quorum';
  constructor(message = 'the leader could not confirm its leadership with a quorum') {
    super(message);
    this.name = 'NoQuorumError';
  }
}
