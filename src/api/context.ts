// What every route shares: the node, the forwarder, and the two request paths. A write is
// validated here, then proposed on the leader (or forwarded to it) and answered with the
// applied result. A read first honours `?consistency=` (linearizable: ReadIndex barrier;
// leader: on the leader, under its lease or else a ReadIndex round; stale: local state) and
// then queries the local FSM. A forward in flight when the leader changes is sent again to
// the new leader if it is safe to repeat (a read, a write with an Idempotency-Key), and
// fails fast otherwise.

import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.js';
import { NoLeaderError, NotLeaderError, ProposalLostError } from '../node/index.js';
import type { RoleChange } from '../node/index.js';
import type { AccessOptions } from './access.js';
import { ApiError } from './problem.js';
import { Forwarder, LEADER_HEADER, REPLAYED_HEADER } from './forward.js';
import { idempotencyKey, queryString, requestFingerprint } from './validation.js';
import type { ShopCommand, ShopNode, WriteMeta } from './shop.js';
import type { RoleTimeline } from './timeline.js';
import { unwrapResult } from './shop.js';

export type Consistency = 'linearizable' | 'leader' | 'stale';

export interface ApiContext {
  readonly node: ShopNode;
  readonly forwarder: Forwarder;
  readonly logger: Logger;
  readonly metrics: Metrics | null;
  /** Wall clock for created_at/updated_at, injectable for tests. */
  readonly now: () => number;
  /** Interval of SSE heartbeat comments. */
  readonly sseHeartbeatMs: number;
  /** How long an SSE reader may go without draining before its stream is closed. */
  readonly sseStallMs: number;
  /** Tokens the admin and join routes check (src/api/access.ts). */
  readonly access: AccessOptions;
  /** Why a member may not join (e.g. its StatefulSet ordinal is being scaled away), or null. */
  readonly admitJoin: (id: string) => string | null;
  /** Open SSE responses: ended at shutdown so draining does not wait on them. */
  readonly streams: Set<Response>;
  /** The Kubernetes pod name, or null. */
  readonly podName: string | null;
  /** This node's recent role and leader changes (`GET /cluster/timeline`). */
  readonly timeline: RoleTimeline;
}

/** Express 5 forwards rejected promises to the error handler; this only narrows types. */
export function route(handler: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      const out = handler(req, res);
      if (out instanceof Promise) out.catch(next);
    } catch (error) {
      next(error);
    }
  };
}

/** The raw request body bytes, kept by the JSON parser for forwarding. */
export function rawBody(req: Request): Buffer | undefined {
  return (req as Request & { rawBody?: Buffer }).rawBody;
}

/** Where to send a request this node cannot serve as leader; throws when nowhere. */
function leaderTarget(ctx: ApiContext, req: Request): { leader: string; url: string } {
  const leader = ctx.node.leaderId();
  if (leader === null) throw new NoLeaderError();
  if (Forwarder.wasForwarded(req)) {
    throw new ApiError(
      'not_leader',
      `this node is not the leader (the request was already forwarded once); the leader is ${leader}`,
      { leader },
    );
  }
  const url = ctx.node.apiAddress(leader);
  if (url === null) throw new NotLeaderError(leader, null);
  return { leader, url };
}

/** Replays a request this node cannot serve against the leader (throws 503 when there is none). */
export async function forwardToLeader(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  await ctx.forwarder.forward(req, res, leaderTarget(ctx, req), rawBody(req));
}

/** The leader a forward was sent to changed while it was in flight. */
class LeaderMovedError extends Error {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`the leader changed from ${from} to ${to} while the request was forwarded`);
  }
}

/** How often one request follows the leader before it gives up (with no_leader). */
const MAX_LEADER_MOVES = 3;
/** How long a repeatable request waits for the next leader after the one it was sent to lost the lead. */
const NEXT_LEADER_WAIT_MS = 5_000;

/**
 * Forwards the request to the leader and relays the answer ('answered'). If the leader this
 * node follows changes before the answer came (the old one may be frozen or cut off, and
 * would hold the request for the whole forward timeout), a request that is safe to send
 * twice — a read, a write with an Idempotency-Key — goes to the new leader, or comes back
 * to be served here ('local') when that is this node; any other write fails at once with
 * proposal_lost (503 + Retry-After: it may or may not have been applied).
 */
async function forwardFollowingLeader(
  ctx: ApiContext,
  req: Request,
  res: Response,
  body: Buffer | undefined,
  repeatable: boolean,
): Promise<'answered' | 'local'> {
  for (let moves = 0; ; moves++) {
    const target = leaderTarget(ctx, req);
    const moved = new AbortController();
    const off = ctx.node.on('role', (change: RoleChange) => {
      // A follower that merely lost track of the leader (campaigning, null) keeps waiting: the
      // leader may well answer. Only another leader makes the old one's answer unlikely.
      if (change.leader !== null && change.leader !== target.leader) {
        moved.abort(new LeaderMovedError(target.leader, change.leader));
      }
    });
    try {
      await ctx.forwarder.forward(req, res, target, body, moved.signal);
      return 'answered';
    } catch (error) {
      if (!(error instanceof LeaderMovedError)) throw error;
      if (!repeatable) {
        throw new ProposalLostError(
          `${error.message}; retry it (with an Idempotency-Key, so that a retry can never apply it twice)`,
        );
      }
      if (moves + 1 >= MAX_LEADER_MOVES)
        throw new NoLeaderError(`${error.message}, ${MAX_LEADER_MOVES} times`);
    } finally {
      off();
    }
    await nextLeader(ctx);
    if (ctx.node.isLeader()) return 'local';
  }
}

