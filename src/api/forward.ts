// Leader forwarding: a write (or a leader-consistency read) that reaches a follower is
// replayed against the leader's API with undici, keeping the body bytes, content type,
// Idempotency-Key and Authorization, and marked with a loop-protection header: a forwarded
// request that lands on a non-leader is answered 503 instead of bouncing again. Only the
// path and query travel: the leader's base URL decides the host (src/api/request-target.ts).

import { Agent, request } from 'undici';
import type { Request, Response } from 'express';
import { ApiError } from './problem.js';
import { leaderUrl } from './request-target.js';

export const FORWARDED_HEADER = 'x-raft3d-forwarded-by';
export const LEADER_HEADER = 'X-Raft3D-Leader';
/** Set on a response that replays the stored result of an earlier request with the same Idempotency-Key. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** Response headers worth passing back to the client. */
const PASS_BACK = ['content-type', 'location', 'retry-after', 'x-raft3d-leader', 'idempotent-replayed'];

export interface ForwardTarget {
  readonly leader: string;
  readonly url: string;
}

export class Forwarder {
  private readonly agent: Agent;

  constructor(
    private readonly selfId: string,
    private readonly timeoutMs: number,
    /** CA (PEM) to verify the leader's certificate when the API runs over TLS. */
    tlsCa: string | Buffer | null = null,
  ) {
    this.agent = new Agent({
      keepAliveTimeout: 10_000,
      connections: 64,
      pipelining: 1,
      ...(tlsCa === null ? {} : { connect: { ca: tlsCa } }),
    });
  }

  /** Whether this request was already forwarded once (never forward it again). */
  static wasForwarded(req: Request): boolean {
    return req.headers[FORWARDED_HEADER] !== undefined;
  }

  /**
   * Replays the request at `target` and relays its answer. When `signal` aborts before the
   * answer arrived, rejects with the signal's reason (the caller decides what a request
   * interrupted that way becomes) and answers nothing.
   */
  async forward(
    req: Request,
    res: Response,
    target: ForwardTarget,
    rawBody: Buffer | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const headers: Record<string, string> = { [FORWARDED_HEADER]: this.selfId, accept: 'application/json' };
    const contentType = req.headers['content-type'];
    if (contentType) headers['content-type'] = contentType;
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') headers['idempotency-key'] = key;
    // Admin routes check the token on the leader too.
    const authorization = req.headers.authorization;
    if (typeof authorization === 'string') headers['authorization'] = authorization;
    const url = leaderUrl(target.url, req.originalUrl);
    let answer: Awaited<ReturnType<typeof request>>;
    try {
      answer = await request(url, {
        method: req.method === 'GET' ? 'GET' : 'POST',
        headers,
        ...(rawBody && rawBody.length > 0 ? { body: rawBody } : {}),
        dispatcher: this.agent,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new ApiError(
        'forwarding_failed',
        `could not reach the leader ${target.leader}: ${error instanceof Error ? error.message : String(error)}`,
        {
          leader: target.leader,
        },
      );
    }
    const body = Buffer.from(await answer.body.arrayBuffer());
    res.status(answer.statusCode);
    for (const name of PASS_BACK) {
      const value = answer.headers[name];
      if (typeof value === 'string') res.setHeader(name, value);
    }
    if (!res.getHeader(LEADER_HEADER)) res.setHeader(LEADER_HEADER, target.leader);
    res.end(body);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
