// Snapshot files: `<dir>/snapshots/snap-<term>-<index>.bin`, written atomically
// (temp file, fsync, rename, fsync directory). Layout:
//   magic "R3DSNAP\0" | version u8 | index u64 | term u64 | meta len u32 | data len u64
//   | meta (UTF-8 JSON: config, configContext) | header crc32 | data | data crc32

import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ConfState, Snapshot, SnapshotMeta } from '../raft/index.js';
import { crc32 } from './crc32.js';
import { StorageCorruptionError } from './errors.js';
import { RecordError, readU64, writeU64 } from './record-codec.js';
import type { SnapshotPointer } from './record-codec.js';

const MAGIC = Buffer.from('R3DSNAP\0', 'latin1');
const VERSION = 1;
const FIXED = 8 + 1 + 8 + 8 + 4 + 8;
const NAME = /^snap-(\d+)-(\d+)\.bin$/;

export function snapshotFileName(term: number, index: number): string {
  return `snap-${String(term).padStart(20, '0')}-${String(index).padStart(20, '0')}.bin`;
}

export interface SnapshotFileInfo {
  readonly name: string;
  readonly term: number;
  readonly index: number;
}

/** Snapshot files in `dir` (temp files excluded), lowest index first. */
export async function listSnapshotFiles(dir: string): Promise<SnapshotFileInfo[]> {
  const names = await readdir(dir);
  const out: SnapshotFileInfo[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (m) out.push({ name, term: Number(m[1]), index: Number(m[2]) });
  }
  return out.sort((a, b) => a.index - b.index || a.term - b.term);
}

/** Temp files left by a crash in the middle of a write. */
export async function listTempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
}

function encodeHeader(meta: SnapshotMeta, dataLength: number): Buffer {
  const metaJson = Buffer.from(
    JSON.stringify({ config: meta.config, configContext: meta.configContext }),
    'utf8',
  );
  const header = Buffer.allocUnsafe(FIXED + metaJson.length + 4);
  MAGIC.copy(header, 0);
  header[8] = VERSION;
  writeU64(header, meta.index, 9);
  writeU64(header, meta.term, 17);
  header.writeUInt32BE(metaJson.length, 25);
  writeU64(header, dataLength, 29);
  metaJson.copy(header, FIXED);
  header.writeUInt32BE(crc32(header, 0, FIXED + metaJson.length), FIXED + metaJson.length);
  return header;
}

export interface FsyncReporter {
  (seconds: number, what: 'snapshot-file' | 'directory'): void;
}

/** fsyncs a directory so a rename or unlink in it is durable. */
async function syncDirectory(dir: string, report?: FsyncReporter): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    const started = performance.now();
    await handle.sync();
    report?.((performance.now() - started) / 1000, 'directory');
  } finally {
    await handle.close();
  }
}

/** Writes the snapshot atomically; when this resolves the file is durable under its final name. */
export async function writeSnapshotFile(
  dir: string,
  snapshot: Snapshot,
  report?: FsyncReporter,
): Promise<string> {
  const name = snapshotFileName(snapshot.meta.term, snapshot.meta.index);
  const tmp = path.join(dir, `${name}.tmp`);
  const header = encodeHeader(snapshot.meta, snapshot.data.byteLength);
  const trailer = Buffer.allocUnsafe(4);
  trailer.writeUInt32BE(crc32(snapshot.data), 0);
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writev([header, snapshot.data, trailer]);
    const started = performance.now();
    await handle.sync();
    report?.((performance.now() - started) / 1000, 'snapshot-file');
  } finally {
    await handle.close();
  }
  await rename(tmp, path.join(dir, name));
  await syncDirectory(dir, report);
  return name;
}

