// SegmentStorage on real temp dirs: one durable write per save, torn last writes dropped and
// everything else that does not check out refused, the directory lock, old segments deleted
// once a snapshot covers them, and the one-time migration of a LevelDB log.

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Entry, Snapshot } from '../../src/raft/messages.js';
import { LevelStorage, SegmentStorage, StorageCorruptionError } from '../../src/storage/index.js';
import { readFrames } from '../../src/storage/wal-records.js';

const SMALL = { segmentBytes: 4096 };

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'raft3d-segment-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const cmd = (index: number, term = 1): Entry => ({
  index,
  term,
  type: 'command',
  data: new TextEncoder().encode(`command ${index}`),
});
const snap = (index: number, term = 1): Snapshot => ({
  meta: { index, term, config: { voters: ['n1', 'n2', 'n3'], learners: [] }, configContext: {} },
  data: Uint8Array.from({ length: 100 }, (_, i) => (i + index) & 0xff),
});

const segments = (dir: string): string[] =>
  readdirSync(path.join(dir, 'wal'))
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .map((n) => path.join(dir, 'wal', n));

/** The [offset, end) of every frame in a segment. */
function frames(file: string): [number, number][] {
  const out: [number, number][] = [];
  readFrames(readFileSync(file), (payload, offset) => out.push([offset, offset + 8 + payload.length]));
  return out;
}

async function writeSaves(dir: string, count: number, options = SMALL): Promise<void> {
  const s = await SegmentStorage.open(dir, options);
  for (let i = 1; i <= count; i++)
    await s.save({ entries: [cmd(i)], hardState: { term: 1, vote: 'n1', commit: i - 1 } });
  await s.close();
}

