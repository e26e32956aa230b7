// Membership administration: `POST /cluster/join` admits a member, one step per request
// (src/membership/plan.ts planJoin): add it as a learner, remove its earlier incarnations,
// promote it once caught up. A joining member calls it for itself with the cluster secret
// (src/membership/joiner.ts) until the answer is 200 `{"state":"voter"}`; an operator may
// call it with the admin token. A follower forwards it to the leader.

import { planJoin } from '../membership/index.js';
import type { JoinStep } from '../membership/index.js';
import { requireMember } from './access.js';
import { forwardToLeader, route } from './context.js';
import { ApiError } from './problem.js';
import type { ShopNode } from './shop.js';
import { joinInput, parseBody } from './validation.js';
import { EXAMPLES, json, problem, ref } from './openapi.js';
import type { ApiRoute } from './route-table.js';

export const membershipRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/cluster/join',
    doc: {
      security: [{ adminToken: [] }, { clusterSecret: [] }],
      summary:
        'Admit a member, one step per call: add it as a learner, remove its earlier incarnations, promote it once caught up',
      requestBody: { required: true, content: json(ref('JoinInput'), EXAMPLES.join) },
      responses: {
        '200': {
          description: 'The member is a voter',
          content: json({
            type: 'object',
            properties: { state: { const: 'voter' }, id: { type: 'string' } },
          }),
        },
        '202': {
          description: 'A step was taken (or must wait); ask again',
          content: json({
            type: 'object',
            properties: { state: { const: 'joining' }, id: { type: 'string' }, step: { type: 'object' } },
          }),
        },
        '400': problem('Invalid request'),
        '401': problem('Missing or wrong cluster secret / admin token'),
        '403': problem('Refused: e.g. its StatefulSet ordinal is being scaled away'),
        '503': problem('No leader, or a membership change is still in progress'),
      },
    },
    handle: (ctx) => [
      requireMember(ctx.access),
      route(async (req, res) => {
        const input = parseBody(joinInput, req.body);
        const node = ctx.node;
        if (!node.isLeader()) {
          await forwardToLeader(ctx, req, res);
          return;
        }
        const refusal = ctx.admitJoin(input.id);
        if (refusal !== null) throw new ApiError('join_refused', refusal, { id: input.id });
        const step = planJoin(node.status(), input);
        await take(node, step);
        if (step.kind === 'done') {
          res.json({ state: 'voter', id: input.id });
          return;
        }
        if (step.kind !== 'wait') ctx.logger.info({ id: input.id, step }, 'membership: join step taken');
        res.status(202).json({ state: 'joining', id: input.id, step });
      }),
    ],
  },
];

async function take(node: ShopNode, step: JoinStep): Promise<void> {
  switch (step.kind) {
    case 'add-learner':
      await node.changeMembership({ kind: 'add-learner', node: step.node, context: step.context });
      return;
    case 'remove':
    case 'promote':
      await node.changeMembership({ kind: step.kind, node: step.node });
      return;
    case 'transfer':
      await node.transferLeadership(step.to);
      return;
    case 'wait':
    case 'done':
      return;
  }
}
