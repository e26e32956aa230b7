// crc32() wraps zlib's: the standard check value, and its sub-range and continuation
// arguments must give what checksumming the sub-range in one piece gives (the record codec
// checksums parts of buffers and continues checksums across header and data).

import { crc32 as zlibCrc32 } from 'node:zlib';
import test from 'ava';
import { crc32 } from '../../src/storage/crc32.js';
import { SeededPrng } from '../../src/raft/prng.js';

test('the check value of "123456789" is cbf43926', (t) => {
  t.is(crc32(Buffer.from('123456789')), 0xcbf43926);
  t.is(crc32(new Uint8Array(0)), 0);
});

test('agrees with zlib on random inputs, sub-ranges and continued checksums', (t) => {
  const seed = 20261126;
  const prng = new SeededPrng(seed);
  for (let n = 0; n < 300; n++) {
    const bytes = Uint8Array.from({ length: prng.int(200) }, () => prng.int(256));
    const start = prng.int(bytes.length + 1);
    const end = start + prng.int(bytes.length - start + 1);
    t.is(crc32(bytes, start, end), zlibCrc32(bytes.subarray(start, end)), `seed ${seed}, case ${n}`);
    const mid = start + Math.floor((end - start) / 2);
    t.is(
      crc32(bytes, mid, end, crc32(bytes, start, mid)),
      zlibCrc32(bytes.subarray(start, end)),
      `seed ${seed}, case ${n}`,
    );
  }
});
