// The event log: the changes the state machine made (index, term, type, payload), read back
// from the Raft log. Commands that changed nothing — refusals (409, 404...) and idempotent
// replays — are not events (ShopNodeOptions leaves them out through the node's `changed`).
// `GET /api/v1/events?after=&limit=` pages through history, `limit` counting events (410
// with the earliest index once it is compacted into a snapshot); `?watch=true` streams them
// as Server-Sent Events, starting after `after` (default: now).
//
// A watcher costs the server a bounded amount whatever its reader does: the stream is read
// from the log at the pace the socket drains, so this process queues at most one event past
// the socket's high-water mark, and a reader that has not drained for `sseStallMs` gets a
// last `closed` event naming where to resume, and is cut off.

import type { Response } from 'express';
import type { DecodedEvent, EventsPage } from '../node/index.js';
import type { ApiContext } from './context.js';
import { route } from './context.js';
import { json, problem, ref } from './openapi.js';
import { ApiError } from './problem.js';
import type { ApiRoute } from './route-table.js';
import { queryInt, queryString } from './validation.js';
import type { ShopNode } from './shop.js';

const EVENTS = '/api/v1/events';
const MAX_LIMIT = 1000;
/** Log entries one page may look through for events; past that it answers with fewer. */
const MAX_SCAN = 10_000;
/** Events a watch reads from the log per step while it catches up. */
const STREAM_PAGE = 64;
/**
 * Bytes a watcher may have queued in this process. Reading from the log at the socket's
 * pace keeps it near the high-water mark (16 KiB) plus one event; this only guards that.
 */
const MAX_QUEUED_BYTES = 1024 * 1024;

function compacted(earliest: number): ApiError {
  return new ApiError(
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

export const eventRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: EVENTS,
    doc: {
      summary:
        'The event log (the changes made: refused commands and idempotent replays are not events), paged; or a Server-Sent Events stream with watch=true',
      parameters: [
        {
          name: 'after',
          in: 'query',
          required: false,
          description: 'A log index: events after it',
          schema: { type: 'integer', minimum: 0 },
        },
        {
          name: 'limit',
          in: 'query',
          required: false,
          description:
            'Events per page (fewer only at the end of the log, or after 10,000 log entries that are not events)',
          schema: { type: 'integer', minimum: 1, maximum: 1000 },
        },
        { name: 'watch', in: 'query', required: false, schema: { type: 'boolean' } },
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
      ],
      responses: {
        '200': {
          description:
            'A page of events, or an event stream (id: = log index). A reader that has not drained for 30 s gets a last `closed` event (id: and data.last_event_id say where to resume) and the connection is closed',
          content: { ...json(ref('EventsPage')), 'text/event-stream': { schema: { type: 'string' } } },
        },
        '400': problem('Invalid query parameter'),
        '410': problem(
          'The requested history was compacted into a snapshot (earliest_index says where it starts)',
        ),
      },
    },
    handle: (ctx) => [
      route((req, res) => {
        const query = req.query as Record<string, unknown>;
        const watch = queryString(query, 'watch');
        if (watch !== undefined && watch !== 'true' && watch !== 'false')
          throw new ApiError('invalid_query', 'watch must be true or false');
        const limit = queryInt(query, 'limit', 100, 1, MAX_LIMIT);
        if (watch === 'true') {
          // Resume point: Last-Event-ID (an EventSource reconnecting) wins over ?after=; default: now.
          const lastEventId = req.headers['last-event-id'];
          const resume =
            typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId.trim())
              ? Number(lastEventId.trim())
              : undefined;
          const after =
            resume ?? queryInt(query, 'after', ctx.node.appliedIndex(), 0, Number.MAX_SAFE_INTEGER);
          stream(ctx, res, after);
          return;
        }
        const after = queryInt(query, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
        const page = eventPage(ctx.node, after, limit);
        if ('compacted' in page) throw compacted(page.compacted);
        res.json({ events: page.events, next_after: page.next, applied_index: ctx.node.appliedIndex() });
      }),
    ],
  },
];

function stream(ctx: ApiContext, res: Response, after: number): void {
  /** The client has been sent everything up to this log index. */
  let last = after;
  /** Caught up with the log: events are written as they are applied. */
  let live = false;
  let closed = false;
  /** Runs while the socket does not drain; when it fires, the reader is cut off. */
  let stall: NodeJS.Timeout | null = null;

  /** Writes one chunk; false when the socket is full and the rest must wait for 'drain'. */
  const write = (chunk: string): boolean => {
    if (closed) return false;
    const drained = res.write(chunk);
    if (res.writableLength > MAX_QUEUED_BYTES) {
      end('too_far_behind');
      return false;
    }
    if (!drained) stall ??= setTimeout(() => end('slow_reader'), ctx.sseStallMs);
    return drained;
  };
  const send = (event: DecodedEvent): boolean => {
    last = event.index;
    return write(`id: ${event.index}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };

  /** Reads the log from `last` for as long as the socket takes it; live once nothing is left. */
  const pump = (): void => {
    live = false;
    while (!closed && !res.writableNeedDrain) {
      const page = ctx.node.events(last, STREAM_PAGE);
      if ('compacted' in page) {
        last = page.compacted - 1;
        write(`event: compacted\ndata: ${JSON.stringify({ earliest_index: page.compacted })}\n\n`);
        continue;
      }
      for (const event of page.events) if (event.index > last && !send(event)) return;
      last = Math.max(last, page.next);
      if (last >= ctx.node.appliedIndex()) {
        live = true;
        return;
      }
    }
  };

  const offApplied = ctx.node.on('applied', (event) => {
    // Behind (or waiting for the socket): the event is read back from the log later.
    if (live && event.index > last && !send(event)) live = false;
  });
  const offRestored = ctx.node.on('restored', ({ index }) => {
    // History up to `index` arrived as a snapshot: tell a live client and skip ahead (one
    // that is behind finds `compacted` in the log instead).
    if (!live || index <= last) return;
    last = index;
    if (!write(`event: restored\ndata: ${JSON.stringify({ index })}\n\n`)) live = false;
  });
  const ping = setInterval(() => {
    if (!res.writableNeedDrain) write(': ping\n\n');
  }, ctx.sseHeartbeatMs);
  const stop = (): void => {
    closed = true;
    clearInterval(ping);
    if (stall !== null) clearTimeout(stall);
    offApplied();
    offRestored();
  };
  /** The last event: why the stream ends and where to resume; then the connection goes. */
  const end = (reason: 'slow_reader' | 'too_far_behind'): void => {
    if (closed) return;
    stop();
    ctx.logger.info({ reason, last_event_id: last }, 'event watcher closed');
    const resume = { reason, last_event_id: last, resume: `${EVENTS}?watch=true&after=${last}` };
    const socket = res.socket;
    res.end(`id: ${last}\nevent: closed\ndata: ${JSON.stringify(resume)}\n\n`);
    // The connection goes too, once that is sent; a reader that never reads again would
    // keep it, and what it holds, forever: it gets another sseStallMs.
    socket?.end();
    const cut = setTimeout(() => socket?.destroy(), ctx.sseStallMs);
    socket?.once('close', () => clearTimeout(cut));
  };

  res.on('drain', () => {
    if (stall !== null) clearTimeout(stall);
    stall = null;
    if (!closed && !live) pump();
  });
  res.on('close', stop);
  // Ended at shutdown (Raft3dApp.endStreams), so draining the server does not wait on it.
  res.on('close', () => ctx.streams.delete(res));
  ctx.streams.add(res);
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  res.flushHeaders();
  write(': watching\n\n');
  pump();
}
