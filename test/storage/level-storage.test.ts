// LevelStorage on real temp dirs: one fsync per save, the on-disk layout, and refusal
// (never silent truncation) when a record or a snapshot file is corrupt or torn.

import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ClassicLevel } from 'classic-level';
import type { Entry, Snapshot } from '../../src/raft/messages.js';
import {
  LevelStorage,
  StorageCorruptionError,
  measureFsync,
  measureFsyncRate,
} from '../../src/storage/index.js';
import type { FsyncKind } from '../../src/storage/index.js';

const cmd = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'command',
  data: Uint8Array.from([index & 0xff, 1, 2, 3]),
});
const snap = (index: number, term: number, bytes = 4096): Snapshot => ({
  meta: { index, term, config: { voters: ['n1', 'n2', 'n3'], learners: [] }, configContext: {} },
  data: Uint8Array.from({ length: bytes }, (_, i) => (i * 7) & 0xff),
});

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'raft3d-level-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens the LevelDB under `dir` directly, as an operator (or a bad disk) would. */
async function withRawDb(
  dir: string,
  fn: (db: ClassicLevel<Buffer, Buffer>) => Promise<void>,
): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'log'), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

const entryKey = (index: number): Buffer => {
  const k = Buffer.alloc(9);
  k[0] = 0x65;
  k.writeUInt32BE(index, 5);
  return k;
};

async function filled(t: ExecutionContext, count = 10): Promise<string> {
  const dir = await tempDir(t);
  const s = await LevelStorage.open(dir);
  await s.save({
    entries: Array.from({ length: count }, (_, i) => cmd(i + 1, 1)),
    hardState: { term: 1, vote: 'n1', commit: 2 },
  });
  await s.close();
  return dir;
}

function assertRestoreAdvice(
  t: ExecutionContext,
  err: StorageCorruptionError | undefined,
  dir: string,
  what: RegExp,
): void {
  t.truthy(err);
  t.is(err?.code, 'storage_corruption');
  t.regex(err?.message ?? '', what);
  t.true(err?.message.includes(path.resolve(dir)), 'the message names the data dir');
  t.regex(
    err?.message ?? '',
    /restore this member from a peer: stop it, move .* away, and restart it so it rejoins and receives a snapshot/i,
  );
}

test('each save is exactly one fsync (group commit), however many entries it carries', async (t) => {
  const dir = await tempDir(t);
  const fsyncs: FsyncKind[] = [];
  const s = await LevelStorage.open(dir, {
    onFsync: (seconds, what) => (t.true(seconds >= 0), fsyncs.push(what)),
  });
  await s.save({
    entries: Array.from({ length: 1000 }, (_, i) => cmd(i + 1, 1)),
    hardState: { term: 1, vote: null, commit: 0 },
  });
  t.deepEqual(fsyncs, ['batch']);
  await s.save({ entries: [cmd(1001, 1)] });
  await s.save({ entries: [], hardState: { term: 1, vote: null, commit: 1001 } });
  t.deepEqual(fsyncs, ['batch', 'batch', 'batch']);
  await s.save({ entries: [] }); // nothing to write: no fsync at all
  t.is(fsyncs.length, 3);
  await s.close();
});

test('a snapshot is written to a durable file before the log points at it', async (t) => {
  const dir = await tempDir(t);
  const fsyncs: FsyncKind[] = [];
  const s = await LevelStorage.open(dir, { onFsync: (_s, what) => fsyncs.push(what) });
  await s.save({ entries: Array.from({ length: 10 }, (_, i) => cmd(i + 1, 1)) });
  fsyncs.length = 0;
  await s.saveSnapshot(snap(5, 1));
  t.deepEqual(fsyncs, ['snapshot-file', 'directory', 'batch']);
  await s.close();
});

test('compaction deletes covered entries from the db and old snapshot files from disk', async (t) => {
  const dir = await filled(t, 20);
  let s = await LevelStorage.open(dir);
  await s.saveSnapshot(snap(8, 1));
  await s.saveSnapshot(snap(15, 1));
  await s.close();
  t.deepEqual(await readdir(path.join(dir, 'snapshots')), [
    `snap-${'1'.padStart(20, '0')}-${'15'.padStart(20, '0')}.bin`,
  ]);
  await withRawDb(dir, async (db) => {
    const keys: number[] = [];
    for await (const k of db.keys({ gte: Buffer.from([0x65]), lt: Buffer.from([0x66]) }))
      keys.push(k.readUInt32BE(5));
    t.deepEqual(keys, [16, 17, 18, 19, 20]);
  });
  s = await LevelStorage.open(dir);
  const state = await s.verify();
  t.is(state?.snapshot?.meta.index, 15);
  t.deepEqual(
    state?.entries.map((e) => e.index),
    [16, 17, 18, 19, 20],
  );
  await s.close();
});

