// The frame reader cuts a byte stream back into frames whatever the chunking, gives each
// frame a buffer of its own, and refuses frames over the limit.

import test from 'ava';
import { FrameReader, FrameTooLargeError, frame } from '../../src/transport/message-stream.js';

test('frames survive any chunking, each in a buffer of its own', (t) => {
  const payloads = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(70_000, 7)];
  const stream = Buffer.concat(payloads.map(frame));
  for (const size of [1, 3, 4, 5, 13, 1000, stream.length]) {
    const reader = new FrameReader(1 << 20);
    const out: Buffer[] = [];
    for (let at = 0; at < stream.length; at += size) out.push(...reader.push(stream.subarray(at, at + size)));
    t.deepEqual(
      out.map((b) => b.toString('hex')),
      payloads.map((b) => b.toString('hex')),
      `chunks of ${size}`,
    );
    t.true(out.every((b) => b.buffer !== stream.buffer));
  }
});

test('a frame over the limit is refused before it is buffered', (t) => {
  const reader = new FrameReader(10);
  t.throws(() => reader.push(frame(Buffer.alloc(11))), { instanceOf: FrameTooLargeError });
});

test('reassembly is linear: a 1 MiB frame arriving a byte at a time takes well under a second of CPU', (t) => {
  // Quadratic reassembly (concatenating or re-walking what is buffered on every chunk) took
  // 86 s for 70 KB this way; the budget is generous for a loaded machine and stops early.
  const payload = Buffer.alloc(1 << 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  const bytes = frame(payload);
  const reader = new FrameReader(2 << 20);
  const budgetMicros = 3_000_000;
  const started = process.cpuUsage();
  const spent = (): number => {
    const used = process.cpuUsage(started);
    return used.user + used.system;
  };
  const out: Buffer[] = [];
  let pushed = 0;
  while (pushed < bytes.length) {
    out.push(...reader.push(bytes.subarray(pushed, pushed + 1)));
    pushed++;
    if ((pushed & 0xfff) === 0 && spent() > budgetMicros) break;
  }
  const micros = spent();
  t.log(`${pushed} of ${bytes.length} one-byte chunks: ${(micros / 1000).toFixed(0)} ms of CPU`);
  t.true(micros < budgetMicros, `took ${micros} µs of CPU`);
  t.is(out.length, 1);
  t.true(out[0]?.equals(payload));
});

test('frames split at every possible point come out whole', (t) => {
  const payloads = [Buffer.from('xyz'), Buffer.alloc(0), Buffer.alloc(0), Buffer.from('0123456789')];
  const stream = Buffer.concat(payloads.map(frame));
  for (let cut1 = 0; cut1 <= stream.length; cut1++) {
    for (let cut2 = cut1; cut2 <= stream.length; cut2++) {
      const reader = new FrameReader(64);
      const out = [
        ...reader.push(stream.subarray(0, cut1)),
        ...reader.push(stream.subarray(cut1, cut2)),
        ...reader.push(stream.subarray(cut2)),
      ];
      t.deepEqual(
        out.map((b) => b.toString()),
        payloads.map((b) => b.toString()),
        `cut at ${cut1} and ${cut2}`,
      );
    }
  }
});
