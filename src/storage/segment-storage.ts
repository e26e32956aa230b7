// Durable RaftStorage: the log and hard state in a write-ahead log of preallocated segment
// files, snapshots as files. Each save() is ONE frame written with O_DSYNC at the end of the
// current segment (group commit: a whole Ready costs one durable write). The segment was
// filled with zeros and synced before its first use, so a write changes no file size or block
// map and the disk syncs only the data, not the file system's journal: measured against
// LevelDB in docs/performance.md ("The disk path").
//
// Layout of <dir>:
//   wal/<seq, 16 hex digits>.wal  segments, in order (format: wal-records.ts)
//   wal/LOCK                      the process that owns the directory (wal-lock.ts)
//   snapshots/                    snap-<term>-<index>.bin (see snapshot-files.ts)
//   log/                          LevelDB of an older version: migrated into wal/ on open, then removed
//
// Recovery reads every segment and checks every frame. A frame that does not check out at the
// end of the written log, with nothing but zeros after it, is a write a crash tore before it
// was acknowledged: it is zeroed and the log ends before it. Anything else that does not check
// out stops the member with StorageCorruptionError; nothing is truncated away.
//
// A new segment starts with the snapshot pointer and hard state of the moment, so a segment
// whose entries are all covered by the snapshot is deleted once a later segment exists.

import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Snapshot } from '../raft/index.js';
import { StorageCorruptionError } from './errors.js';
import { LevelStorage } from './level-storage.js';
import type { FsyncKind } from './level-storage.js';
import { planSave } from './log-rules.js';
import type { SnapshotPointer } from './record-codec.js';
import {
  dropSnapshotFile,
  readPointedSnapshot,
  removeStaleSnapshotFiles,
  writeSnapshotFile,
} from './snapshot-files.js';
import type { StorageLogger } from './snapshot-files.js';
import type { PersistedState, RaftStorage, SaveBatch } from './types.js';
import { WalLock } from './wal-lock.js';
import { FrameError, Replay, encodeFrame, readFrames } from './wal-records.js';
import type { FrameContent } from './wal-records.js';
import { WriteQueue } from './write-queue.js';

export interface SegmentStorageOptions {
  readonly logger?: StorageLogger;
  /** Called after every durable write with its latency; 'batch' is the one per save(). */
  readonly onFsync?: (seconds: number, what: FsyncKind) => void;
  /** Bytes per segment (default 16 MiB); tests use small segments to roll over often. */
  readonly segmentBytes?: number;
}

const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
const SEGMENT = /^([0-9a-f]{16})\.wal$/;
const ZEROS = Buffer.alloc(1024 * 1024);

interface Segment {
  readonly seq: number;
  readonly file: string;
  /** The highest entry index any frame in it wrote (0: none). */
  highest: number;
}

/** The open segment frames are appended to. */
interface Current {
  readonly segment: Segment;
  readonly handle: FileHandle;
  readonly size: number;
  offset: number;
}

const segmentName = (seq: number): string => `${seq.toString(16).padStart(16, '0')}.wal`;

export class SegmentStorage implements RaftStorage {
  private snapshot: SnapshotPointer = { index: 0, term: 0 };
  private hardState: PersistedState['hardState'] | null = null;
  /** Stored entries are exactly snapshot.index+1 .. lastIndex. */
  private lastIndex = 0;
  private segments: Segment[] = [];
  private current: Current | null = null;
  /** The next segment, zeroed and synced ahead of need (its temp path; null: that failed), or being made. */
  private next: Promise<string | null> | null = null;
  private opened: PersistedState | null | undefined;
  private readonly queue: WriteQueue;
  private closed = false;
  private readonly walDir: string;
  private readonly snapDir: string;
  private readonly segmentBytes: number;

  private constructor(
    readonly dir: string,
    private readonly lock: WalLock,
    private readonly options: SegmentStorageOptions,
  ) {
    this.walDir = path.join(dir, 'wal');
    this.snapDir = path.join(dir, 'snapshots');
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.queue = new WriteQueue(dir);
  }