test('log saves go on while a snapshot file is written; the switch keeps every later entry', async (t) => {
  const dir = await filled(t, 10);
  const order: string[] = [];
  let s = await LevelStorage.open(dir, { onFsync: (_s, what) => order.push(what) });
  // A large snapshot at 8, and appends past it issued while its file is being written.
  const storing = s.saveSnapshot(snap(8, 1, 8 << 20)).then(() => order.push('snapshot stored'));
  const appended = s.save({
    entries: [cmd(11, 1), cmd(12, 2)],
    hardState: { term: 2, vote: 'n2', commit: 11 },
  });
  await appended.then(() => order.push('entries saved'));
  await storing;
  t.true(
    order.indexOf('entries saved') < order.indexOf('snapshot-file'),
    `the log save did not wait for the snapshot file: ${order.join(', ')}`,
  );
  await s.save({ entries: [cmd(13, 2)] });
  await s.close();
  s = await LevelStorage.open(dir);
  const state = await s.verify();
  t.is(state?.snapshot?.meta.index, 8);
  t.deepEqual(
    state?.entries.map((e) => [e.index, e.term]),
    [
      [9, 1],
      [10, 1],
      [11, 1],
      [12, 2],
      [13, 2],
    ],
  );
  t.deepEqual(state?.hardState, { term: 2, vote: 'n2', commit: 11 });
  await s.close();
});

test('close() lets a snapshot in progress finish instead of leaving it half switched', async (t) => {
  const dir = await filled(t, 10);
  let s = await LevelStorage.open(dir);
  const storing = s.saveSnapshot(snap(6, 1, 4 << 20));
  await s.close();
  await storing;
  await t.throwsAsync(s.saveSnapshot(snap(9, 1)), { message: /closed/ });
  s = await LevelStorage.open(dir);
  const state = await s.load();
  t.is(state?.snapshot?.meta.index, 6);
  t.deepEqual(
    state?.entries.map((e) => e.index),
    [7, 8, 9, 10],
  );
  await s.close();
});

test('a leader snapshot installed while a local one is written wins, and the local file goes', async (t) => {
  const dir = await filled(t, 10);
  let s = await LevelStorage.open(dir);
  const local = s.saveSnapshot(snap(5, 1, 4 << 20));
  await s.save({ entries: [], snapshot: snap(20, 3), hardState: { term: 3, vote: null, commit: 20 } });
  await local;
  await s.close();
  t.deepEqual(await readdir(path.join(dir, 'snapshots')), [
    `snap-${'3'.padStart(20, '0')}-${'20'.padStart(20, '0')}.bin`,
  ]);
  s = await LevelStorage.open(dir);
  const state = await s.load();
  t.is(state?.snapshot?.meta.index, 20);
  t.deepEqual(state?.entries, []);
  await s.close();
});

test('leftovers of a crash in the middle of a snapshot write are cleaned up on open', async (t) => {
  const dir = await filled(t);
  let s = await LevelStorage.open(dir);
  await s.saveSnapshot(snap(4, 1));
  await s.close();
  const snaps = path.join(dir, 'snapshots');
  // A temp file that never got renamed, and a renamed file the log never pointed at.
  await writeFile(path.join(snaps, 'snap-00000000000000000001-00000000000000000009.bin.tmp'), 'partial');
  await writeFile(path.join(snaps, 'snap-00000000000000000001-00000000000000000009.bin'), 'unreferenced');
  s = await LevelStorage.open(dir);
  t.is((await s.load())?.snapshot?.meta.index, 4);
  await s.close();
  t.deepEqual(await readdir(snaps), ['snap-00000000000000000001-00000000000000000004.bin']);
});

test('a flipped byte in a stored entry is refused on open, naming the dir and the fix', async (t) => {
  const dir = await filled(t);
  await withRawDb(dir, async (db) => {
    const v = await db.get(entryKey(6));
    if (!v) throw new Error('entry 6 missing');
    v[v.length - 6] = (v[v.length - 6] as number) ^ 0x01;
    await db.put(entryKey(6), v);
  });
  const err = await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError });
  assertRestoreAdvice(t, err, dir, /log entry 6: checksum mismatch/);
  t.true(err?.message.includes(path.join(path.resolve(dir), 'log')), 'the message names the database');
});

test('a torn (short) entry record is refused', async (t) => {
  const dir = await filled(t);
  await withRawDb(dir, async (db) => {
    const v = await db.get(entryKey(3));
    await db.put(entryKey(3), (v as Buffer).subarray(0, 10));
  });
  const err = await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError });
  assertRestoreAdvice(t, err, dir, /log entry 3: record is 10 bytes/);
});

test('a hole in the log is refused', async (t) => {
  const dir = await filled(t);
  await withRawDb(dir, (db) => db.del(entryKey(5)));
  const err = await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError });
  assertRestoreAdvice(t, err, dir, /hole: entry 6 follows 4/);
});

test('a record moved under another index is refused', async (t) => {
  const dir = await filled(t);
  await withRawDb(dir, async (db) => {
    await db.put(entryKey(11), (await db.get(entryKey(10))) as Buffer);
  });
  const err = await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError });
  assertRestoreAdvice(t, err, dir, /stored under index 11 says it is index 10/);
});

