// Snapshot bytes: a one-line header naming the format and its version, then the body.
// Version 1's body is JSON with a fixed field order and objects in creation order, so
// equal states always give equal bytes (callers hash them to compare replicas).
// `decodeSnapshot` dispatches on the version: a later format must keep reading v1.

import type { IdempotencyEntry } from './idempotency.js';
import type { FilamentRecord, JobRecord, PrinterRecord } from './records.js';
import { isValidTimestamp } from './time.js';
import { FILAMENT_TYPES, JOB_STATUSES } from './types.js';
import type { FilamentType, JobStatus, ShopValue } from './types.js';

const SNAPSHOT_MAGIC = 'raft3d-print-shop';
export const SNAPSHOT_VERSION = 1;
const HEADER = new RegExp(`^${SNAPSHOT_MAGIC}/v(\\d{1,6})$`);

/** Everything the state machine keeps. `reserved` on filaments is derived, not stored. */
export interface ShopData {
  readonly printers: readonly PrinterRecord[];
  readonly filaments: readonly FilamentRecord[];
  readonly jobs: readonly JobRecord[];
  readonly idempotency: readonly IdempotencyEntry[];
}

export class SnapshotFormatError extends Error {
  readonly code = 'invalid_snapshot';
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFormatError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Records encoded between two yields of encodeSnapshotSlices. */
const SLICE_RECORDS = 2_000;

interface Output {
  readonly chunks: Uint8Array[];
  text: string;
}

/** One `"name":[...]` member of the body, yielding after every SLICE_RECORDS records. */
function* section<T>(
  out: Output,
  name: string,
  items: readonly T[],
  json: (item: T) => object,
): Generator<void, void, void> {
  out.text += `"${name}":[`;
  for (let from = 0; from < items.length; from += SLICE_RECORDS) {
    // One stringify per slice (about 1.6x faster than one per record); drop its brackets.
    const slice = JSON.stringify(items.slice(from, from + SLICE_RECORDS).map(json));
    out.chunks.push(encoder.encode(`${out.text}${from > 0 ? ',' : ''}${slice.slice(1, -1)}`));
    out.text = '';
    if (from + SLICE_RECORDS < items.length) yield;
  }
  out.text += ']';
}

/**
 * The snapshot bytes of `data`, encoded a slice at a time: each `next()` encodes up to
 * SLICE_RECORDS records and the last one returns the bytes, so a caller can spread a large
 * snapshot over several turns of the event loop. `data` must not change meanwhile (records
 * are immutable; the arrays are the caller's). The bytes are exactly JSON.stringify of the
 * v1 body, so equal states still give equal bytes.
 */
export function* encodeSnapshotSlices(data: ShopData): Generator<void, Uint8Array, void> {
  const out: Output = { chunks: [], text: `${SNAPSHOT_MAGIC}/v${SNAPSHOT_VERSION}\n{` };
  yield* section(out, 'printers', data.printers, (p) => ({
    id: p.id,
    company: p.company,
    model: p.model,
    created_at: p.createdAt,
  }));
  out.text += ',';
  yield* section(out, 'filaments', data.filaments, (f) => ({
    id: f.id,
    type: f.type,
    color: f.color,
    total_weight_in_grams: f.total,
    remaining_weight_in_grams: f.remaining,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
  }));
  out.text += ',';
  yield* section(out, 'print_jobs', data.jobs, (j) => ({
    id: j.id,
    printer_id: j.printerId,
    filament_id: j.filamentId,
    filepath: j.filepath,
    print_weight_in_grams: j.weight,
    status: j.status,
    created_at: j.createdAt,
    updated_at: j.updatedAt,
  }));
  out.text += ',';
  yield* section(out, 'idempotency', data.idempotency, (e) => ({
    key: e.key,
    fingerprint: e.fingerprint,
    at: e.at,
    value: e.value,
  }));
  out.chunks.push(encoder.encode(`${out.text}}`));
  const bytes = new Uint8Array(out.chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of out.chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/** The snapshot bytes of `data`, all at once. */
export function encodeSnapshot(data: ShopData): Uint8Array {
  const slices = encodeSnapshotSlices(data);
  for (;;) {
    const step = slices.next();
    if (step.done) return step.value;
  }
}

export function decodeSnapshot(bytes: Uint8Array): ShopData {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new SnapshotFormatError('snapshot is not valid UTF-8');
  }
  const newline = text.indexOf('\n');
  const header = newline < 0 ? text.slice(0, 64) : text.slice(0, newline);
  const match = HEADER.exec(header);
  if (newline < 0 || match === null)
    throw new SnapshotFormatError(
      `not a print-shop snapshot (header ${JSON.stringify(header.slice(0, 64))})`,
    );
  const version = Number(match[1]);
  const body = text.slice(newline + 1);
  switch (version) {
    case 1:
      return decodeV1(body);
    default:
      throw new SnapshotFormatError(
        `unsupported print-shop snapshot version ${version} (this build reads up to v${SNAPSHOT_VERSION})`,
      );
  }
}

// --- version 1 -------------------------------------------------------------------------

type Fields = Record<string, unknown>;

function record(value: unknown, where: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SnapshotFormatError(`${where} must be an object`);
  return value as Fields;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new SnapshotFormatError(`${where} must be an array`);
  return value;
}

function str(o: Fields, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0)
    throw new SnapshotFormatError(`${where}.${key} must be a non-empty string`);
  return v;
}

function int(o: Fields, key: string, where: string, min: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new SnapshotFormatError(`${where}.${key} must be an integer >= ${min}`);
  return v;
}

function time(o: Fields, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !isValidTimestamp(v))
    throw new SnapshotFormatError(`${where}.${key} must be an epoch-ms timestamp`);
  return v;
}

