// Binary records stored by LevelStorage. Every record is
//   version u8 | kind u8 | fields... | crc32 u32 (big-endian, over all bytes before it)
// Numbers (index, term, commit) are u64 big-endian (safe integers only).
// Entry:      v | type | index u64 | term u64 | payload len u32 | payload | crc
//             payload: command = data bytes, noop = empty, config = UTF-8 JSON ConfChange
// Hard state: v | 'h' | term u64 | commit u64 | vote len u16 | vote UTF-8 | crc
// Snap meta:  v | 's' | index u64 | term u64 | crc   (which snapshot file is current)

import type { ConfChange, Entry, HardState } from '../raft/index.js';
import { crc32 } from './crc32.js';

const RECORD_VERSION = 1;
const TYPE_COMMAND = 1;
const TYPE_NOOP = 2;
const TYPE_CONFIG = 3;
const KIND_HARD_STATE = 0x68; // 'h'
const KIND_SNAP_META = 0x73; // 's'
const ENTRY_HEADER = 1 + 1 + 8 + 8 + 4;

/** A record failed to decode; `problem` says why (the caller adds where). */
export class RecordError extends Error {}

export function writeU64(buf: Buffer, value: number, offset: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64-safe integer: ${value}`);
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  const hi = buf.readUInt32BE(offset);
  if (hi > 0x1fffff) throw new RecordError(`u64 at ${offset} is not a safe integer`);
  return hi * 0x1_0000_0000 + buf.readUInt32BE(offset + 4);
}

function seal(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32(buf, 0, buf.length - 4), buf.length - 4);
  return buf;
}

function checkSeal(buf: Buffer, minLength: number): void {
  if (buf.length < minLength + 4)
    throw new RecordError(`record is ${buf.length} bytes, shorter than its header (torn write?)`);
  const stored = buf.readUInt32BE(buf.length - 4);
  const actual = crc32(buf, 0, buf.length - 4);
  if (stored !== actual)
    throw new RecordError(
      `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`,
    );
  if (buf[0] !== RECORD_VERSION) throw new RecordError(`unknown record version ${String(buf[0])}`);
}

/** Log keys: 'e' then the index as u64 big-endian, so keys sort by index. */
export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = 0x65;
  writeU64(key, index, 1);
  return key;
}

export function entryKeyIndex(key: Buffer): number {
  if (key.length !== 9 || key[0] !== 0x65) throw new RecordError(`malformed log key ${key.toString('hex')}`);
  return readU64(key, 1);
}

export function encodeEntry(e: Entry): Buffer {
  let payload: Uint8Array | null = null;
  let type: number;
  switch (e.type) {
    case 'command':
      payload = e.data;
      type = TYPE_COMMAND;
      break;
    case 'noop':
      type = TYPE_NOOP;
      break;
    case 'config':
      payload = Buffer.from(JSON.stringify(e.change), 'utf8');
      type = TYPE_CONFIG;
      break;
  }
  const len = payload ? payload.byteLength : 0;
  const buf = Buffer.allocUnsafe(ENTRY_HEADER + len + 4);
  buf[0] = RECORD_VERSION;
  buf[1] = type;
  writeU64(buf, e.index, 2);
  writeU64(buf, e.term, 10);
  buf.writeUInt32BE(len, 18);
  if (payload) buf.set(payload, ENTRY_HEADER);
  return seal(buf);
}

export function decodeEntry(buf: Buffer): Entry {
  checkSeal(buf, ENTRY_HEADER);
  const index = readU64(buf, 2);
  const term = readU64(buf, 10);
  const len = buf.readUInt32BE(18);
  if (ENTRY_HEADER + len + 4 !== buf.length)
    throw new RecordError(`payload length ${len} does not match record size ${buf.length}`);
  switch (buf[1]) {
    case TYPE_COMMAND:
      // A copy, so the entry does not pin LevelDB's buffer.
      return {
        index,
        term,
        type: 'command',
        data: new Uint8Array(buf.subarray(ENTRY_HEADER, ENTRY_HEADER + len)),
      };
    case TYPE_NOOP:
      if (len !== 0) throw new RecordError(`no-op entry with a ${len}-byte payload`);
      return { index, term, type: 'noop' };
    case TYPE_CONFIG:
      return {
        index,
        term,
        type: 'config',
        change: parseConfChange(buf.toString('utf8', ENTRY_HEADER, ENTRY_HEADER + len)),
      };
    default:
      throw new RecordError(`unknown entry type ${String(buf[1])}`);
  }
}

function parseConfChange(json: string): ConfChange {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new RecordError('config entry payload is not JSON');
  }
  if (typeof value !== 'object' || value === null)
    throw new RecordError('config entry payload is not an object');
  const { kind, node, context } = value as Record<string, unknown>;
  if ((kind !== 'add-learner' && kind !== 'promote' && kind !== 'remove') || typeof node !== 'string') {
    throw new RecordError('config entry payload is not a ConfChange');
  }
  if (context !== undefined && typeof context !== 'string')
    throw new RecordError('config entry context is not a string');
  return context === undefined ? { kind, node } : { kind, node, context };
}

export function encodeHardState(hs: HardState): Buffer {
  const vote = hs.vote === null ? null : Buffer.from(hs.vote, 'utf8');
  const voteLen = vote ? vote.length : 0;
  if (voteLen > 0xfffe) throw new RangeError('vote id too long');
  const buf = Buffer.allocUnsafe(2 + 16 + 2 + voteLen + 4);
  buf[0] = RECORD_VERSION;
  buf[1] = KIND_HARD_STATE;
  writeU64(buf, hs.term, 2);
  writeU64(buf, hs.commit, 10);
  // 0xffff marks "no vote", distinct from a vote for the empty id.
  buf.writeUInt16BE(vote ? voteLen : 0xffff, 18);
  if (vote) vote.copy(buf, 20);
  return seal(buf);
}

export function decodeHardState(buf: Buffer): HardState {
  checkSeal(buf, 20);
  if (buf[1] !== KIND_HARD_STATE) throw new RecordError('not a hard-state record');
  const term = readU64(buf, 2);
  const commit = readU64(buf, 10);
  const voteLen = buf.readUInt16BE(18);
  const size = voteLen === 0xffff ? 0 : voteLen;
  if (20 + size + 4 !== buf.length) throw new RecordError('hard-state record has the wrong size');
  return { term, commit, vote: voteLen === 0xffff ? null : buf.toString('utf8', 20, 20 + size) };
}

export interface SnapshotPointer {
  readonly index: number;
  readonly term: number;
}

export function encodeSnapshotPointer(p: SnapshotPointer): Buffer {
  const buf = Buffer.allocUnsafe(2 + 16 + 4);
  buf[0] = RECORD_VERSION;
  buf[1] = KIND_SNAP_META;
  writeU64(buf, p.index, 2);
  writeU64(buf, p.term, 10);
  return seal(buf);
}

export function decodeSnapshotPointer(buf: Buffer): SnapshotPointer {
  checkSeal(buf, 18);
  if (buf[1] !== KIND_SNAP_META || buf.length !== 22) throw new RecordError('not a snapshot-pointer record');
  return { index: readU64(buf, 2), term: readU64(buf, 10) };
}
