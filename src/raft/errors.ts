// Errors the core throws to its caller. Each has a stable `code` the driver and API map
// in one place; messages are for humans. `invariant` is for broken preconditions: the
// core would rather crash loudly than replicate a corrupted log.

import type { NodeId } from './messages.js';

/** The codes of the core's errors: `not_leader` and `proposal_dropped` are refusals, `invariant` a bug. */
export type RaftErrorCode = 'not_leader' | 'proposal_dropped' | 'invariant';

export abstract class RaftError extends Error {
  abstract readonly code: RaftErrorCode;
}

/**
 * The operation needs the leader; `leader` is who this node believes leads (null if
 * unknown). The core knows ids only: the driver, which knows where each member's API
 * answers, fills in `leaderApi` when it passes the refusal on.
 */
export class NotLeaderError extends RaftError {
  readonly code = 'not_leader';
  constructor(
    readonly leader: NodeId | null,
    readonly leaderApi: string | null = null,
  ) {
    super(
      leader === null ? 'not the leader and no leader is known' : `not the leader; the leader is ${leader}`,
    );
    this.name = 'NotLeaderError';
  }
}

/** The leader refused the proposal (leadership transfer in progress, a config change pending...). */
export class ProposalDroppedError extends RaftError {
  readonly code = 'proposal_dropped';
  constructor(reason: string) {
    super(`proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

/** A broken precondition inside the core or in how the caller drives it. */
export class InvariantError extends RaftError {
  readonly code = 'invariant';
  constructor(message: string) {
    super(`raft invariant broken: ${message}`);
    this.name = 'InvariantError';
  }
}

export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
