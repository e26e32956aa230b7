// `raft3d watch`: the event stream (`/api/v1/events?watch=true`) as one human line per
// applied change. When the member it reads from goes away it resumes on another endpoint
// from the last index it printed (Last-Event-ID), so nothing is skipped or printed twice.

import type { Readable } from 'node:stream';
import type { ClusterClient } from './client.js';
import { CliError, EXIT } from './client.js';
import type { Io } from './io.js';

/** The server sends a comment every 15 s: this much silence means the connection is dead. */
const SILENCE_MS = 40_000;

interface Event {
  readonly index: number;
  readonly term: number;
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

function time(iso: unknown): string {
  const d = typeof iso === 'string' ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '--:--:--';
  return d.toTimeString().slice(0, 8);
}

/** One line for one event: `14:03:07 #12 t2 job j1 -> Done`. */
export function describeEvent(e: Event): string {
  const p = e.payload;
  const s = (k: string): string => String(p[k] ?? '?');
  let what: string;
  switch (e.type) {
    case 'printer.create':
      what = `printer ${s('id')} added: ${s('company')} ${s('model')}`;
      break;
    case 'filament.create':
      what = `spool ${s('id')} added: ${s('type')} ${s('color')}, ${s('remaining_weight_in_grams')} of ${s('total_weight_in_grams')} g`;
      break;
    case 'print_job.create':
      what = `job ${s('id')} queued: ${s('filepath')} on ${s('printer_id')} with ${s('filament_id')}, ${s('print_weight_in_grams')} g`;
      break;
    case 'print_job.status':
      what = `job ${s('id')} -> ${s('status')}`;
      break;
    default:
      what = `${e.type} ${JSON.stringify(p)}`;
  }
  return `${time(p['at'])} #${e.index} t${e.term} ${what}`;
}

/** Reads SSE frames from a stream, calling `onEvent` for each `data:` payload; resolves when the stream ends. */
async function readFrames(
  stream: Readable,
  onFrame: (event: string, data: string) => boolean,
): Promise<void> {
  let buffer = '';
  let timer = setTimeout(() => stream.destroy(new Error('no data for 40 s')), SILENCE_MS);
  try {
    for await (const chunk of stream) {
      clearTimeout(timer);
      timer = setTimeout(() => stream.destroy(new Error('no data for 40 s')), SILENCE_MS);
      buffer += Buffer.from(chunk as Buffer).toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of frame.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (data.length > 0 && !onFrame(event, data.join('\n'))) {
          stream.destroy();
          return;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

export async function watch(
  client: ClusterClient,
  io: Io,
  options: { count: number | null; after: number | null },
): Promise<number> {
  let last = options.after;
  let printed = 0;
  for (;;) {
    const headers: Record<string, string> = {};
    if (last !== null) headers['last-event-id'] = String(last);
    let res;
    try {
      res = await client.request<Readable>('GET', '/api/v1/events?watch=true', {
        responseType: 'stream',
        headers,
        idleTimeoutMs: 0,
      });
    } catch (error) {
      if (error instanceof CliError && error.exitCode === EXIT.unavailable) {
        io.err(`watch: ${error.message}; retrying`);
        continue;
      }
      throw error;
    }
    let done = false;
    try {
      await readFrames(res.data, (type, data) => {
        if (type === 'restored' || type === 'compacted') {
          io.err(`watch: ${type} ${data} (history before it is in a snapshot)`);
          return true;
        }
        if (type === 'closed') {
          // The member cut this reader off (too slow); the loop resumes after `last`.
          io.err(`watch: the member closed the stream (${data}); resuming`);
          return true;
        }
        const event = JSON.parse(data) as Event;
        if (last !== null && event.index <= last) return true;
        last = event.index;
        io.out(io.json ? JSON.stringify(event) : describeEvent(event));
        printed++;
        done = options.count !== null && printed >= options.count;
        return !done;
      });
    } catch (error) {
      io.err(`watch: stream lost (${(error as Error).message}); resuming after index ${last ?? 'now'}`);
    }
    if (done) return EXIT.ok;
  }
}
