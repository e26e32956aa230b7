// Probes and metrics: `/healthz` (the process answers and its Raft loop has not failed), `/readyz` (a leader is known and
// this node applied what that leader had committed when it joined), `/metrics` (prom-client).

import { route } from './context.js';
import { ApiError } from './problem.js';
import { problem } from './openapi.js';
import type { ApiRoute } from './route-table.js';

export const healthRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/healthz',
    doc: { summary: 'Liveness', responses: { '200': { description: 'The process answers' } } },
    handle: (ctx) => [
      route((_req, res) => {
        if (!ctx.node.isHealthy())
          throw new ApiError(
            'unhealthy',
            'the Raft loop stopped after a fatal error (see the logs); restart this process',
          );
        res.json({ status: 'ok', id: ctx.node.id });
      }),
    ],
  },
  {
    method: 'GET',
    path: '/readyz',
    doc: {
      summary: 'Readiness: a leader is known and this node has caught up',
      responses: { '200': { description: 'Ready' }, '503': problem('Not ready') },
    },
    handle: (ctx) => [
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
    ],
  },
  {
    method: 'GET',
    path: '/metrics',
    doc: {
      summary: 'Prometheus metrics (raft3d_*)',
      responses: {
        '200': {
          description: 'Text exposition format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
    handle: (ctx) => [
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
    ],
  },
];