test('each save is one durable write, into wal/<seq>.wal; the directory is locked while open', async (t) => {
  const dir = await tempDir(t);
  const writes: string[] = [];
  const s = await SegmentStorage.open(dir, {
    onFsync: (seconds, what) => (t.true(seconds >= 0), writes.push(what)),
  });
  await s.save({ entries: [cmd(1), cmd(2), cmd(3)], hardState: { term: 1, vote: 'n1', commit: 0 } });
  await s.save({ entries: [cmd(4)] });
  t.deepEqual(writes, ['batch', 'batch']);
  t.deepEqual(readdirSync(path.join(dir, 'wal')).sort(), ['0000000000000001.wal', 'LOCK']);
  await t.throwsAsync(SegmentStorage.open(dir), { message: /locked by another process \(pid \d+/ });
  await s.close();
  t.false(existsSync(path.join(dir, 'wal', 'LOCK')));
  const again = await SegmentStorage.open(dir);
  t.deepEqual(
    (await again.load())?.entries.map((e) => e.index),
    [1, 2, 3, 4],
  );
  await again.close();
});

test('a lock left by a process that is gone is taken over', async (t) => {
  const dir = await tempDir(t);
  await writeSaves(dir, 2);
  // A pid no process has (above the kernel's pid_max), as a crashed member leaves it.
  writeFileSync(path.join(dir, 'wal', 'LOCK'), JSON.stringify({ pid: 4_194_305, boot: null, start: null }));
  const s = await SegmentStorage.open(dir, SMALL);
  t.is((await s.load())?.entries.length, 2);
  await s.close();
  // And one whose writer crashed before it wrote anything.
  writeFileSync(path.join(dir, 'wal', 'LOCK'), '');
  await (await SegmentStorage.open(dir, SMALL)).close();
  t.pass();
});

test('a write torn anywhere by a crash is dropped, and only that write (every byte of the last frame)', async (t) => {
  const dir = await tempDir(t);
  await writeSaves(dir, 3);
  const [file] = segments(dir);
  const pristine = readFileSync(file!);
  const [start, end] = frames(file!).at(-1)!;
  for (let cut = start; cut < end; cut++) {
    // The disk kept the frame's bytes before `cut`, and none after.
    const torn = Buffer.from(pristine);
    torn.fill(0, cut, end);
    writeFileSync(file!, torn);
    const s = await SegmentStorage.open(dir, SMALL);
    const state = await s.load();
    t.deepEqual(
      state?.entries.map((e) => e.index),
      [1, 2],
      `cut at byte ${cut} of the frame ${start}..${end}`,
    );
    t.is(state?.hardState.commit, 1);
    await s.close();
  }
  // The torn bytes were zeroed: a new write lands where the torn one was and survives.
  const s = await SegmentStorage.open(dir, SMALL);
  await s.load();
  await s.save({ entries: [cmd(3, 2)], hardState: { term: 2, vote: 'n2', commit: 2 } });
  await s.close();
  const after = await SegmentStorage.open(dir, SMALL);
  const state = await after.load();
  t.deepEqual(
    state?.entries.map((e) => [e.index, e.term]),
    [
      [1, 1],
      [2, 1],
      [3, 2],
    ],
  );
  t.deepEqual(state?.hardState, { term: 2, vote: 'n2', commit: 2 });
  await after.close();
});

test('a damaged frame with more of the log after it refuses to open, naming the file', async (t) => {
  const dir = await tempDir(t);
  await writeSaves(dir, 4);
  const [file] = segments(dir);
  const bytes = readFileSync(file!);
  const [start, end] = frames(file!)[1]!;
  const at = Math.floor((start + 8 + end) / 2);
  bytes[at] = bytes[at]! ^ 0x01;
  writeFileSync(file!, bytes);
  const err = await t.throwsAsync(SegmentStorage.open(dir, SMALL), { instanceOf: StorageCorruptionError });
  t.is(err?.file, file!);
  t.regex(err?.message ?? '', /frame at byte \d+ .*checksum mismatch/);
  t.regex(err?.message ?? '', /Restore this member from a peer/);
  // Refusing leaves the data alone and the lock free.
  t.deepEqual(readFileSync(file!), bytes);
  t.false(existsSync(path.join(dir, 'wal', 'LOCK')));
});

test('a torn frame in a segment followed by another segment holding frames is damage, not a crash', async (t) => {
  const dir = await tempDir(t);
  await writeSaves(dir, 200); // several segments of 4 KiB
  const files = segments(dir);
  t.true(files.length >= 3, `${files.length} segments`);
  const first = files[0]!;
  const bytes = readFileSync(first);
  const [start, end] = frames(first).at(-1)!;
  bytes.fill(0, start + 8, end);
  writeFileSync(first, bytes);
  const err = await t.throwsAsync(SegmentStorage.open(dir, SMALL), { instanceOf: StorageCorruptionError });
  t.regex(err?.message ?? '', /later segments hold more of the log/);
});

test('a lost segment in the middle of the log is a hole, refused', async (t) => {
  const dir = await tempDir(t);
  await writeSaves(dir, 200);
  const files = segments(dir);
  t.true(files.length >= 3);
  await rm(files[1]!);
  const err = await t.throwsAsync(SegmentStorage.open(dir, SMALL), { instanceOf: StorageCorruptionError });
  t.regex(err?.message ?? '', /log has a hole/);
});

test('segments a snapshot covers are deleted; the log and hard state survive in the rest', async (t) => {
  const dir = await tempDir(t);
  let s = await SegmentStorage.open(dir, SMALL);
  for (let i = 1; i <= 200; i++)
    await s.save({ entries: [cmd(i)], hardState: { term: 1, vote: 'n1', commit: i } });
  const before = segments(dir).length;
  t.true(before >= 3, `${before} segments`);
  await s.saveSnapshot(snap(190));
  const after = segments(dir);
  t.true(after.length < before, `${before} -> ${after.length} segments`);
  t.true(after.length >= 1);
  await s.save({ entries: [cmd(201)], hardState: { term: 1, vote: 'n1', commit: 201 } });
  await s.close();
  s = await SegmentStorage.open(dir, SMALL);
  const state = await s.load();
  t.is(state?.snapshot?.meta.index, 190);
  t.deepEqual(
    state?.entries.map((e) => e.index),
    Array.from({ length: 11 }, (_, i) => 191 + i),
  );
  t.deepEqual(state?.hardState, { term: 1, vote: 'n1', commit: 201 });
  await s.close();
});

test('a LevelDB log of an older version is migrated once, then removed', async (t) => {
  const dir = await tempDir(t);
  const level = await LevelStorage.open(dir);
  await level.save({
    entries: [cmd(1), cmd(2), cmd(3), cmd(4), cmd(5)],
    hardState: { term: 2, vote: 'n3', commit: 4 },
  });
  await level.saveSnapshot(snap(3));
  await level.close();
  const expected = await (async () => {
    const again = await LevelStorage.open(dir);
    try {
      return await again.load();
    } finally {
      await again.close();
    }
  })();

  let s = await SegmentStorage.open(dir, SMALL);
  t.deepEqual(await s.load(), expected);
  t.false(existsSync(path.join(dir, 'log')), 'the LevelDB directory is gone');
  await s.save({ entries: [cmd(6, 2)], hardState: { term: 2, vote: 'n3', commit: 6 } });
  await s.close();
  s = await SegmentStorage.open(dir, SMALL);
  const state = await s.load();
  t.is(state?.snapshot?.meta.index, 3);
  t.deepEqual(
    state?.entries.map((e) => e.index),
    [4, 5, 6],
  );
  t.deepEqual(state?.hardState, { term: 2, vote: 'n3', commit: 6 });
  await s.close();
});

test('a save bigger than a segment gets a segment of its own, sized to fit, and survives a restart', async (t) => {
  const dir = await tempDir(t);
  let s = await SegmentStorage.open(dir, { segmentBytes: 300 });
  await s.save({ entries: [cmd(1)], hardState: { term: 1, vote: 'n1', commit: 0 } });
  const big: Entry[] = Array.from({ length: 40 }, (_, i) => cmd(i + 2));
  await s.save({ entries: big, hardState: { term: 1, vote: 'n1', commit: 1 } });
  await s.save({ entries: [cmd(42)] });
  await s.close();
  const files = segments(dir);
  t.true(files.length >= 2);
  t.true(
    files.some((f) => readFileSync(f).length > 300),
    'one segment grew to fit the big save',
  );
  s = await SegmentStorage.open(dir, { segmentBytes: 300 });
  const state = await s.load();
  t.deepEqual(
    state?.entries.map((e) => e.index),
    Array.from({ length: 42 }, (_, i) => i + 1),
  );
  t.deepEqual(state?.hardState, { term: 1, vote: 'n1', commit: 1 });
  await s.close();
});
