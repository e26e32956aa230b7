// Binary wire format for peer messages. A batch is
//   version u8 | count u32 | message*
// and a message is  type u8 | from str | to str | term f64 | type-specific fields,
// where numbers are f64 big-endian (exact for every safe integer, and -1 works),
// strings are u32 length + UTF-8, byte arrays u32 length + raw bytes (never JSON).
// A streamed snapshot is  u32 header length | header (the snapshot message with its data
// length instead of its data) | data bytes.

import type { ConfChange, Entry, InstallSnapshot, Message, SnapshotMeta } from '../raft/index.js';

const WIRE_VERSION = 1;

const MESSAGE_TYPES = [
  'vote-request',
  'vote-response',
  'append',
  'append-response',
  'heartbeat',
  'heartbeat-response',
  'snapshot',
  'timeout-now',
  'read-index',
  'read-index-response',
] as const satisfies readonly Message['type'][];
const TYPE_CODE = new Map<Message['type'], number>(MESSAGE_TYPES.map((t, i) => [t, i + 1]));
const ENTRY_COMMAND = 1;
const ENTRY_NOOP = 2;
const ENTRY_CONFIG = 3;
const CHANGE_KINDS = ['add-learner', 'promote', 'remove'] as const satisfies readonly ConfChange['kind'][];

export class DecodeError extends Error {}

/** A growable output buffer, reused across batches so encoding allocates almost nothing. */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.pos;
  }

  reset(): void {
    this.pos = 0;
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  /** Overwrites a u32 written earlier (a length or count known only later). */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at);
  }

  num(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  str(s: string): void {
    this.ensure(4 + s.length * 3);
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4 + n;
  }

  bytes(b: Uint8Array): void {
    this.ensure(4 + b.byteLength);
    this.buf.writeUInt32BE(b.byteLength, this.pos);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.byteLength;
  }
}