test('a decreasing term is refused', async (t) => {
  const dir = await tempDir(t);
  const s = await LevelStorage.open(dir);
  await s.save({ entries: [cmd(1, 1), cmd(2, 3)] });
  await s.close();
  // Write a valid, checksummed record with a lower term after it, bypassing save()'s checks.
  await withRawDb(dir, async (db) => {
    const donor = await LevelStorage.open(await tempDir(t));
    await donor.save({ entries: [cmd(1, 2), cmd(2, 2), cmd(3, 2)] });
    await donor.close();
    await withRawDb(donor.dir, async (other) =>
      db.put(entryKey(3), (await other.get(entryKey(3))) as Buffer),
    );
  });
  const err = await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError });
  assertRestoreAdvice(t, err, dir, /entry 3 has term 2, lower than the 3 before it/);
});

test('a commit index past the end of the log (lost writes) is refused', async (t) => {
  const dir = await filled(t, 5);
  // commit 2 was acknowledged; entries 2..5 vanish (a disk that lied about fsync, a bad restore).
  await withRawDb(dir, (db) =>
    db.batch([2, 3, 4, 5].map((i) => ({ type: 'del' as const, key: entryKey(i) }))),
  );
  const err2 = await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError });
  assertRestoreAdvice(t, err2, dir, /commit index 2 is past the end of the log \(1\)/);
});

test('a flipped byte in a snapshot file is refused, naming the file', async (t) => {
  const dir = await filled(t);
  let s = await LevelStorage.open(dir);
  await s.saveSnapshot(snap(6, 1, 100_000));
  await s.close();
  const file = path.join(dir, 'snapshots', 'snap-00000000000000000001-00000000000000000006.bin');
  const bytes = await readFile(file);
  bytes[bytes.length - 5000] = (bytes[bytes.length - 5000] as number) ^ 0x80;
  await writeFile(file, bytes);
  const err = await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError });
  assertRestoreAdvice(t, err, dir, /data checksum mismatch/);
  t.true(err?.message.includes(file));
  // The store was not modified: fixing the byte makes it open again.
  bytes[bytes.length - 5000] = (bytes[bytes.length - 5000] as number) ^ 0x80;
  await writeFile(file, bytes);
  s = await LevelStorage.open(dir);
  t.is((await s.load())?.snapshot?.meta.index, 6);
  await s.close();
});

test('a torn snapshot header or a missing snapshot file is refused', async (t) => {
  const dir = await filled(t);
  const s = await LevelStorage.open(dir);
  await s.saveSnapshot(snap(6, 1));
  await s.close();
  const file = path.join(dir, 'snapshots', 'snap-00000000000000000001-00000000000000000006.bin');
  const bytes = await readFile(file);
  bytes[12] = (bytes[12] as number) ^ 0x01; // inside the index field of the header
  await writeFile(file, bytes);
  assertRestoreAdvice(
    t,
    await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError }),
    dir,
    /header checksum mismatch/,
  );
  bytes[12] = (bytes[12] as number) ^ 0x01;
  await writeFile(file, bytes);
  await truncate(file, bytes.length - 100);
  assertRestoreAdvice(
    t,
    await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError }),
    dir,
    /torn write/,
  );
  await rm(file);
  assertRestoreAdvice(
    t,
    await t.throwsAsync(LevelStorage.open(dir), { instanceOf: StorageCorruptionError }),
    dir,
    /snapshot file the log points at is missing/,
  );
});

test('verify() catches corruption that happens while the store is open', async (t) => {
  const dir = await filled(t);
  const s = await LevelStorage.open(dir);
  t.teardown(() => s.close());
  await s.saveSnapshot(snap(3, 1));
  t.is((await s.verify())?.entries.length, 7);
  const file = path.join(dir, 'snapshots', 'snap-00000000000000000001-00000000000000000003.bin');
  const bytes = await readFile(file);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
  await writeFile(file, bytes);
  assertRestoreAdvice(
    t,
    await t.throwsAsync(s.verify(), { instanceOf: StorageCorruptionError }),
    dir,
    /data checksum mismatch/,
  );
});

test('a second process cannot open the same data dir', async (t) => {
  const dir = await filled(t);
  const s = await LevelStorage.open(dir);
  t.teardown(() => s.close());
  await t.throwsAsync(LevelStorage.open(dir), { message: /locked by another process/ });
});

test('measureFsync runs sync batches and cleans up after itself', async (t) => {
  const dir = await tempDir(t);
  t.true((await measureFsyncRate(dir, 0.1)) > 0);
  const rate = await measureFsync(dir, 0.2);
  t.true(rate.count > 0);
  t.true(rate.fsyncsPerSecond > 0);
  t.true(rate.p99Ms >= rate.p50Ms);
  t.deepEqual(await readdir(dir), []);
});
