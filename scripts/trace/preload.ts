// Loaded into each node process by `npm run trace-write` (node --import, after tsx): wraps
// the methods a write passes through and writes one line per step per log index to
// $RAFT3D_TRACE_DIR/<id>.jsonl, stamped with the wall clock in milliseconds (microsecond
// resolution; every process on the machine shares that clock). Nothing of this is in src/:
// a production node carries no tracing cost. It names private methods of RaftNode, so it
// throws at start when one was renamed, rather than tracing nothing.

import { appendFileSync } from 'node:fs';
import { Server, ServerResponse } from 'node:http';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { RaftCore } from '../../src/raft/core.js';
import type { Entry, Message, Ready } from '../../src/raft/messages.js';
import { RaftNode } from '../../src/node/raft-node.js';
import { SegmentStorage } from '../../src/storage/segment-storage.js';
import type { SaveBatch } from '../../src/storage/types.js';
import { HttpTransport } from '../../src/transport/http-transport.js';

const dir = process.env['RAFT3D_TRACE_DIR'];
const id = /--id=(\S+)/.exec(process.argv.join(' '))?.[1] ?? 'unknown';
const now = (): number => performance.timeOrigin + performance.now();
let lines: string[] = [];

function mark(step: string, index: number, t = now(), extra = ''): void {
  lines.push(`{"node":"${id}","step":"${step}","index":${index},"t":${t.toFixed(3)}${extra}}`);
}

function flush(): void {
  if (!dir || lines.length === 0) return;
  const out = lines;
  lines = [];
  appendFileSync(path.join(dir, `${id}.jsonl`), `${out.join('\n')}\n`);
}
setInterval(flush, 500).unref();
process.on('exit', flush);

// Every GC pause of this process (index -1: it belongs to no write), so that the analysis can
// say which slow writes overlapped one.
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    mark('gc', -1, performance.timeOrigin + e.startTime, `,"ms":${e.duration.toFixed(3)}`);
}).observe({ entryTypes: ['gc'] });

type Method = (this: any, ...args: any[]) => unknown;

function wrap(proto: object, name: string, make: (original: Method) => Method): void {
  const target = proto as Record<string, unknown>;
  const original = target[name];
  if (typeof original !== 'function') throw new Error(`trace: ${name} is not a method any more`);
  target[name] = make(original as Method);
}

const commandIndexes = (entries: readonly Entry[]): number[] =>
  entries.filter((e) => e.type === 'command').map((e) => e.index);

// The API: each POST's arrival (headers parsed), and its response. At one client the
// requests are sequential, so the latest one is the one being proposed.
let request: { seq: number; t: number } | null = null;
let seq = 0;
let proposed = -1;
wrap(
  Server.prototype,
  'emit',
  (original) =>
    function (this: Server, event: string, ...args: unknown[]) {
      if (event === 'request' && (args[0] as IncomingMessage).method === 'POST')
        request = { seq: ++seq, t: now() };
      return original.call(this, event, ...args);
    },
);
wrap(
  ServerResponse.prototype,
  'end',
  (original) =>
    function (this: ServerResponse, ...args: unknown[]) {
      if (this.req.method === 'POST' && proposed >= 0) {
        mark('response', proposed);
        proposed = -1;
      }
      return original.apply(this, args);
    },
);

wrap(
  RaftCore.prototype,
  'propose',
  (original) =>
    function (this: RaftCore, data: Uint8Array) {
      const placed = original.call(this, data) as { index: number };
      if (request) mark('request', placed.index, request.t, `,"seq":${request.seq}`);
      mark('propose', placed.index);
      proposed = placed.index;
      return placed;
    },
);

wrap(
  RaftNode.prototype,
  'receive',
  (original) =>
    function (this: unknown, m: Message) {
      if (m.type === 'append') for (const i of commandIndexes(m.entries)) mark('recv-append', i);
      if (m.type === 'append-response' && m.success) mark('recv-ack', m.index, now(), `,"from":"${m.from}"`);
      return original.call(this, m);
    },
);

wrap(
  RaftNode.prototype,
  'handleReady',
  (original) =>
    function (this: unknown, rd: Ready) {
      for (const i of commandIndexes(rd.entries)) mark('ready-entries', i);
      for (const i of commandIndexes(rd.committedEntries)) mark('ready-committed', i);
      return original.call(this, rd);
    },
);

wrap(
  RaftNode.prototype,
  'applyEntries',
  (original) =>
    function (this: unknown, entries: readonly Entry[]) {
      const out = original.call(this, entries);
      for (const i of commandIndexes(entries)) mark('applied', i);
      return out;
    },
);

wrap(
  SegmentStorage.prototype,
  'save',
  (original) =>
    function (this: SegmentStorage, batch: SaveBatch) {
      const indexes = commandIndexes(batch.entries);
      for (const i of indexes) mark('save-start', i);
      const done = original.call(this, batch) as Promise<void>;
      return done.then(() => {
        for (const i of indexes) mark('save-end', i);
      });
    },
);

wrap(
  HttpTransport.prototype,
  'send',
  (original) =>
    function (this: HttpTransport, messages: readonly Message[]) {
      for (const m of messages) {
        if (m.type === 'append')
          for (const i of commandIndexes(m.entries)) mark('send-append', i, now(), `,"to":"${m.to}"`);
        if (m.type === 'append-response' && m.success) mark('send-ack', m.index);
      }
      return original.call(this, messages);
    },
);
