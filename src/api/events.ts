// The event log: the changes the state machine made (index, term, type, payload), read back
// from the Raft log. Commands that changed nothing — refusals (409, 404...) and idempotent
// replays — are not events (ShopNodeOptions leaves them out through the node's `changed`).
// `GET /api/v1/events?after=&limit=` pages through history, `limit` counting events (410
// with the earliest index once it is compacted into a snapshot); `?watch=true` streams them
// as Server-Sent Events, starting after `after` (default: now).

import type { Response, Router } from 'express';
import type { DecodedEvent, EventsPage } from '../node/index.js';
import type { ApiContext } from './context.js';
import { route } from './context.js';
import { ApiError } from './problem.js';
import { queryInt, queryString } from './validation.js';
import type { ShopNode } from './shop.js';

const EVENTS = '/api/v1/events';
const MAX_LIMIT = 1000;
/** Log entries one page may look through for events; past that it answers with fewer. */
const MAX_SCAN = 10_000;
/** A watcher that lets this much pile up unread is cut off; it resumes with Last-Event-ID. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;

function compacted(earliest: number): ApiError {
  return new ApiError(
    410,
    'history_compacted',
    `events up to index ${earliest - 1} were compacted into a snapshot; ask with after >= ${earliest - 1}`,
    {
      earliest_index: earliest,
    },
  );
}

/**
 * Up to `limit` events after `after`, looking through at most MAX_SCAN log entries (the
 * entries in between, no-ops and commands that changed nothing, are no events); `next` is
 * where the next page starts.
 */
export function eventPage(node: ShopNode, after: number, limit: number): EventsPage {
  const events: DecodedEvent[] = [];
  let next = after;
  while (events.length < limit && next < node.appliedIndex() && next - after < MAX_SCAN) {
    const page = node.events(next, Math.min(limit - events.length, MAX_SCAN - (next - after)));
    if ('compacted' in page) return page;
    events.push(...page.events);
    if (page.next <= next) break;
    next = page.next;
  }
  return { events, next };
}

export function eventRoutes(router: Router, ctx: ApiContext): void {
  router.get(
    EVENTS,
    route((req, res) => {
      const query = req.query as Record<string, unknown>;
      const watch = queryString(query, 'watch');
      if (watch !== undefined && watch !== 'true' && watch !== 'false')
        throw new ApiError(400, 'invalid_query', 'watch must be true or false');
      const limit = queryInt(query, 'limit', 100, 1, MAX_LIMIT);
      if (watch === 'true') {
        // Resume point: Last-Event-ID (an EventSource reconnecting) wins over ?after=; default: now.
        const lastEventId = req.headers['last-event-id'];
        const resume =
          typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId.trim())
            ? Number(lastEventId.trim())
            : undefined;
        const after = resume ?? queryInt(query, 'after', ctx.node.appliedIndex(), 0, Number.MAX_SAFE_INTEGER);
        stream(ctx, res, after);
        return;
      }
      const after = queryInt(query, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
      const page = eventPage(ctx.node, after, limit);
      if ('compacted' in page) throw compacted(page.compacted);
      res.json({ events: page.events, next_after: page.next, applied_index: ctx.node.appliedIndex() });
    }),
  );
}

function stream(ctx: ApiContext, res: Response, after: number): void {
  // Subscribe first, then backfill: anything applied meanwhile is queued, duplicates skipped.
  let last = after;
  let backfilling = true;
  const queued: DecodedEvent[] = [];
  const write = (chunk: string): void => {
    if (res.writableEnded || res.destroyed) return;
    res.write(chunk);
    if (res.writableLength > MAX_UNSENT_BYTES) res.end();
  };
  const send = (event: DecodedEvent): void => {
    if (event.index <= last) return;
    last = event.index;
    write(`id: ${event.index}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  const offApplied = ctx.node.on('applied', (event) => (backfilling ? queued.push(event) : send(event)));
  const offRestored = ctx.node.on('restored', ({ index }) => {
    // History up to `index` arrived as a snapshot: tell the client, skip ahead.
    write(`event: restored\ndata: ${JSON.stringify({ index })}\n\n`);
    last = Math.max(last, index);
  });
  const ping = setInterval(() => write(': ping\n\n'), ctx.sseHeartbeatMs);
  const close = (): void => {
    clearInterval(ping);
    offApplied();
    offRestored();
  };
  res.on('close', close);
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  res.flushHeaders();
  write(': watching\n\n');
  for (let guard = 0; guard < 10_000 && !res.writableEnded; guard++) {
    const before = last;
    const page = ctx.node.events(last, MAX_LIMIT);
    if ('compacted' in page) {
      write(`event: compacted\ndata: ${JSON.stringify({ earliest_index: page.compacted })}\n\n`);
      last = page.compacted - 1;
      if (last <= before) break;
      continue;
    }
    for (const event of page.events) send(event);
    if (page.next <= before) break;
    last = Math.max(last, page.next);
  }
  backfilling = false;
  for (const event of queued.splice(0)) send(event);
}