class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos === this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length)
      throw new DecodeError(`truncated message: need ${n} bytes at offset ${this.pos} of ${this.buf.length}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  num(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    return this.u8() !== 0;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /**
   * A view into the input, not a copy: decodeBatch's caller hands over a buffer it owns
   * (one allocation per request), and entries keep only that alive.
   */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return out;
  }
}

function writeEntry(w: Writer, e: Entry): void {
  switch (e.type) {
    case 'command':
      w.u8(ENTRY_COMMAND);
      w.num(e.index);
      w.num(e.term);
      w.bytes(e.data);
      return;
    case 'noop':
      w.u8(ENTRY_NOOP);
      w.num(e.index);
      w.num(e.term);
      return;
    case 'config':
      w.u8(ENTRY_CONFIG);
      w.num(e.index);
      w.num(e.term);
      w.u8(CHANGE_KINDS.indexOf(e.change.kind));
      w.str(e.change.node);
      w.bool(e.change.context !== undefined);
      if (e.change.context !== undefined) w.str(e.change.context);
      return;
  }
}

function readEntry(r: Reader): Entry {
  const type = r.u8();
  const index = r.num();
  const term = r.num();
  switch (type) {
    case ENTRY_COMMAND:
      return { index, term, type: 'command', data: r.bytes() };
    case ENTRY_NOOP:
      return { index, term, type: 'noop' };
    case ENTRY_CONFIG: {
      const kind = CHANGE_KINDS[r.u8()];
      if (!kind) throw new DecodeError('unknown membership change kind');
      const node = r.str();
      const change: ConfChange = r.bool() ? { kind, node, context: r.str() } : { kind, node };
      return { index, term, type: 'config', change };
    }
    default:
      throw new DecodeError(`unknown entry type ${type}`);
  }
}

function writeStrings(w: Writer, list: readonly string[]): void {
  w.u32(list.length);
  for (const s of list) w.str(s);
}

function readStrings(r: Reader): string[] {
  const n = r.u32();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.str());
  return out;
}

function writeMeta(w: Writer, meta: SnapshotMeta): void {
  w.num(meta.index);
  w.num(meta.term);
  writeStrings(w, meta.config.voters);
  writeStrings(w, meta.config.learners);
  const ctx = Object.entries(meta.configContext);
  w.u32(ctx.length);
  for (const [k, v] of ctx) {
    w.str(k);
    w.str(v);
  }
}

function readMeta(r: Reader): SnapshotMeta {
  const index = r.num();
  const term = r.num();
  const voters = readStrings(r);
  const learners = readStrings(r);
  const n = r.u32();
  const configContext: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const k = r.str();
    configContext[k] = r.str();
  }
  return { index, term, config: { voters, learners }, configContext };
}

/** Appends one message. Snapshot data is written inline here; the streaming route uses encodeSnapshotHeader. */
export function writeMessage(w: Writer, m: Message): void {
  w.u8(TYPE_CODE.get(m.type) as number);
  w.str(m.from);
  w.str(m.to);
  w.num(m.term);
  switch (m.type) {
    case 'vote-request':
      w.bool(m.preVote);
      w.num(m.lastLogIndex);
      w.num(m.lastLogTerm);
      w.bool(m.transfer);
      return;
    case 'vote-response':
      w.bool(m.preVote);
      w.bool(m.granted);
      return;
    case 'append':
      w.num(m.prevIndex);
      w.num(m.prevTerm);
      w.num(m.commit);
      w.u32(m.entries.length);
      for (const e of m.entries) writeEntry(w, e);
      return;
    case 'append-response':
      w.bool(m.success);
      w.num(m.index);
      w.bool(m.rejectHint !== undefined);
      if (m.rejectHint) {
        w.num(m.rejectHint.conflictTerm);
        w.num(m.rejectHint.hintIndex);
      }
      return;
    case 'heartbeat':
      w.num(m.commit);
      w.str(m.context);
      return;
    case 'heartbeat-response':
    case 'read-index':
      w.str(m.context);
      return;
    case 'snapshot':
      writeMeta(w, m.snapshot.meta);
      w.bytes(m.snapshot.data);
      return;
    case 'timeout-now':
      return;
    case 'read-index-response':
      w.str(m.context);
      w.num(m.index);
      return;
  }
}

function readMessage(r: Reader): Message {
  const code = r.u8();
  const type = MESSAGE_TYPES[code - 1];
  if (!type) throw new DecodeError(`unknown message type ${code}`);
  const from = r.str();
  const to = r.str();
  const term = r.num();
  switch (type) {
    case 'vote-request':
      return {
        type,
        from,
        to,
        term,
        preVote: r.bool(),
        lastLogIndex: r.num(),
        lastLogTerm: r.num(),
        transfer: r.bool(),
      };
    case 'vote-response':
      return { type, from, to, term, preVote: r.bool(), granted: r.bool() };
    case 'append': {
      const prevIndex = r.num();
      const prevTerm = r.num();
      const commit = r.num();
      const n = r.u32();
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) entries.push(readEntry(r));
      return { type, from, to, term, prevIndex, prevTerm, commit, entries };
    }
    case 'append-response': {
      const success = r.bool();
      const index = r.num();
      if (!r.bool()) return { type, from, to, term, success, index };
      return {
        type,
        from,
        to,
        term,
        success,
        index,
        rejectHint: { conflictTerm: r.num(), hintIndex: r.num() },
      };
    }
    case 'heartbeat':
      return { type, from, to, term, commit: r.num(), context: r.str() };
    case 'heartbeat-response':
      return { type, from, to, term, context: r.str() };
    case 'snapshot':
      return { type, from, to, term, snapshot: { meta: readMeta(r), data: r.bytes() } };
    case 'timeout-now':
      return { type, from, to, term };
    case 'read-index':
      return { type, from, to, term, context: r.str() };
    case 'read-index-response':
      return { type, from, to, term, context: r.str(), index: r.num() };
  }
}

/** Starts a batch in `w`; returns the offset of the count, to patch with endBatch. */
export function beginBatch(w: Writer): number {
  w.reset();
  w.u8(WIRE_VERSION);
  const at = w.length;
  w.u32(0);
  return at;
}

export function endBatch(w: Writer, countAt: number, count: number): Buffer {
  w.patchU32(countAt, count);
  return w.view();
}

export function encodeBatch(messages: readonly Message[], w = new Writer()): Buffer {
  const at = beginBatch(w);
  for (const m of messages) writeMessage(w, m);
  return endBatch(w, at, messages.length);
}

/** Decodes a batch. Entry and snapshot data are views into `buf`: pass a buffer nobody else reuses. */
export function decodeBatch(buf: Buffer): Message[] {
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new DecodeError(`unsupported wire version ${version}`);
  const n = r.u32();
  const out: Message[] = [];
  for (let i = 0; i < n; i++) out.push(readMessage(r));
  if (!r.done) throw new DecodeError('trailing bytes after the last message');
  return out;
}

/** The head of a streamed snapshot: everything but the data, plus the data's length. */
export function encodeSnapshotHeader(m: InstallSnapshot): Buffer {
  const w = new Writer(1024);
  w.u32(0);
  w.u8(WIRE_VERSION);
  w.str(m.from);
  w.str(m.to);
  w.num(m.term);
  writeMeta(w, m.snapshot.meta);
  w.num(m.snapshot.data.byteLength);
  w.patchU32(0, w.length - 4);
  return Buffer.from(w.view());
}

export interface SnapshotHeader {
  readonly from: string;
  readonly to: string;
  readonly term: number;
  readonly meta: SnapshotMeta;
  readonly dataLength: number;
}

/** Decodes a header body (without its u32 length prefix). */
export function decodeSnapshotHeader(buf: Buffer): SnapshotHeader {
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new DecodeError(`unsupported wire version ${version}`);
  const from = r.str();
  const to = r.str();
  const term = r.num();
  const meta = readMeta(r);
  const dataLength = r.num();
  if (!r.done) throw new DecodeError('trailing bytes after the snapshot header');
  if (!Number.isSafeInteger(dataLength) || dataLength < 0)
    throw new DecodeError(`bad snapshot length ${dataLength}`);
  return { from, to, term, meta, dataLength };
}
