// Probes and metrics: `/healthz` (the process answers and its Raft loop has not failed), `/readyz` (a leader is known and
// this node applied what that leader had committed when it joined), `/metrics` (prom-client).

import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { route } from './context.js';
import { ApiError } from './problem.js';

export function healthRoutes(router: Router, ctx: ApiContext): void {
  router.get(
    '/healthz',
    route((_req, res) => {
      if (!ctx.node.isHealthy())
        throw new ApiError(
          'unhealthy',
          'the Raft loop stopped after a fatal error (see the logs); restart this process',
        );
      res.json({ status: 'ok', id: ctx.node.id });
    }),
  );
  router.get(
    '/readyz',
    route((_req, res) => {
      const s = ctx.node.status();
      if (!s.ready) {
        const why =
          s.leader === null
            ? 'no leader is known'
            : `catching up with leader ${s.leader} (applied ${s.applied})`;
        throw new ApiError('not_ready', why, { leader: s.leader, applied: s.applied });
      }
      res.json({ status: 'ready', id: s.id, role: s.role, leader: s.leader, applied: s.applied });
    }),
  );
  router.get(
    '/metrics',
    route(async (_req, res) => {
      const metrics = ctx.metrics;
      if (!metrics) throw new ApiError('route_not_found', 'metrics are disabled on this node');
      const s = ctx.node.status();
      metrics.commitIndex.set(s.commit);
      metrics.appliedIndex.set(s.applied);
      metrics.snapshotIndex.set(s.snapshotIndex);
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    }),
  );
}
