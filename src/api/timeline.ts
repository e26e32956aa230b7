// `GET /cluster/timeline`: this node's recent role and leader changes with wall-clock times,
// from the `role` events the node emits, newest last (at most 200, since this process
// started). The console merges the timelines of all members into one history of elections
// and leader changes; a member that restarts begins a new timeline with a `started` entry.

import { route } from './context.js';
import type { ShopNode } from './shop.js';
import { json } from './openapi.js';
import type { ApiRoute } from './route-table.js';

const KEEP = 200;

export interface TimelineEntry {
  /** ISO-8601 wall-clock time on this node. */
  readonly at: string;
  readonly kind: 'started' | 'role';
  readonly term: number;
  readonly role: string;
  readonly leader: string | null;
  readonly previousRole?: string;
  readonly previousLeader?: string | null;
}

export class RoleTimeline {
  private readonly entries: TimelineEntry[] = [];
  private readonly off: () => void;

  constructor(node: ShopNode, now: () => number) {
    const s = node.status();
    this.push({
      at: new Date(now()).toISOString(),
      kind: 'started',
      term: s.term,
      role: s.role,
      leader: s.leader,
    });
    this.off = node.on('role', (change) =>
      this.push({
        at: new Date(now()).toISOString(),
        kind: 'role',
        term: change.term,
        role: change.role,
        leader: change.leader,
        previousRole: change.previousRole,
        previousLeader: change.previousLeader,
      }),
    );
  }

  private push(entry: TimelineEntry): void {
    this.entries.push(entry);
    if (this.entries.length > KEEP) this.entries.shift();
  }

  list(): readonly TimelineEntry[] {
    return this.entries;
  }

  close(): void {
    this.off();
  }
}

export const timelineRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/cluster/timeline',
    doc: {
      summary: "This node's role and leader changes since it started (wall-clock times, newest last)",
      responses: {
        '200': {
          description: 'OK',
          content: json({
            type: 'object',
            required: ['id', 'changes'],
            properties: {
              id: { type: 'string' },
              changes: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['at', 'kind', 'term', 'role', 'leader'],
                  properties: {
                    at: { type: 'string', format: 'date-time' },
                    kind: { type: 'string', enum: ['started', 'role'] },
                    term: { type: 'integer' },
                    role: { type: 'string' },
                    leader: { type: ['string', 'null'] },
                    previousRole: { type: 'string' },
                    previousLeader: { type: ['string', 'null'] },
                  },
                },
              },
            },
          }),
        },
      },
    },
    handle: (ctx) => [
      route((_req, res) => {
        res.json({ id: ctx.node.id, changes: ctx.timeline.list() });
      }),
    ],
  },
];
