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