  /** Opens (or creates) the store in `dir`, migrating an older LevelDB log, and verifies every frame. */
  static async open(dir: string, options: SegmentStorageOptions = {}): Promise<SegmentStorage> {
    const abs = path.resolve(dir);
    const walDir = path.join(abs, 'wal');
    await mkdir(path.join(abs, 'snapshots'), { recursive: true });
    if ((await mkdir(walDir, { recursive: true })) !== undefined) await syncDir(abs); // wal/ itself is durable
    const lock = await WalLock.acquire(path.join(walDir, 'LOCK'));
    const storage = new SegmentStorage(abs, lock, options);
    try {
      for (const name of await readdir(walDir))
        if (name.endsWith('.tmp')) await unlink(path.join(walDir, name));
      const replay = await storage.recover();
      if (storage.current === null) await storage.roll(0);
      const levelDir = path.join(abs, 'log');
      const level = await exists(path.join(levelDir, 'CURRENT'));
      if (level && !replay.hasRecords) await storage.migrate(levelDir);
      else if (level) {
        // A migration that finished writing the log but crashed before removing LevelDB's.
        options.logger?.warn({ dir: levelDir }, 'removing the LevelDB log an earlier migration left behind');
        await rm(levelDir, { recursive: true, force: true });
      }
      await removeStaleSnapshotFiles(storage.snapDir, storage.snapshot, options.logger);
      storage.opened = await storage.state(storage.replayed);
    } catch (err) {
      await storage.current?.handle.close();
      await lock.release();
      throw err;
    }
    return storage;
  }

  /** The replay recover() ended with, kept until the first load(). */
  private replayed: Replay | null = null;

