// Durable RaftStorage: the log and hard state in classic-level (LevelDB), snapshots as
// files. Each save() is ONE LevelDB batch written with { sync: true } (group commit: a
// whole Ready costs one fsync). Every record is checksummed and the whole store is
// verified on open; anything corrupt or torn stops the member with StorageCorruptionError
// instead of being truncated away.
//
// Layout of <dir>:
//   log/        LevelDB: 'e'+u64 index -> entry, 'h' -> hard state, 's' -> current snapshot
//   snapshots/  snap-<term>-<index>.bin (see snapshot-files.ts)

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClassicLevel } from 'classic-level';
import type { Entry, Snapshot } from '../raft/index.js';
import { StorageCorruptionError } from './errors.js';
import { planSave } from './log-rules.js';
import {
  RecordError,
  decodeEntry,
  decodeHardState,
  decodeSnapshotPointer,
  encodeEntry,
  encodeHardState,
  encodeSnapshotPointer,
  entryKey,
  entryKeyIndex,
} from './record-codec.js';
import type { SnapshotPointer } from './record-codec.js';
import {
  dropSnapshotFile,
  readPointedSnapshot,
  removeFiles,
  removeStaleSnapshotFiles,
  snapshotFileName,
  writeSnapshotFile,
} from './snapshot-files.js';
import type { StorageLogger } from './snapshot-files.js';
import { WriteQueue } from './write-queue.js';
import type { PersistedState, RaftStorage, SaveBatch } from './types.js';

export type FsyncKind = 'batch' | 'snapshot-file' | 'directory';

export interface LevelStorageOptions {
  readonly logger?: StorageLogger;
  /** Called after every fsync with its latency; 'batch' is the one per save(). */
  readonly onFsync?: (seconds: number, what: FsyncKind) => void;
}

type Db = ClassicLevel<Buffer, Buffer>;
type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

const HARD_STATE_KEY = Buffer.from('h');
const SNAPSHOT_KEY = Buffer.from('s');
const ENTRY_RANGE = { gte: Buffer.from([0x65]), lt: Buffer.from([0x66]) };

export class LevelStorage implements RaftStorage {
  private snapshot: SnapshotPointer = { index: 0, term: 0 };
  /** Stored entries are exactly snapshot.index+1 .. lastIndex. */
  private lastIndex = 0;
  private hasState = false;
  private opened: PersistedState | null | undefined;
  private readonly queue: WriteQueue;
  private closed = false;
  private readonly logDir: string;
  private readonly snapDir: string;

  private constructor(
    readonly dir: string,
    private readonly db: Db,
    private readonly options: LevelStorageOptions,
  ) {
    this.logDir = path.join(dir, 'log');
    this.snapDir = path.join(dir, 'snapshots');
    this.queue = new WriteQueue(dir);
  }

  /** Opens (or creates) the store in `dir` and verifies every record in it. */
  static async open(dir: string, options: LevelStorageOptions = {}): Promise<LevelStorage> {
    const abs = path.resolve(dir);
    await mkdir(path.join(abs, 'snapshots'), { recursive: true });
    const logDir = path.join(abs, 'log');
    const db: Db = new ClassicLevel<Buffer, Buffer>(logDir, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_CORRUPTION')
        throw new StorageCorruptionError(
          abs,
          logDir,
          `LevelDB refuses to open: ${cause.message ?? String(err)}`,
        );
      if (cause?.code === 'LEVEL_LOCKED')
        throw new Error(`storage: ${logDir} is locked by another process (is this member already running?)`, {
          cause: err,
        });
      throw err;
    }
    const storage = new LevelStorage(abs, db, options);
    try {
      storage.opened = await storage.check();
      await removeStaleSnapshotFiles(storage.snapDir, storage.snapshot, options.logger);
    } catch (err) {
      await db.close();
      throw err;
    }
    return storage;
  }

  /**
   * Reads and checks everything: each record's checksum, log index continuity from the
   * snapshot, non-decreasing terms, the snapshot file the log points at, and that the
   * commit index is inside the log. Throws StorageCorruptionError on the first problem.
   */
  verify(): Promise<PersistedState | null> {
    return this.run(() => this.check());
  }

  private async check(): Promise<PersistedState | null> {
    const pointerBuf = await this.db.get(SNAPSHOT_KEY);
    let snapshot: Snapshot | null = null;
    let pointer: SnapshotPointer = { index: 0, term: 0 };
    if (pointerBuf) {
      pointer = this.decode(pointerBuf, decodeSnapshotPointer, 'snapshot pointer');
      snapshot = await readPointedSnapshot(this.dir, this.snapDir, pointer);
    }
    const hsBuf = await this.db.get(HARD_STATE_KEY);
    const hardState = hsBuf ? this.decode(hsBuf, decodeHardState, 'hard state') : null;

    const entries: Entry[] = [];
    let prevIndex = pointer.index;
    let prevTerm = pointer.term;
    for await (const [key, value] of this.db.iterator(ENTRY_RANGE)) {
      const keyIndex = this.decode(key, entryKeyIndex, 'log key');
      const entry = this.decode(value, decodeEntry, `log entry ${keyIndex}`);
      if (entry.index !== keyIndex)
        this.corrupt(`log entry stored under index ${keyIndex} says it is index ${entry.index}`);
      if (entry.index !== prevIndex + 1) {
        this.corrupt(
          entry.index <= pointer.index
            ? `log entry ${entry.index} is covered by the snapshot at ${pointer.index} but was not compacted`
            : `log has a hole: entry ${entry.index} follows ${prevIndex}`,
        );
      }
      if (entry.term < prevTerm)
        this.corrupt(`log entry ${entry.index} has term ${entry.term}, lower than the ${prevTerm} before it`);
      entries.push(entry);
      prevIndex = entry.index;
      prevTerm = entry.term;
    }
    if (hardState && hardState.commit > prevIndex) {
      this.corrupt(
        `hard state commit index ${hardState.commit} is past the end of the log (${prevIndex}): acknowledged writes were lost`,
      );
    }
    this.snapshot = pointer;
    this.lastIndex = prevIndex;
    this.hasState = hardState !== null || snapshot !== null || entries.length > 0;
    if (!this.hasState) return null;
    return { hardState: hardState ?? { term: 0, vote: null, commit: 0 }, snapshot, entries };
  }

