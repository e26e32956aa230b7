// The peer wire format: every message type round-trips exactly, entry bytes travel as
// raw bytes (not JSON number arrays), and malformed input is refused.

import test from 'ava';
import type { Message } from '../../src/raft/messages.js';
import { base, everyMessage } from './fixtures.js';
import {
  DecodeError,
  decodeBatch,
  decodeSnapshotHeader,
  encodeBatch,
  encodeSnapshotHeader,
} from '../../src/transport/codec.js';

test('every message type survives encode/decode unchanged', (t) => {
  t.deepEqual(decodeBatch(Buffer.from(encodeBatch(everyMessage))), everyMessage);
});

test('entry data is carried as raw bytes, not as a JSON array of numbers', (t) => {
  const data = new Uint8Array(10_000).fill(200);
  const m: Message = {
    ...base,
    type: 'append',
    prevIndex: 0,
    prevTerm: 0,
    commit: 0,
    entries: [{ index: 1, term: 1, type: 'command', data }],
  };
  const bytes = encodeBatch([m]);
  t.true(bytes.length < 10_100, `encoded ${bytes.length} bytes for 10,000 bytes of data`);
  const decoded = decodeBatch(Buffer.from(bytes))[0];
  t.true(
    decoded?.type === 'append' &&
      decoded.entries[0]?.type === 'command' &&
      decoded.entries[0].data instanceof Uint8Array,
  );
});

test('a snapshot header carries the meta and the data length but not the data', (t) => {
  const m = everyMessage.find((x) => x.type === 'snapshot');
  if (m?.type !== 'snapshot') return t.fail();
  const header = encodeSnapshotHeader(m);
  t.is(header.readUInt32BE(0), header.length - 4);
  t.deepEqual(decodeSnapshotHeader(header.subarray(4)), {
    from: 'n1',
    to: 'n2',
    term: 7,
    meta: m.snapshot.meta,
    dataLength: 3,
  });
});

test('truncated, padded or unknown input is refused', (t) => {
  const bytes = Buffer.from(encodeBatch(everyMessage));
  t.throws(() => decodeBatch(bytes.subarray(0, bytes.length - 1)), { instanceOf: DecodeError });
  t.throws(() => decodeBatch(Buffer.concat([bytes, Buffer.from([0])])), { instanceOf: DecodeError });
  const badType = Buffer.from(bytes);
  badType[5] = 99;
  t.throws(() => decodeBatch(badType), { instanceOf: DecodeError, message: /unknown message type 99/ });
  const badVersion = Buffer.from(bytes);
  badVersion[0] = 2;
  t.throws(() => decodeBatch(badVersion), { instanceOf: DecodeError });
});