function oneOf<T extends string>(o: Fields, key: string, values: readonly T[], where: string): T {
  const v = o[key];
  const found = values.find((x) => x === v);
  if (found === undefined)
    throw new SnapshotFormatError(`${where}.${key} must be one of ${values.join(', ')}`);
  return found;
}

function decodeV1(body: string): ShopData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SnapshotFormatError('snapshot v1 body is not JSON');
  }
  const root = record(parsed, 'snapshot');
  const printers = list(root['printers'], 'printers').map((raw, i): PrinterRecord => {
    const w = `printers[${i}]`;
    const o = record(raw, w);
    return {
      id: str(o, 'id', w),
      company: str(o, 'company', w),
      model: str(o, 'model', w),
      createdAt: time(o, 'created_at', w),
    };
  });
  const filaments = list(root['filaments'], 'filaments').map((raw, i): FilamentRecord => {
    const w = `filaments[${i}]`;
    const o = record(raw, w);
    const type: FilamentType = oneOf(o, 'type', FILAMENT_TYPES, w);
    return {
      id: str(o, 'id', w),
      type,
      color: str(o, 'color', w),
      total: int(o, 'total_weight_in_grams', w, 1),
      remaining: int(o, 'remaining_weight_in_grams', w, 0),
      reserved: 0,
      createdAt: time(o, 'created_at', w),
      updatedAt: time(o, 'updated_at', w),
    };
  });
  const jobs = list(root['print_jobs'], 'print_jobs').map((raw, i): JobRecord => {
    const w = `print_jobs[${i}]`;
    const o = record(raw, w);
    const status: JobStatus = oneOf(o, 'status', JOB_STATUSES, w);
    return {
      id: str(o, 'id', w),
      printerId: str(o, 'printer_id', w),
      filamentId: str(o, 'filament_id', w),
      filepath: str(o, 'filepath', w),
      weight: int(o, 'print_weight_in_grams', w, 1),
      status,
      createdAt: time(o, 'created_at', w),
      updatedAt: time(o, 'updated_at', w),
    };
  });
  const idempotency = list(root['idempotency'], 'idempotency').map((raw, i): IdempotencyEntry => {
    const w = `idempotency[${i}]`;
    const o = record(raw, w);
    // The stored value is a view this state machine produced; kept as is, byte for byte.
    const value = record(o['value'], `${w}.value`) as unknown as ShopValue;
    return { key: str(o, 'key', w), fingerprint: str(o, 'fingerprint', w), at: time(o, 'at', w), value };
  });
  return { printers, filaments, jobs, idempotency };
}
