// Request validation with zod: strict objects (unknown fields refused), non-empty
// strings, integer grams, enums, URL-safe ids. A failure becomes a 400 problem listing
// every offending field. Status values are accepted case-insensitively, quotes tolerated.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FILAMENT_TYPES, JOB_STATUSES } from '../fsm/index.js';
import type { JobStatus } from '../fsm/index.js';
import { ApiError } from './problem.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;
const MAX_GRAMS = 1_000_000_000;

const id = z
  .string()
  .regex(
    ID_PATTERN,
    'must be 1-128 characters of letters, digits, ".", "_", "~" or "-", starting with a letter or digit',
  );
const text = (max: number): z.ZodString =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const grams = (min: number): z.ZodNumber =>
  z
    .number({ error: 'must be an integer number of grams' })
    .int('must be an integer number of grams')
    .min(min, min === 0 ? 'must not be negative' : 'must be greater than 0')
    .max(MAX_GRAMS, `must be at most ${MAX_GRAMS}`);

/**
 * The one definition of a lenient enum value: one of `values` in any letter case, with
 * surrounding blanks and one pair of matching quotes tolerated (`"running"` → `Running`).
 * The server matches with this pattern and the OpenAPI document publishes it, so the two
 * cannot disagree. Every `\s*` is followed by a character it cannot match, so a long run
 * of blanks costs linear time, never a backtracking blow-up.
 */
function lenientEnumPattern(values: readonly string[]): string {
  const letter = (ch: string): string => {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    if (lower === upper || lower.length !== 1 || upper.length !== 1)
      return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    return `[${upper}${lower}]`;
  };
  const value = `(${values.map((v) => [...v].map(letter).join('')).join('|')})`;
  return `^\\s*(?:"\\s*${value}\\s*"|'\\s*${value}\\s*'|${value})\\s*$`;
}

const lenientEnumRegexes = new WeakMap<readonly string[], RegExp>();

/** Case-insensitive enum match, surrounding quotes and blanks tolerated: `"running"` → `Running`. */
export function matchEnum<T extends string>(values: readonly T[], raw: string): T | null {
  let regex = lenientEnumRegexes.get(values);
  if (regex === undefined) lenientEnumRegexes.set(values, (regex = new RegExp(lenientEnumPattern(values))));
  const match = regex.exec(raw);
  const word = (match?.[1] ?? match?.[2] ?? match?.[3])?.toLowerCase();
  return word === undefined ? null : (values.find((v) => v.toLowerCase() === word) ?? null);
}

/**
 * JSON Schema (OpenAPI 3.1) of a lenient enum: the values as an `enum`, or anything the
 * matching pattern accepts, which is exactly what matchEnum accepts.
 */
export function lenientEnumSchema(
  values: readonly string[],
  description: string,
): { type: 'string'; description: string; anyOf: [{ enum: string[] }, { pattern: string }] } {
  return {
    type: 'string',
    description: `${description}; case-insensitive, surrounding blanks and one pair of quotes tolerated`,
    anyOf: [{ enum: [...values] }, { pattern: lenientEnumPattern(values) }],
  };
}

/** The only status a print job may be created with. */
export const CREATE_STATUSES = ['Queued'] as const satisfies readonly JobStatus[];
/** The statuses `POST /api/v1/print_jobs/{id}/status` takes (a job never moves back to Queued). */
export const TARGET_STATUSES = ['Running', 'Done', 'Canceled'] as const satisfies readonly JobStatus[];

