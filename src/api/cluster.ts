// Cluster administration: `GET /cluster/status` (this node's view: role, term, leader,
// commit/applied, peers' match index and lag, configuration), `POST /cluster/transfer-leadership`
// (optional `{ "to": "n2" }`; forwarded to the leader), `POST /cluster/snapshot` (this node),
// `GET /cluster/state-hash` (sha-256 of this node's state-machine snapshot and the index it
// reflects: equal indexes must give equal hashes on every member), `GET /cluster/backup`
// (the state-machine snapshot as a file, after a linearizable read barrier by default; what
// `npm run restore` turns back into a cluster). Transfer, snapshot and backup are admin routes
// (src/api/access.ts).

import { createHash } from 'node:crypto';
import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { requireAdmin } from './access.js';
import { forwardToLeader, prepareRead, route } from './context.js';
import { LEADER_HEADER } from './forward.js';
import { ApiError } from './problem.js';
import { parseBody, transferInput } from './validation.js';

export function clusterRoutes(router: Router, ctx: ApiContext): void {
  router.get(
    '/cluster/status',
    route((_req, res) => {
      res.json(ctx.node.status());
    }),
  );
  router.post(
    '/cluster/transfer-leadership',
    requireAdmin(ctx.access, 'leadership transfer'),
    route(async (req, res) => {
      const input = req.body === undefined ? {} : parseBody(transferInput, req.body);
      const node = ctx.node;
      if (!node.isLeader()) {
        await forwardToLeader(ctx, req, res);
        return;
      }
      if (input.to !== undefined && !node.status().config.voters.includes(input.to)) {
        throw new ApiError(
          400,
          'invalid_request',
          `target ${JSON.stringify(input.to)} is not a voting member`,
        );
      }
      const from = node.id;
      const to = await node.transferLeadership(input.to);
      res.setHeader(LEADER_HEADER, to);
      res.json({ from, to });
    }),
  );
  router.get(
    '/cluster/state-hash',
    route((_req, res) => {
      // Both read in one synchronous step, so the hash is exactly the state at `applied`.
      const applied = ctx.node.appliedIndex();
      const hash = createHash('sha256').update(ctx.node.fsm.snapshot()).digest('hex');
      res.json({ id: ctx.node.id, applied, hash });
    }),
  );
  router.get(
    '/cluster/backup',
    requireAdmin(ctx.access, 'a backup'),
    route(async (req, res) => {
      if (!(await prepareRead(ctx, req, res))) return;
      const applied = ctx.node.appliedIndex();
      const bytes = ctx.node.fsm.snapshot();
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Disposition', `attachment; filename="raft3d-backup-${applied}.bin"`);
      res.setHeader('X-Raft3D-Applied-Index', String(applied));
      res.setHeader('X-Raft3D-State-Hash', createHash('sha256').update(bytes).digest('hex'));
      res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }),
  );
  router.post(
    '/cluster/snapshot',
    requireAdmin(ctx.access, 'a snapshot'),
    route(async (_req, res) => {
      const meta = await ctx.node.takeSnapshot();
      res.json({ id: ctx.node.id, index: meta.index, term: meta.term });
    }),
  );
}