/** Reads and fully verifies a snapshot file; throws RecordError saying what is wrong. */
export async function readSnapshotFile(file: string): Promise<Snapshot> {
  const buf = await readFile(file);
  if (buf.length < FIXED + 4)
    throw new RecordError(`file is ${buf.length} bytes, shorter than a snapshot header (torn write?)`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new RecordError('not a Raft3D snapshot file (bad magic)');
  if (buf[8] !== VERSION) throw new RecordError(`unknown snapshot format version ${String(buf[8])}`);
  const metaLen = buf.readUInt32BE(25);
  const headerEnd = FIXED + metaLen;
  if (headerEnd + 4 > buf.length) throw new RecordError('header runs past the end of the file (torn write?)');
  const storedHeaderCrc = buf.readUInt32BE(headerEnd);
  if (storedHeaderCrc !== crc32(buf, 0, headerEnd)) throw new RecordError('header checksum mismatch');
  const index = readU64(buf, 9);
  const term = readU64(buf, 17);
  const dataLen = readU64(buf, 29);
  const dataStart = headerEnd + 4;
  if (dataStart + dataLen + 4 !== buf.length) {
    throw new RecordError(
      `file is ${buf.length} bytes but its header promises ${dataStart + dataLen + 4} (torn write?)`,
    );
  }
  const storedDataCrc = buf.readUInt32BE(dataStart + dataLen);
  if (storedDataCrc !== crc32(buf, dataStart, dataStart + dataLen))
    throw new RecordError('data checksum mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8', FIXED, headerEnd));
  } catch {
    throw new RecordError('snapshot metadata is not JSON');
  }
  const { config, configContext } = parsed as { config: ConfState; configContext: Record<string, string> };
  if (
    !config ||
    !Array.isArray(config.voters) ||
    !Array.isArray(config.learners) ||
    typeof configContext !== 'object' ||
    configContext === null
  ) {
    throw new RecordError('snapshot metadata lacks config/configContext');
  }
  return {
    meta: { index, term, config: { voters: config.voters, learners: config.learners }, configContext },
    data: new Uint8Array(buf.buffer, buf.byteOffset + dataStart, dataLen),
  };
}

/** Removes files by name; a file already gone is fine. */
export async function removeFiles(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await unlink(path.join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** The part of a pino logger storage uses. */
export interface StorageLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * Reads the snapshot file a log points at; throws StorageCorruptionError (naming the file)
 * when it is missing, unreadable, damaged or not the snapshot the pointer names.
 */
export async function readPointedSnapshot(
  dataDir: string,
  snapDir: string,
  pointer: SnapshotPointer,
): Promise<Snapshot> {
  const file = path.join(snapDir, snapshotFileName(pointer.term, pointer.index));
  let snapshot: Snapshot;
  try {
    snapshot = await readSnapshotFile(file);
  } catch (err) {
    const problem =
      err instanceof RecordError
        ? err.message
        : (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'the snapshot file the log points at is missing'
          : `cannot read it: ${(err as Error).message}`;
    throw new StorageCorruptionError(dataDir, file, problem);
  }
  if (snapshot.meta.index !== pointer.index || snapshot.meta.term !== pointer.term) {
    throw new StorageCorruptionError(
      dataDir,
      file,
      `header says index ${snapshot.meta.index} term ${snapshot.meta.term}, its name and the log say index ${pointer.index} term ${pointer.term}`,
    );
  }
  return snapshot;
}

/** Removes the previous snapshot file once the log points at its successor. */
export async function dropSnapshotFile(
  snapDir: string,
  previous: SnapshotPointer,
  current: SnapshotPointer,
): Promise<void> {
  if (previous.index === 0 && previous.term === 0) return;
  const old = snapshotFileName(previous.term, previous.index);
  if (old !== snapshotFileName(current.term, current.index)) await removeFiles(snapDir, [old]);
}

/** Temp files and snapshots the log does not point at (a crash mid-write leaves them). */
export async function removeStaleSnapshotFiles(
  snapDir: string,
  pointer: SnapshotPointer,
  logger: StorageLogger | undefined,
): Promise<void> {
  const current = pointer.index === 0 ? null : snapshotFileName(pointer.term, pointer.index);
  const stale = [
    ...(await listSnapshotFiles(snapDir)).map((f) => f.name).filter((n) => n !== current),
    ...(await listTempFiles(snapDir)),
  ];
  if (stale.length === 0) return;
  logger?.info({ dir: snapDir, files: stale }, 'removing snapshot files the log does not use');
  await removeFiles(snapDir, stale);
}
