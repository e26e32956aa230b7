// Cluster administration: `GET /cluster/status` (this node's view: role, term, leader,
// commit/applied, peers' match index and lag, configuration), `POST /cluster/transfer-leadership`
// (optional `{ "to": "n2" }`; forwarded to the leader), `POST /cluster/snapshot` (this node),
// `GET /cluster/state-hash` (sha-256 of this node's state-machine snapshot and the index it
// reflects: equal indexes must give equal hashes on every member), `GET /cluster/backup`
// (the state-machine snapshot as a file, after a linearizable read barrier by default; what
// `npm run restore` turns back into a cluster). Transfer, snapshot and backup are admin routes
// (src/api/access.ts). The status adds what the console and the
// CLI show beside the node's own view: every member's API address, the pod name on
// Kubernetes, and the p99 of this node's durable writes over the last minute.

import { createHash } from 'node:crypto';
import type { ApiContext } from './context.js';
import { requireAdmin } from './access.js';
import { forwardToLeader, prepareRead, route } from './context.js';
import { LEADER_HEADER } from './forward.js';
import { ApiError } from './problem.js';
import { parseBody, transferInput } from './validation.js';
import { admin, consistencyParam, EXAMPLES, json, problem, ref, unauthorized } from './openapi.js';
import type { ApiRoute } from './route-table.js';

/** p99 of this node's durable writes over the last minute, in ms (null when there were none). */
async function fsyncP99Ms(ctx: ApiContext): Promise<number | null> {
  const summary = ctx.metrics?.fsyncRecent;
  if (!summary) return null;
  const { values } = await summary.get();
  const p99 = values.find((v) => v.labels['quantile'] === 0.99)?.value;
  // An empty window reads as 0 (no durable write in the last minute: an idle member), never a real fsync.
  return p99 === undefined || !Number.isFinite(p99) || p99 <= 0 ? null : Math.round(p99 * 1e6) / 1e3;
}

export const clusterRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/cluster/status',
    doc: {
      summary: "This node's view of the cluster",
      responses: { '200': { description: 'OK', content: json(ref('ClusterStatus')) } },
    },
    handle: (ctx) => [
      route(async (_req, res) => {
        const status = ctx.node.status();
        const apiAddresses: Record<string, string> = {};
        for (const id of [...status.config.voters, ...status.config.learners]) {
          const url = ctx.node.apiAddress(id);
          if (url !== null) apiAddresses[id] = url;
        }
        res.json({ ...status, apiAddresses, pod: ctx.podName, fsyncP99Ms: await fsyncP99Ms(ctx) });
      }),
    ],
  },
  {
    method: 'POST',
    path: '/cluster/transfer-leadership',
    doc: {
      ...admin,
      summary: 'Hand leadership to another voter (default: the most up-to-date one)',
      requestBody: { required: false, content: json(ref('TransferInput'), EXAMPLES.transfer) },
      responses: {
        '200': {
          description: 'Leadership moved',
          content: json({
            type: 'object',
            properties: { from: { type: 'string' }, to: { type: 'string' } },
          }),
        },
        '400': problem('Invalid target'),
        '401': unauthorized(),
        '503': problem('No leader'),
        '504': problem('The transfer did not finish in time'),
      },
    },
    handle: (ctx) => [
      requireAdmin(ctx.access, 'leadership transfer'),
      route(async (req, res) => {
        const input = req.body === undefined ? {} : parseBody(transferInput, req.body);
        const node = ctx.node;
        if (!node.isLeader()) {
          await forwardToLeader(ctx, req, res);
          return;
        }
        if (input.to !== undefined && !node.status().config.voters.includes(input.to)) {
          throw new ApiError('invalid_request', `target ${JSON.stringify(input.to)} is not a voting member`);
        }
        const from = node.id;
        const to = await node.transferLeadership(input.to);
        res.setHeader(LEADER_HEADER, to);
        res.json({ from, to });
      }),
    ],
  },
  {
    method: 'GET',
    path: '/cluster/state-hash',
    doc: {
      summary: "sha-256 of this node's state-machine snapshot, and the applied index it reflects",
      responses: {
        '200': {
          description: 'OK',
          content: json({
            type: 'object',
            required: ['id', 'applied', 'hash'],
            properties: { id: { type: 'string' }, applied: { type: 'integer' }, hash: { type: 'string' } },
          }),
        },
      },
    },
    handle: (ctx) => [
      route((_req, res) => {
        // Both read in one synchronous step, so the hash is exactly the state at `applied`.
        const applied = ctx.node.appliedIndex();
        const hash = createHash('sha256').update(ctx.node.fsm.snapshot()).digest('hex');
        res.json({ id: ctx.node.id, applied, hash });
      }),
    ],
  },
  {
    method: 'GET',
    path: '/cluster/backup',
    doc: {
      ...admin,
      summary:
        'Download the state-machine snapshot (after a read barrier at the requested consistency); restore with npm run restore',
      parameters: [consistencyParam],
      responses: {
        '200': {
          description: 'Snapshot bytes; X-Raft3D-Applied-Index and X-Raft3D-State-Hash headers',
          content: {
            'application/octet-stream': {
              schema: { type: 'string', contentMediaType: 'application/octet-stream' },
            },
          },
        },
        '401': unauthorized(),
        '503': problem('No leader'),
      },
    },
    handle: (ctx) => [
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
    ],
  },
  {
    method: 'POST',
    path: '/cluster/snapshot',
    doc: {
      ...admin,
      summary: 'Snapshot the state machine on this node and compact its log',
      responses: {
        '200': {
          description: 'Snapshot taken',
          content: json({
            type: 'object',
            properties: { id: { type: 'string' }, index: { type: 'integer' }, term: { type: 'integer' } },
          }),
        },
        '401': unauthorized(),
      },
    },
    handle: (ctx) => [
      requireAdmin(ctx.access, 'a snapshot'),
      route(async (_req, res) => {
        const meta = await ctx.node.takeSnapshot();
        res.json({ id: ctx.node.id, index: meta.index, term: meta.term });
      }),
    ],
  },
];