const filamentType = z
  .string()
  .transform((value, ctx) => {
    const matched = matchEnum(FILAMENT_TYPES, value);
    if (matched === null) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${FILAMENT_TYPES.join(', ')}` });
      return z.NEVER;
    }
    return matched;
  })
  .meta(lenientEnumSchema(FILAMENT_TYPES, `${FILAMENT_TYPES.join(', ')}; stored in this spelling`));

export const printerInput = z.strictObject({
  id: id.optional(),
  company: text(200),
  model: text(200),
});
export type PrinterInput = z.output<typeof printerInput>;

export const filamentInput = z
  .strictObject({
    id: id.optional(),
    type: filamentType,
    color: text(100),
    total_weight_in_grams: grams(1),
    remaining_weight_in_grams: grams(0).optional(),
  })
  .refine(
    (f) =>
      f.remaining_weight_in_grams === undefined || f.remaining_weight_in_grams <= f.total_weight_in_grams,
    {
      message: 'must not exceed total_weight_in_grams',
      path: ['remaining_weight_in_grams'],
    },
  );
export type FilamentInput = z.output<typeof filamentInput>;

export const printJobInput = z.strictObject({
  id: id.optional(),
  printer_id: id,
  filament_id: id,
  filepath: text(1024),
  print_weight_in_grams: grams(1),
  /** Only `Queued` (any case) is accepted: a job always starts queued (checked by the route: 400 status_not_allowed). */
  status: z
    .string()
    .meta(lenientEnumSchema(CREATE_STATUSES, 'Optional; a job always starts Queued, so only Queued'))
    .optional(),
});
export type PrintJobInput = z.output<typeof printJobInput>;

export const transferInput = z.strictObject({ to: id.optional() });

const MEMBER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}(~[0-9a-z]{6})?$/;

/** A member asking to be admitted (POST /cluster/join): its id and where the others reach it. */
export const joinInput = z.strictObject({
  id: z.string().regex(MEMBER_ID, 'must be a member id, optionally with an incarnation suffix ~xxxxxx'),
  peer: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s/]+):\d{1,5}$/, 'must be host:port'),
  api: z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be a base URL like http://host:port'),
});

function describeIssues(error: z.ZodError): { detail: string; errors: { field: string; message: string }[] } {
  const errors = error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(body)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    return { field, message };
  });
  return { detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors };
}

/** Parses `body` with `schema` or throws a 400 ApiError naming every bad field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (body === undefined) throw new ApiError('invalid_request', 'a JSON object body is required');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('invalid_request', 'the body must be a JSON object');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const { detail, errors } = describeIssues(result.error);
  throw new ApiError('invalid_request', detail, { errors });
}

/** The status a client asked for in `?status=`; 400 when missing or not a known status. */
export function parseStatusParam(raw: unknown, name = 'status'): JobStatus {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new ApiError(
      'invalid_status',
      `query parameter "${name}" is required: one of ${JOB_STATUSES.join(', ')}`,
    );
  }
  const status = matchEnum(JOB_STATUSES, raw);
  if (status === null)
    throw new ApiError(
      'invalid_status',
      `unknown status ${JSON.stringify(raw)}: expected one of ${JOB_STATUSES.join(', ')}`,
    );
  return status;
}

/** A single optional string query parameter (repeated parameters are refused). */
export function queryString(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new ApiError('invalid_query', `query parameter "${name}" must be given once`);
  return value;
}

/** A non-negative integer query parameter within [min, max]. */
export function queryInt(
  query: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = queryString(query, name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,15}$/.test(raw))
    throw new ApiError('invalid_query', `query parameter "${name}" must be a non-negative integer`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new ApiError('invalid_query', `query parameter "${name}" must be between ${min} and ${max}`);
  return n;
}

export function parseId(raw: unknown, what: string): string {
  if (typeof raw !== 'string' || !ID_PATTERN.test(raw))
    throw new ApiError('not_found', `no ${what} with that id`);
  return raw;
}

/** JSON with object keys sorted: the same request always gives the same bytes. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 over method, path and the canonical validated input: what an Idempotency-Key promises not to change. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body ?? null)}`)
    .digest('hex');
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, if any; 400 when malformed. */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !IDEMPOTENCY_KEY.test(value)) {
    throw new ApiError('invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters');
  }
  return value;
}
