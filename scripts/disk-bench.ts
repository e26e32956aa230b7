// `npm run disk-bench -- [--seconds 3]`: what one durable Ready write costs on this disk, for
// the ways the Raft log could be stored: LevelDB batches (what LevelStorage did) and a log
// segment file (records with a CRC appended, then fdatasync, or written with O_DSYNC as
// SegmentStorage does; the file preallocated with zeros so a sync has no size or block map
// to update, or grown).
// Each shape runs alone (one writer) and as three writers at once on three files, as the
// three members of a local cluster do on this machine's one disk.

import { constants, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { encodeEntry, encodeHardState, entryKey } from '../src/storage/record-codec.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const PAYLOAD = new Uint8Array(180).fill(42); // about one create-printer command

/** One durable write of `entries` entries starting at `index`. */
type Writer = { write(index: number, entries: number): Promise<void>; close(): Promise<void> };

async function levelWriter(
  dir: string,
  shape: 'key per entry' | 'key per Ready' = 'key per entry',
  writeBufferSize?: number,
): Promise<Writer> {
  const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'log'), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    ...(writeBufferSize === undefined ? {} : { writeBufferSize }),
  });
  await db.open();
  return {
    async write(index, entries) {
      const batch = db.batch();
      const records: Buffer[] = [];
      for (let i = index; i < index + entries; i++)
        records.push(encodeEntry({ index: i, term: 1, type: 'command', data: PAYLOAD }));
      if (shape === 'key per entry') records.forEach((r, i) => batch.put(entryKey(index + i), r));
      else batch.put(entryKey(index), Buffer.concat(records));
      batch.put(Buffer.from('h'), encodeHardState({ term: 1, vote: 'n1', commit: index }));
      await batch.write({ sync: true });
    },
    close: () => db.close(),
  };
}

async function preallocate(handle: FileHandle, bytes: number): Promise<void> {
  const zeros = Buffer.alloc(1 << 20);
  for (let off = 0; off < bytes; off += zeros.length) await handle.write(zeros, 0, zeros.length, off);
  await handle.sync();
}

async function segmentWriter(
  dir: string,
  mode: 'fdatasync' | 'o_dsync' | 'o_dsync on the main thread',
  preallocated: boolean,
): Promise<Writer> {
  const file = path.join(dir, 'segment');
  const flags = constants.O_RDWR | constants.O_CREAT | (mode === 'fdatasync' ? 0 : constants.O_DSYNC);
  const handle = await open(file, flags, 0o600);
  if (preallocated) await preallocate(handle, 64 << 20);
  let offset = 0;
  return {
    async write(index, entries) {
      const records: Buffer[] = [];
      for (let i = index; i < index + entries; i++)
        records.push(encodeEntry({ index: i, term: 1, type: 'command', data: PAYLOAD }));
      const buf = records.length === 1 ? records[0]! : Buffer.concat(records);
      if (mode === 'o_dsync on the main thread') writeSync(handle.fd, buf, 0, buf.length, offset);
      else await handle.write(buf, 0, buf.length, offset);
      offset += buf.length;
      if (mode === 'fdatasync') await handle.datasync();
    },
    close: () => handle.close(),
  };
}

interface Result {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

async function drive(
  make: (dir: string) => Promise<Writer>,
  writers: number,
  entries: number,
): Promise<Result> {
  const dirs = await Promise.all(
    Array.from({ length: writers }, () => mkdtemp(path.join(os.tmpdir(), 'raft3d-disk-'))),
  );
  const ws = await Promise.all(dirs.map((d) => make(d)));
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    ws.map(async (w) => {
      let index = 1;
      while (performance.now() < until) {
        const t = performance.now();
        await w.write(index, entries);
        latencies.push(performance.now() - t);
        index += entries;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(ws.map((w) => w.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.floor(q * latencies.length)] ?? NaN;
  return { perSecond: latencies.length / elapsed / writers, p50: at(0.5) * 1000, p99: at(0.99) * 1000 };
}

const shapes: [string, (dir: string) => Promise<Writer>][] = [
  ['LevelDB chained batch, sync, key per entry (LevelStorage, before)', (d) => levelWriter(d)],
  ['LevelDB, one key per Ready', (d) => levelWriter(d, 'key per Ready')],
  ['LevelDB, 64 MiB write buffer', (d) => levelWriter(d, 'key per entry', 64 << 20)],
  ['segment, preallocated, write + fdatasync', (d) => segmentWriter(d, 'fdatasync', true)],
  ['segment, preallocated, O_DSYNC write (SegmentStorage, now)', (d) => segmentWriter(d, 'o_dsync', true)],
  [
    'segment, preallocated, O_DSYNC writeSync on the main thread',
    (d) => segmentWriter(d, 'o_dsync on the main thread', true),
  ],
  ['segment, growing, write + fdatasync', (d) => segmentWriter(d, 'fdatasync', false)],
];

console.log(
  `disk-bench: ${seconds} s per cell, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${os.tmpdir()}`,
);
console.log('| shape | entries per write | writers | writes/s per writer | p50 µs | p99 µs |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const entries of [1, 20]) {
  for (const writers of [1, 3]) {
    for (const [name, make] of shapes) {
      const r = await drive(make, writers, entries);
      console.log(
        `| ${name} | ${entries} | ${writers} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} |`,
      );
    }
  }
}
