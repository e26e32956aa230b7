// The write-ahead log's byte format and its replay (segment-storage.ts writes it).
//
// A segment is a preallocated file of zeros that frames are written into, one frame per
// durable write:
//   frame:  payload length u32 | crc32 of the payload u32 | payload     (little-endian)
//   payload: records, each  tag u8 | length u32 | record (record-codec.ts, itself checksummed)
//   tags:   'e' entry, 'h' hard state,
//           'c' snapshot pointer that compacts the log (entries after it stay),
//           'r' snapshot pointer of a snapshot installed from the leader (it replaces the log).
// An entry record at an index the log already holds truncates the log there first. A frame
// header of eight zero bytes is where the written part of a segment ends.

import type { Entry, HardState } from '../raft/index.js';
import { crc32 } from './crc32.js';
import {
  RecordError,
  decodeEntry,
  decodeHardState,
  decodeSnapshotPointer,
  encodeEntry,
  encodeHardState,
  encodeSnapshotPointer,
} from './record-codec.js';
import type { SnapshotPointer } from './record-codec.js';

const FRAME_HEADER = 8;
const RECORD_HEADER = 5;
const TAG_ENTRY = 0x65; // 'e'
const TAG_HARD_STATE = 0x68; // 'h'
const TAG_COMPACT = 0x63; // 'c'
const TAG_REPLACE = 0x72; // 'r'

/** What one frame records, in this order. */
export interface FrameContent {
  /** 'replace': a snapshot installed from the leader; 'compact': a local snapshot switched in. */
  readonly pointer?: { readonly kind: 'replace' | 'compact'; readonly at: SnapshotPointer };
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
}

/** One frame, ready to be written at a segment's write offset. */
export function encodeFrame(content: FrameContent): Buffer {
  const records: [number, Buffer][] = [];
  if (content.pointer)
    records.push([
      content.pointer.kind === 'replace' ? TAG_REPLACE : TAG_COMPACT,
      encodeSnapshotPointer(content.pointer.at),
    ]);
  for (const e of content.entries) records.push([TAG_ENTRY, encodeEntry(e)]);
  if (content.hardState) records.push([TAG_HARD_STATE, encodeHardState(content.hardState)]);
  let size = FRAME_HEADER;
  for (const [, r] of records) size += RECORD_HEADER + r.length;
  const frame = Buffer.allocUnsafe(size);
  let at = FRAME_HEADER;
  for (const [tag, r] of records) {
    frame[at] = tag;
    frame.writeUInt32LE(r.length, at + 1);
    r.copy(frame, at + RECORD_HEADER);
    at += RECORD_HEADER + r.length;
  }
  frame.writeUInt32LE(size - FRAME_HEADER, 0);
  frame.writeUInt32LE(crc32(frame, FRAME_HEADER, size), 4);
  return frame;
}

/** Where reading a segment stopped, and why. */
export type SegmentEnd =
  | { readonly kind: 'clean'; readonly offset: number }
  /** A frame that does not check out, followed by nothing but zeros: a write torn by a crash. */
  | { readonly kind: 'torn'; readonly offset: number; readonly length: number; readonly problem: string }
  /** A frame that does not check out, with written bytes after it: damage, not a crash. */
  | { readonly kind: 'damaged'; readonly offset: number; readonly problem: string };

/**
 * Calls `onFrame` with each frame's payload, in order, and says where the frames end. The
 * bytes are not copied: `onFrame` decodes what it keeps.
 */
export function readFrames(bytes: Buffer, onFrame: (payload: Buffer, offset: number) => void): SegmentEnd {
  let at = 0;
  while (at + FRAME_HEADER <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    const sum = bytes.readUInt32LE(at + 4);
    if (length === 0 && sum === 0) return { kind: 'clean', offset: at };
    const end = at + FRAME_HEADER + length;
    const problem =
      length === 0 || end > bytes.length
        ? `frame at byte ${at} says it is ${length} bytes long, which does not fit the segment`
        : crc32(bytes, at + FRAME_HEADER, end) !== sum
          ? `frame at byte ${at} (${length} bytes): checksum mismatch`
          : null;
    if (problem !== null) {
      const torn = allZero(bytes, Math.min(end, bytes.length));
      return torn
        ? { kind: 'torn', offset: at, length: Math.min(end, bytes.length) - at, problem }
        : { kind: 'damaged', offset: at, problem };
    }
    onFrame(bytes.subarray(at + FRAME_HEADER, end), at);
    at = end;
  }
  return { kind: 'clean', offset: at };
}

function allZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** A frame whose records do not decode although its checksum matched. */
export class FrameError extends Error {}

/**
 * The log as the frames replayed so far leave it. Replay may pass through states with a hole
 * below the first entry (the segments that held those entries were deleted once a snapshot
 * covered them); `finish` checks that a snapshot covers every hole in the end.
 */
export class Replay {
  snapshot: SnapshotPointer = { index: 0, term: 0 };
  hardState: HardState | null = null;
  /** Entries after `snapshot` (or after `holeBelow`), contiguous. */
  entries: Entry[] = [];
  /** The highest index below the first entry that no snapshot covered when it was written. */
  holeBelow = 0;
  /** Whether any record was replayed. */
  hasRecords = false;

  lastIndex(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.index : Math.max(this.snapshot.index, this.holeBelow);
  }

  /** Applies one frame's records; returns the highest entry index it wrote (0: none). */
  apply(payload: Buffer): number {
    let at = 0;
    let highest = 0;
    while (at < payload.length) {
      if (at + RECORD_HEADER > payload.length) throw new FrameError(`record header cut off at byte ${at}`);
      const tag = payload[at];
      const length = payload.readUInt32LE(at + 1);
      const record = payload.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length);
      if (record.length !== length) throw new FrameError(`record at byte ${at} runs past its frame`);
      at += RECORD_HEADER + length;
      this.hasRecords = true;
      try {
        if (tag === TAG_ENTRY) {
          const e = decodeEntry(record);
          this.entry(e);
          highest = Math.max(highest, e.index);
        } else if (tag === TAG_HARD_STATE) this.hardState = decodeHardState(record);
        else if (tag === TAG_COMPACT || tag === TAG_REPLACE) this.pointer(decodeSnapshotPointer(record), tag);
        else throw new FrameError(`unknown record tag ${String(tag)}`);
      } catch (err) {
        if (err instanceof RecordError || err instanceof RangeError) throw new FrameError(err.message);
        throw err;
      }
    }
    return highest;
  }

  private entry(e: Entry): void {
    if (e.index <= this.snapshot.index) return; // below a snapshot switched in after it was written
    const first = this.entries[0];
    const last = this.lastIndex();
    if (e.index <= last && first && e.index >= first.index) {
      this.entries.length = e.index - first.index;
    } else if (e.index !== last + 1) {
      // Only a deleted segment can have held the entries in between; a later snapshot must cover them.
      this.holeBelow = e.index - 1;
      this.entries = [];
    }
    const prev = this.entries[this.entries.length - 1];
    if (prev && e.term < prev.term)
      throw new FrameError(`log entry ${e.index} has term ${e.term}, lower than the ${prev.term} before it`);
    this.entries.push(e);
  }

  private pointer(p: SnapshotPointer, tag: number): void {
    this.snapshot = p;
    if (this.holeBelow <= p.index) this.holeBelow = 0;
    if (tag === TAG_REPLACE) {
      this.entries = [];
      return;
    }
    const first = this.entries[0];
    if (first && first.index <= p.index) this.entries = this.entries.slice(p.index + 1 - first.index);
  }

  /** The problem with the replayed log, or null when it is whole. */
  problem(): string | null {
    const first = this.entries[0];
    if (this.holeBelow > this.snapshot.index)
      return `log has a hole: entries ${this.snapshot.index + 1}..${this.holeBelow} are missing (a segment was lost?)`;
    if (first && first.index !== this.snapshot.index + 1)
      return `log has a hole: entry ${first.index} follows the snapshot at ${this.snapshot.index}`;
    if (this.hardState && this.hardState.commit > this.lastIndex())
      return `hard state commit index ${this.hardState.commit} is past the end of the log (${this.lastIndex()}): acknowledged writes were lost`;
    return null;
  }
}