/** Resolves once this node knows a leader (at once if it does); no_leader after a while. */
function nextLeader(ctx: ApiContext): Promise<void> {
  if (ctx.node.leaderId() !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new NoLeaderError());
    }, NEXT_LEADER_WAIT_MS);
    const off = ctx.node.on('role', (change: RoleChange) => {
      if (change.leader === null) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * A member whose Raft loop stopped (a full or failed disk) still knows the leader it had
 * and still believes it leads if it did: it must neither forward writes as if it were a
 * working member nor serve leader reads from a state that stopped where its disk did.
 */
function refuseIfStopped(ctx: ApiContext, what: string): void {
  if (ctx.node.isHealthy()) return;
  throw new ApiError(
    'unhealthy',
    `this node stopped after a storage failure (see its log) and serves no ${what}; use another member`,
  );
}

/**
 * Runs one write: on the leader, builds the command (ids and timestamps chosen here, once)
 * and proposes it; on a follower, forwards the original request to the leader. `input` is
 * the validated request (normalised: `pla` and `PLA` are the same request); with the path it
 * is what an Idempotency-Key's fingerprint covers.
 */
export async function handleWrite(
  ctx: ApiContext,
  req: Request,
  res: Response,
  okStatus: number,
  input: unknown,
  build: (meta: WriteMeta) => ShopCommand,
  location?: (value: unknown) => string,
): Promise<void> {
  const key = idempotencyKey(req.headers['idempotency-key']);
  if (!ctx.node.isLeader()) {
    refuseIfStopped(ctx, 'writes');
    if ((await forwardFollowingLeader(ctx, req, res, rawBody(req), key !== undefined)) === 'answered') return;
  }
  const meta: WriteMeta = {
    at: ctx.now(),
    newId: randomUUID,
    idempotency:
      key === undefined ? null : { key, fingerprint: requestFingerprint(req.method, req.path, input) },
  };
  let result;
  try {
    result = await ctx.node.propose(build(meta));
  } catch (error) {
    // Leadership moved between the check and the proposal: forward instead.
    if (error instanceof NotLeaderError && error.leaderApi !== null && !Forwarder.wasForwarded(req)) {
      await ctx.forwarder.forward(
        req,
        res,
        { leader: error.leader ?? '', url: error.leaderApi },
        rawBody(req),
      );
      return;
    }
    throw error;
  }
  const { value, replayed } = unwrapResult(result);
  res.setHeader(LEADER_HEADER, ctx.node.id);
  if (replayed) res.setHeader(REPLAYED_HEADER, 'true');
  if (location) res.setHeader('Location', location(value));
  sendJson(res, okStatus, value);
}

/**
 * JSON out without Express's res.json()/res.send() (charset juggling, ETag and freshness
 * checks this API does not use): the two hot paths, writes and reads, go through here.
 */
function sendJson(res: Response, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function parseConsistency(req: Request): Consistency {
  const raw = queryString(req.query as Record<string, unknown>, 'consistency');
  if (raw === undefined || raw === '') return 'linearizable';
  if (raw === 'linearizable' || raw === 'leader' || raw === 'stale') return raw;
  throw new ApiError(
    'invalid_query',
    `consistency must be linearizable, leader or stale, not ${JSON.stringify(raw)}`,
  );
}

/**
 * Makes the local state fit to answer a read at the requested consistency. Returns false
 * when the request was forwarded to the leader (and is already answered).
 */
export async function prepareRead(ctx: ApiContext, req: Request, res: Response): Promise<boolean> {
  const consistency = parseConsistency(req);
  if (consistency === 'stale') return true;
  if (consistency === 'leader') {
    refuseIfStopped(ctx, 'leader reads');
    if (
      !ctx.node.isLeader() &&
      (await forwardFollowingLeader(ctx, req, res, undefined, true)) === 'answered'
    ) {
      return false;
    }
    // The leader's lease when it holds, else a ReadIndex round (docs/api.md).
    await ctx.node.leaseRead();
    return true;
  }
  await ctx.node.readBarrier();
  return true;
}

/** A read route: consistency first, then `query` against the local state machine. */
export function readRoute(ctx: ApiContext, query: (req: Request) => unknown): RequestHandler {
  return route(async (req, res) => {
    if (!(await prepareRead(ctx, req, res))) return;
    sendJson(res, 200, query(req));
  });
}
