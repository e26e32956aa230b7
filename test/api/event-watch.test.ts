// A watcher of the event stream costs the server a bounded amount whatever its reader does:
// a client that never reads holds at most a socket's worth of bytes in the server, and after
// `sseStallMs` without draining it is sent a last `closed` event naming where to resume,
// from which the event log gives exactly what it missed.

import test from 'ava';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';
import { createFilamentCommand, createPrinterCommand, createPrintJobCommand } from '../../src/api/shop.js';
import { get } from './client.js';
import { chunkedBody } from './raw-http.js';

/** What this process may hold for one watcher: the socket's high-water mark (16 KiB) and an event, with room. */
const HELD_BOUND = 64 * 1024;
const STALL_MS = 2_000;

interface Event {
  index: number;
  type: string;
  payload: { id?: string };
}

test('a watcher that never reads holds a bounded number of bytes here and is closed with where to resume', async (t) => {
  const cluster = await InProcessCluster.start({ size: 1, sseStallMs: STALL_MS, sseHeartbeatMs: 60_000 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const server = leader.server!;
  const accepted: Socket[] = [];
  server.on('connection', (socket: Socket) => accepted.push(socket));

  const client = connect(Number(new URL(leader.url).port), '127.0.0.1');
  t.teardown(() => client.destroy());
  client.pause(); // never reads, until the end of the test
  client.write('GET /api/v1/events?watch=true HTTP/1.1\r\nHost: raft3d.test\r\n\r\n');
  for (let i = 0; i < 200 && accepted.length === 0; i++) await sleep(10);
  await sleep(100);
  const watcher = accepted[0]!;

  // ~1.3 KB events, proposed on the node directly (HTTP would only slow the test down), until
  // the kernel's socket buffers are full (a few MB), the reader has not drained for STALL_MS
  // and the server ends the stream; or ~26 MB, far more than the kernel holds here.
  const meta = () => ({ at: Date.now(), newId: randomUUID, idempotency: null });
  await leader.node.propose(createPrinterCommand({ id: 'w-p', company: 'C', model: 'M' }, meta()));
  await leader.node.propose(
    createFilamentCommand(
      { id: 'w-f', type: 'PLA', color: 'c', total_weight_in_grams: 1_000_000_000 },
      meta(),
    ),
  );
  const job = { printer_id: 'w-p', filament_id: 'w-f', filepath: 'x'.repeat(1000), print_weight_in_grams: 1 };
  const created: string[] = [];
  let maxHeld = 0;
  for (let batch = 0; batch < 200 && !watcher.writableEnded; batch++) {
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const id = `w-j${created.push('') - 1}`;
        created[created.length - 1] = id;
        await leader.node.propose(createPrintJobCommand({ ...job, id }, meta()));
      }),
    );
    maxHeld = Math.max(maxHeld, watcher.writableLength);
    // A one-node cluster on memory storage commits without ever leaving the microtask
    // queue: let the event loop run its sockets and timers between batches.
    await sleep(10);
  }
  t.log(
    `${created.length} events of ~1.3 KB; ${watcher.bytesWritten} bytes sent to the watcher, at most ${maxHeld} held here`,
  );
  t.true(maxHeld <= HELD_BOUND, `held ${maxHeld} bytes for a reader that never reads`);

  // The reader has not drained for STALL_MS: the server ended the stream...
  t.true(watcher.writableEnded, 'the stream was ended');
  // ...and the last thing it reads, once it reads again, is where to resume.
  const chunks: Buffer[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk));
  client.resume();
  await new Promise((resolve) => {
    client.once('end', resolve);
    client.once('close', resolve);
  });
  const text = chunkedBody(Buffer.concat(chunks)).toString('utf8');
  const blocks = text.split('\n\n').filter((b) => b.trim() !== '');
  const closing = blocks.at(-1) ?? '';
  t.regex(closing, /^event: closed$/m, closing.slice(0, 300));
  const resumeAt = Number(/^id: (\d+)$/m.exec(closing)?.[1]);
  const data = JSON.parse(/^data: (.*)$/m.exec(closing)?.[1] ?? '{}') as Record<string, unknown>;
  t.like(data, { reason: 'slow_reader', last_event_id: resumeAt });
  t.is(data['resume'], `/api/v1/events?watch=true&after=${resumeAt}`);

  // What was streamed, then the log after the resume point: every event once, in order.
  const streamed = blocks
    .filter((b) => /^event: print_job\.create$/m.test(b))
    .map((b) => JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as Event);
  t.true(streamed.length > 0);
  t.true(streamed.every((e) => e.index <= resumeAt));
  const rest: Event[] = [];
  for (let after = resumeAt; ;) {
    const page = (await get(leader.url, `/api/v1/events?after=${after}&limit=1000`)).body as {
      events: Event[];
      next_after: number;
    };
    rest.push(...page.events);
    if (page.next_after === after) break;
    after = page.next_after;
  }
  t.deepEqual(
    [...streamed, ...rest].filter((e) => e.type === 'print_job.create').map((e) => e.payload.id),
    created,
  );
});
