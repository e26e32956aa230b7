// createApp(options): the Express 5 application of one node. Order matters: request
// metrics, then the content-type gate (415), the size-limited JSON parser (413, malformed
// → 400), the routes of the route table (src/api/routes.ts, each path's 405 included), a
// problem+json 404, and one error handler that maps every error through src/api/problem.ts
// and the catalogue in src/api/errors.ts (never a stack trace, never a 500 for bad input).

import express from 'express';
import type { Express, NextFunction, Request, Response, Router } from 'express';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.js';
import type { ApiContext } from './context.js';
import { Forwarder } from './forward.js';
import { ApiError, sendProblem, toProblem } from './problem.js';
import { jsonBody } from './json-body.js';
import { OPEN_ACCESS } from './access.js';
import type { AccessOptions } from './access.js';
import { memberCors } from './cors.js';
import { RoleTimeline } from './timeline.js';
import { mountRoutes } from './route-table.js';
import { API_ROUTES } from './routes.js';
import type { ShopNode } from './shop.js';

/**
 * Everything createApp needs. Only `node` is required:
 * - `node`: the started RaftNode running the print-shop FSM (`RaftNode.start`, see src/api/shop.ts `ShopNode`);
 *   its `apiAddress(id)` map is what leader forwarding uses, so main.ts must fill it (NodeOptions.apiAddresses).
 * - `metrics`: the per-node registry (the same object given to the node); default `node.metrics`.
 *   Enables `GET /metrics` and the http_requests_total / http_request_duration_seconds series.
 * - `logger`: pino logger; default `node.logger`.
 * - `forwarder`: how writes reach the leader from a follower; default a new undici-based Forwarder.
 * - `bodyLimitBytes` (64 KiB), `forwardTimeoutMs` (10 s), `sseHeartbeatMs` (15 s), `sseStallMs` (30 s),
 *   `now` (Date.now), `podName` (null).
 * - `access`: admin token and cluster secret (default open), `admitJoin` (default: admit all).
 */
export interface AppOptions {
  readonly node: ShopNode;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  readonly forwarder?: Forwarder;
  /** Largest accepted JSON body; default 64 KiB (larger → 413). */
  readonly bodyLimitBytes?: number;
  /** Timeout for a request forwarded to the leader; default 10 s. */
  readonly forwardTimeoutMs?: number;
  /** Interval of the SSE heartbeat comment on `GET /api/v1/events?watch=true`; default 15 s. */
  readonly sseHeartbeatMs?: number;
  /**
   * How long an SSE reader may leave the socket full (not draining) before its stream ends
   * with a `closed` event naming where to resume; default 30 s.
   */
  readonly sseStallMs?: number;
  /** Wall clock for created_at/updated_at (ms since epoch); default Date.now. */
  readonly now?: () => number;
  /** Admin token and cluster secret for the admin and join routes; default: open (development). */
  readonly access?: AccessOptions;
  /** Refuses a joining member (returns why) or admits it (null); default: admit every member. */
  readonly admitJoin?: (id: string) => string | null;
  /** The Kubernetes pod this node runs in, shown by `/cluster/status` (null outside Kubernetes). */
  readonly podName?: string | null;
}

export type Raft3dApp = Express & {
  /** Releases the forwarding connection pool (when createApp built it). */
  closeApp(): Promise<void>;
  /** Ends every open event stream (SSE clients reconnect elsewhere): call before draining. */
  endStreams(): void;
};

export function createApp(options: AppOptions): Raft3dApp {
  const node = options.node;
  const logger = options.logger ?? node.logger ?? pino({ enabled: false });
  const metrics = options.metrics ?? node.metrics ?? null;
  const ownForwarder = options.forwarder === undefined;
  const forwarder = options.forwarder ?? new Forwarder(node.id, options.forwardTimeoutMs ?? 10_000);
  const now = options.now ?? Date.now;
  const ctx: ApiContext = {
    node,
    forwarder,
    logger,
    metrics,
    now,
    sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
    sseStallMs: options.sseStallMs ?? 30_000,
    access: options.access ?? OPEN_ACCESS,
    admitJoin: options.admitJoin ?? (() => null),
    streams: new Set(),
    podName: options.podName ?? null,
    timeline: new RoleTimeline(node, now),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  if (metrics) {
    const counter = metrics.httpRequests;
    const histogram = metrics.httpSeconds;
    // prom-client hashes a label object on every call; the label sets are few, so the
    // bound children are kept instead (this runs on every request).
    const counts = new Map<string, { inc(): void }>();
    const timings = new Map<string, { observe(value: number): void }>();
    app.use((req: Request, res: Response, next: NextFunction) => {
      const started = performance.now();
      res.once('finish', () => {
        const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
        const route = typeof routePath === 'string' ? routePath : 'unmatched';
        const code = String(res.statusCode);
        const timingKey = `${req.method} ${route}`;
        const countKey = `${timingKey} ${code}`;
        let count = counts.get(countKey);
        if (!count) counts.set(countKey, (count = counter.labels({ method: req.method, route, code })));
        let timing = timings.get(timingKey);
        if (!timing) timings.set(timingKey, (timing = histogram.labels({ method: req.method, route })));
        count.inc();
        timing.observe((performance.now() - started) / 1000);
      });
      next();
    });
  }
  app.use(memberCors(node));
  app.use(jsonBody(options.bodyLimitBytes ?? 64 * 1024));

  const router: Router = express.Router();
  mountRoutes(router, API_ROUTES, ctx);
  app.use(router);
  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new ApiError('route_not_found', `no route for ${req.method} ${req.path}`));
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const problem = toProblem(error, req.originalUrl);
    if (problem.status >= 500 && problem.body.code === 'internal')
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');
    else if (problem.status >= 500)
      logger.debug({ code: problem.body.code, url: req.originalUrl }, 'request not served');
    sendProblem(res, problem);
  });

  return Object.assign(app, {
    closeApp: () => {
      ctx.timeline.close();
      return ownForwarder ? forwarder.close() : Promise.resolve();
    },
    endStreams: () => {
      for (const res of [...ctx.streams]) res.end();
    },
  });
}
