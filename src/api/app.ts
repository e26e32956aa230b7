// createApp(options): the Express 5 application of one node. Order matters: request
// metrics, then the content-type gate (415), the size-limited JSON parser (413, malformed
// → 400), the routes, a problem+json 404/405, and one error handler that maps every error
// through src/api/problem.ts and the catalogue in src/api/errors.ts (never a stack trace, never a 500 for bad input).

import express from 'express';
import type { Express, NextFunction, Request, Response, Router } from 'express';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.js';
import type { ApiContext } from './context.js';
import { Forwarder } from './forward.js';
import { ApiError, sendProblem, toProblem } from './problem.js';
import { jsonBody } from './json-body.js';
import { printerRoutes } from './printers.js';
import { filamentRoutes } from './filaments.js';
import { printJobRoutes } from './print-jobs.js';
import { eventRoutes } from './events.js';
import { clusterRoutes } from './cluster.js';
import { membershipRoutes } from './membership.js';
import { OPEN_ACCESS } from './access.js';
import type { AccessOptions } from './access.js';
import { healthRoutes } from './health.js';
import { consoleRoutes } from './console.js';
import { memberCors } from './cors.js';
import { RoleTimeline, timelineRoutes } from './timeline.js';
import { openApiDocument, OPENAPI_PATH } from './openapi.js';
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

export interface RouteInfo {
  readonly method: string;
  /** Express syntax, e.g. `/api/v1/printers/:id`. */
  readonly path: string;
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
  const ctx: ApiContext = {
    node,
    forwarder,
    logger,
    metrics,
    now: options.now ?? Date.now,
    sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
    sseStallMs: options.sseStallMs ?? 30_000,
    access: options.access ?? OPEN_ACCESS,
    admitJoin: options.admitJoin ?? (() => null),
    streams: new Set(),
    podName: options.podName ?? null,
  };
  const timeline = new RoleTimeline(node, ctx.now);

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
  printerRoutes(router, ctx);
  filamentRoutes(router, ctx);
  printJobRoutes(router, ctx);
  eventRoutes(router, ctx);
  clusterRoutes(router, ctx);
  membershipRoutes(router, ctx);
  healthRoutes(router, ctx);
  timelineRoutes(router, ctx, timeline);
  consoleRoutes(router, ctx);
  const openApiJson = JSON.stringify(openApiDocument);
  router.get(OPENAPI_PATH, (_req, res) => {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(openApiJson);
  });
  app.use(router);

  const routes = listRoutes(router);
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const allowed = [...new Set(routes.filter((r) => matches(r.path, req.path)).map((r) => r.method))];
    if (allowed.length > 0) {
      next(
        new ApiError(
          'method_not_allowed',
          `${req.method} is not allowed on ${req.path}`,
          { allow: allowed.join(', ') },
          { Allow: allowed.join(', ') },
        ),
      );
      return;
    }
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
      timeline.close();
      return ownForwarder ? forwarder.close() : Promise.resolve();
    },
    endStreams: () => {
      for (const res of [...ctx.streams]) res.end();
    },
  });
}

interface Layer {
  readonly route?: { readonly path: unknown; readonly methods?: Readonly<Record<string, boolean>> };
}

/** Every route registered on `router`, as (METHOD, express path) pairs. */
export function listRoutes(router: Router): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const layer of router.stack as readonly Layer[]) {
    const route = layer.route;
    if (!route || typeof route.path !== 'string') continue;
    for (const [method, on] of Object.entries(route.methods ?? {})) {
      if (on && method !== '_all') out.push({ method: method.toUpperCase(), path: route.path });
    }
  }
  return out;
}

/** Whether a concrete path matches an express path with `:param` segments. */
function matches(pattern: string, path: string): boolean {
  const a = pattern.split('/');
  const b = path.replace(/\/+$/, '').split('/');
  if (a.length !== b.length) return false;
  return a.every((seg, i) => seg.startsWith(':') || seg === b[i]);
}

/** The routes createApp registered, read back from Express's own router stack (for the OpenAPI sync test). */
export function appRoutes(app: Express): RouteInfo[] {
  const stack = (app as unknown as { router: { stack: readonly { handle: unknown }[] } }).router.stack;
  const out: RouteInfo[] = [];
  for (const layer of stack) {
    const handle = layer.handle as { stack?: unknown } | undefined;
    if (handle && Array.isArray(handle.stack)) out.push(...listRoutes(handle as Router));
  }
  return out;
}