  /**
   * Reads every segment, checks every frame, zeroes a torn last write, and opens the last
   * segment for appending. Throws StorageCorruptionError on anything else that is wrong.
   */
  private async recover(): Promise<Replay> {
    const { replay, segments, torn } = await this.scan();
    if (torn) {
      this.options.logger?.warn(
        { file: torn.file, offset: torn.offset, problem: torn.problem },
        'dropping the last write to the log: a crash tore it before it was acknowledged',
      );
      const handle = await open(torn.file, 'r+');
      try {
        for (let at = 0; at < torn.length; at += ZEROS.length)
          await handle.write(ZEROS, 0, Math.min(ZEROS.length, torn.length - at), torn.offset + at);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
    this.segments = segments.map((s) => s.segment);
    this.snapshot = replay.snapshot;
    this.hardState = replay.hardState;
    this.lastIndex = replay.lastIndex();
    const last = segments[segments.length - 1];
    if (last) {
      const handle = await open(last.segment.file, constants.O_RDWR | constants.O_DSYNC);
      this.current = { segment: last.segment, handle, size: last.size, offset: last.end };
    }
    this.replayed = replay;
    return replay;
  }

  /** Replays the segments on disk, without changing anything. */
  private async scan(): Promise<{
    replay: Replay;
    segments: { segment: Segment; size: number; end: number }[];
    torn: { file: string; offset: number; length: number; problem: string } | null;
  }> {
    const names = (await readdir(this.walDir)).filter((n) => SEGMENT.test(n)).sort();
    const replay = new Replay();
    const segments: { segment: Segment; size: number; end: number }[] = [];
    let torn: { file: string; offset: number; length: number; problem: string } | null = null;
    for (const name of names) {
      const file = path.join(this.walDir, name);
      const bytes = await readFile(file);
      const segment: Segment = { seq: parseInt(name.slice(0, 16), 16), file, highest: 0 };
      let frames = 0;
      const end = readFrames(bytes, (payload, offset) => {
        frames++;
        try {
          segment.highest = Math.max(segment.highest, replay.apply(payload));
        } catch (err) {
          if (err instanceof FrameError) this.corrupt(file, `frame at byte ${offset}: ${err.message}`);
          throw err;
        }
      });
      if (torn && frames > 0)
        this.corrupt(torn.file, `${torn.problem}, and later segments hold more of the log`);
      if (end.kind === 'damaged') this.corrupt(file, end.problem);
      if (end.kind === 'torn') torn = { file, offset: end.offset, length: end.length, problem: end.problem };
      segments.push({ segment, size: bytes.length, end: end.offset });
    }
    const problem = replay.problem();
    if (problem !== null) this.corrupt(this.walDir, problem);
    return { replay, segments, torn };
  }

  /** The persisted state a replay describes, with its snapshot read and checked. */
  private async state(replay: Replay | null): Promise<PersistedState | null> {
    const r = replay ?? (await this.scan()).replay;
    const snapshot =
      r.snapshot.index === 0 ? null : await readPointedSnapshot(this.dir, this.snapDir, r.snapshot);
    if (r.hardState === null && snapshot === null && r.entries.length === 0) return null;
    return { hardState: r.hardState ?? { term: 0, vote: null, commit: 0 }, snapshot, entries: r.entries };
  }

  /** One-time move of a LevelDB log (what versions before the segment log stored) into wal/. */
  private async migrate(levelDir: string): Promise<void> {
    const level = await LevelStorage.open(
      this.dir,
      this.options.logger ? { logger: this.options.logger } : {},
    );
    const state = await level.load().finally(() => level.close());
    if (state !== null) {
      const pointer = state.snapshot
        ? { index: state.snapshot.meta.index, term: state.snapshot.meta.term }
        : null;
      if (pointer) this.snapshot = pointer;
      await this.append({
        ...(pointer ? { pointer: { kind: 'compact' as const, at: pointer } } : {}),
        entries: state.entries,
        hardState: state.hardState,
      });
      this.hardState = state.hardState;
      this.lastIndex = state.entries[state.entries.length - 1]?.index ?? this.snapshot.index;
      this.replayed = null;
    }
    await rm(levelDir, { recursive: true, force: true });
    await syncDir(this.dir);
    this.options.logger?.info(
      { dir: this.dir, entries: state?.entries.length ?? 0, snapshot: this.snapshot.index },
      'migrated the LevelDB log to the segment log',
    );
  }

  load(): Promise<PersistedState | null> {
    return this.run(async () => {
      if (this.opened !== undefined) {
        const state = this.opened;
        this.opened = undefined;
        this.replayed = null;
        return state;
      }
      return this.state(null);
    });
  }

  save(batch: SaveBatch): Promise<void> {
    return this.run(async () => {
      if (!batch.snapshot && !batch.hardState && batch.entries.length === 0) return;
      const plan = planSave(this.snapshot.index, this.snapshot.index + 1, this.lastIndex, batch);
      let installed: SnapshotPointer | null = null;
      if (plan.snapshot) {
        // Installed from the leader: the snapshot replaces the whole log.
        await writeSnapshotFile(this.snapDir, plan.snapshot, this.fsyncReporter());
        installed = { index: plan.snapshot.meta.index, term: plan.snapshot.meta.term };
      }
      await this.append({
        ...(installed ? { pointer: { kind: 'replace' as const, at: installed } } : {}),
        entries: plan.entries,
        ...(batch.hardState ? { hardState: batch.hardState } : {}),
      });
      if (batch.hardState) this.hardState = batch.hardState;
      this.lastIndex = plan.lastIndex;
      if (installed) await this.switchSnapshot(installed);
    });
  }

  /**
   * The snapshot file is written beside the queue, so log saves go on while it is written and
   * synced; only the switch (a pointer frame, then old segments and the old file removed) is
   * queued. Until that frame lands the log still holds every entry, and a file no pointer
   * names is removed on the next open.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`storage in ${this.dir} is closed`));
    return this.queue.track(this.storeSnapshot(snapshot));
  }

  private async storeSnapshot(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.meta;
    this.queue.throwIfFailed();
    if (index <= this.snapshot.index) return;
    await writeSnapshotFile(this.snapDir, snapshot, this.fsyncReporter());
    return this.queue.enqueue(async () => {
      const pointer = { index, term };
      if (index <= this.snapshot.index) {
        // A newer snapshot (installed from the leader) switched in first: this file is unused.
        await dropSnapshotFile(this.snapDir, pointer, this.snapshot);
        return;
      }
      const compacted = Math.min(index, this.lastIndex) - this.snapshot.index;
      await this.append({ pointer: { kind: 'compact', at: pointer }, entries: [] });
      if (this.lastIndex < index) this.lastIndex = index;
      await this.switchSnapshot(pointer);
      this.options.logger?.info({ dir: this.dir, index, term, compacted }, 'snapshot stored, log compacted');
    });
  }

  /** After a pointer frame is durable: the old snapshot file and covered segments go. */
  private async switchSnapshot(pointer: SnapshotPointer): Promise<void> {
    const previous = this.snapshot;
    this.snapshot = pointer;
    await dropSnapshotFile(this.snapDir, previous, pointer);
    // Segments hold their entries, and (at their start) a hard state and pointer the later
    // segments supersede: one whose entries the snapshot covers is not needed, oldest first.
    while (this.segments.length > 1 && this.segments[0]!.highest <= pointer.index) {
      const gone = this.segments.shift()!;
      await unlink(gone.file);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Snapshot saves enqueue their switch only after their file is written: settled() waits for them.
    await this.queue.settled();
    await this.next;
    await this.current?.handle.close();
    this.current = null;
    await this.lock.release();
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`storage in ${this.dir} is closed`));
    return this.queue.enqueue(op);
  }

  /** Writes one frame, durably, at the end of the log; a new segment begins with the state of the moment. */
  private async append(content: FrameContent): Promise<void> {
    const started = performance.now();
    let frame = encodeFrame(this.withHead(content, false));
    let current = this.current!;
    if (current.offset + frame.length > current.size) {
      // The frame opens the next segment, so it carries the head; the segment is made to fit it.
      frame = encodeFrame(this.withHead(content, true));
      await this.roll(frame.length);
      current = this.current!;
    }
    const at = current.offset;
    const { bytesWritten } = await current.handle.write(frame, 0, frame.length, at);
    if (bytesWritten !== frame.length)
      throw new Error(
        `storage: short write to ${current.segment.file} (${bytesWritten} of ${frame.length} bytes)`,
      );
    current.offset = at + frame.length;
    for (const e of content.entries) if (e.index > current.segment.highest) current.segment.highest = e.index;
    this.options.onFsync?.((performance.now() - started) / 1000, 'batch');
    if (this.next === null && current.offset > current.size / 2) this.prepareNext();
  }

  /** At the start of a segment, the snapshot pointer and hard state go first (see the header). */
  private withHead(content: FrameContent, opensSegment: boolean): FrameContent {
    if (!opensSegment && this.current !== null && this.current.offset > 0) return content;
    const hardState = content.hardState ?? this.hardState;
    return {
      ...(content.pointer
        ? { pointer: content.pointer }
        : this.snapshot.index > 0
          ? { pointer: { kind: 'compact' as const, at: this.snapshot } }
          : {}),
      entries: content.entries,
      ...(hardState ? { hardState } : {}),
    };
  }

  /**
   * Zero-fills the next segment in the background, so that a roll only renames it. A failure
   * (a full disk) is said at once; the roll tries again, and fails the save if it fails too.
   */
  private prepareNext(): void {
    const file = path.join(this.walDir, `next-${process.pid}-${Date.now()}.tmp`);
    const left = this.current ? this.current.size - this.current.offset : 0;
    this.next = zeroFile(file, this.segmentBytes).then(
      () => file,
      async (err: unknown) => {
        this.options.logger?.warn(
          { err, file, bytesLeft: left },
          'cannot prepare the next log segment; writes go on into the current one, and fail once it is full unless space is freed',
        );
        await unlink(file).catch(() => undefined);
        return null;
      },
    );
  }

  /** Moves appends to a new segment big enough for a frame of `frameBytes`. */
  private async roll(frameBytes: number): Promise<void> {
    const size = Math.max(this.segmentBytes, frameBytes);
    const prepared = this.next === null ? null : await this.next;
    this.next = null;
    let temp: string;
    if (prepared !== null && size === this.segmentBytes) temp = prepared;
    else {
      if (prepared !== null) await unlink(prepared).catch(() => undefined);
      temp = path.join(this.walDir, `next-${process.pid}-${Date.now()}.tmp`);
      await zeroFile(temp, size).catch(async (err: unknown) => {
        await unlink(temp).catch(() => undefined);
        throw err;
      });
    }
    const seq = (this.segments[this.segments.length - 1]?.seq ?? 0) + 1;
    const file = path.join(this.walDir, segmentName(seq));
    await rename(temp, file);
    await syncDir(this.walDir);
    const handle = await open(file, constants.O_RDWR | constants.O_DSYNC);
    const previous = this.current;
    const segment: Segment = { seq, file, highest: 0 };
    this.segments.push(segment);
    this.current = { segment, handle, size, offset: 0 };
    await previous?.handle.close();
  }

  private fsyncReporter(): ((seconds: number, what: FsyncKind) => void) | undefined {
    const onFsync = this.options.onFsync;
    return onFsync ? (s, what) => onFsync(s, what) : undefined;
  }

  private corrupt(file: string, problem: string): never {
    throw new StorageCorruptionError(this.dir, file, problem);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A file of `size` zero bytes, written (not sparse) and synced. */
async function zeroFile(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w', 0o600);
  try {
    for (let at = 0; at < size; at += ZEROS.length)
      await handle.write(ZEROS, 0, Math.min(ZEROS.length, size - at), at);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