  load(): Promise<PersistedState | null> {
    return this.run(async () => {
      if (this.opened !== undefined) {
        const state = this.opened;
        this.opened = undefined;
        return state;
      }
      return this.check();
    });
  }

  save(batch: SaveBatch): Promise<void> {
    return this.run(async () => {
      if (!batch.snapshot && !batch.hardState && batch.entries.length === 0) return;
      const plan = planSave(this.snapshot.index, this.snapshot.index + 1, this.lastIndex, batch);
      const ops: BatchOp[] = [];
      let last = this.lastIndex;
      let newSnapshot: SnapshotPointer | null = null;
      if (plan.snapshot) {
        // Installed from the leader: the snapshot replaces the whole log.
        newSnapshot = await this.writeSnapshot(plan.snapshot);
        ops.push({ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshotPointer(newSnapshot) });
        for (let i = this.snapshot.index + 1; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
        last = newSnapshot.index;
      }
      if (plan.entries.length > 0) {
        // Puts overwrite truncateFrom..plan.lastIndex; anything stored beyond that goes.
        for (let i = plan.lastIndex + 1; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
        for (const e of plan.entries)
          ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
      }
      if (batch.hardState)
        ops.push({ type: 'put', key: HARD_STATE_KEY, value: encodeHardState(batch.hardState) });
      await this.write(ops);
      const previous = this.snapshot;
      if (newSnapshot) this.snapshot = newSnapshot;
      this.lastIndex = plan.lastIndex;
      this.hasState = true;
      if (newSnapshot) await dropSnapshotFile(this.snapDir, previous, newSnapshot);
    });
  }

  /**
   * The snapshot file is written beside the queue, so log saves go on while it is written
   * and synced; only the switch (pointer + compaction, one atomic synced batch) is queued.
   * Until that batch lands the log still holds every entry, and a file no pointer names is
   * removed on the next open.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`storage in ${this.dir} is closed`));
    return this.queue.track(this.storeSnapshot(snapshot));
  }

  private async storeSnapshot(snapshot: Snapshot): Promise<void> {
    const { index } = snapshot.meta;
    this.queue.throwIfFailed();
    if (index <= this.snapshot.index) return;
    const pointer = await this.writeSnapshot(snapshot);
    return this.queue.enqueue(async () => {
      if (index <= this.snapshot.index) {
        // A newer snapshot (installed from the leader) switched in first: this file is unused.
        await removeFiles(this.snapDir, [snapshotFileName(pointer.term, pointer.index)]);
        return;
      }
      const ops: BatchOp[] = [{ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshotPointer(pointer) }];
      const compactTo = Math.min(index, this.lastIndex);
      for (let i = this.snapshot.index + 1; i <= compactTo; i++) ops.push({ type: 'del', key: entryKey(i) });
      await this.write(ops);
      const previous = this.snapshot;
      this.snapshot = pointer;
      if (this.lastIndex < index) this.lastIndex = index;
      this.hasState = true;
      await dropSnapshotFile(this.snapDir, previous, pointer);
      this.options.logger?.info(
        { dir: this.dir, index, term: pointer.term, compacted: compactTo - previous.index },
        'snapshot stored, log compacted',
      );
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    // Snapshot saves enqueue their switch only after their file is written: settled() waits for them.
    return this.queue.settled().then(() => this.db.close());
  }

  /** Runs storage operations one at a time; after a failed write, every later one fails too. */
  private run<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`storage in ${this.dir} is closed`));
    return this.queue.enqueue(op);
  }

  private async write(ops: BatchOp[]): Promise<void> {
    const started = performance.now();
    // A chained batch: abstract-level's array form clones and re-validates every operation
    // in JavaScript, which cost about 4x the CPU for a typical Ready (docs/performance.md).
    const batch = this.db.batch();
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
    await batch.write({ sync: true });
    this.options.onFsync?.((performance.now() - started) / 1000, 'batch');
  }

  private async writeSnapshot(snapshot: Snapshot): Promise<SnapshotPointer> {
    const onFsync = this.options.onFsync;
    await writeSnapshotFile(this.snapDir, snapshot, onFsync ? (s, what) => onFsync(s, what) : undefined);
    return { index: snapshot.meta.index, term: snapshot.meta.term };
  }

  private decode<T>(buf: Buffer, decode: (b: Buffer) => T, what: string): T {
    try {
      return decode(buf);
    } catch (err) {
      if (err instanceof RecordError || err instanceof RangeError) this.corrupt(`${what}: ${err.message}`);
      throw err;
    }
  }

  private corrupt(problem: string): never {
    throw new StorageCorruptionError(this.dir, this.logDir, problem);
  }
}
