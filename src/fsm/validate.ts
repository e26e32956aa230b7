// Shape checks for commands, shared by the codec (decoding bytes from the log) and by
// `apply` (defensive re-validation, so a malformed command becomes an `invalid_command`
// result instead of corrupting state). Objects are strict: unknown fields are refused.

import { isValidTimestamp } from './time.js';
import { COMMAND_TYPES, FILAMENT_TYPES, JOB_STATUSES } from './types.js';

/** Longest string the state machine accepts in any field (the API is stricter). */
export const MAX_TEXT_LENGTH = 4096;

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownField(value: Fields, allowed: readonly string[], where: string): string | null {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) return `${where}: unknown field "${key}"`;
  return null;
}

function textProblem(value: unknown, where: string): string | null {
  if (typeof value !== 'string') return `${where} must be a string`;
  if (value.length === 0) return `${where} must not be empty`;
  if (value.length > MAX_TEXT_LENGTH) return `${where} must be at most ${MAX_TEXT_LENGTH} characters`;
  return null;
}

function gramsProblem(value: unknown, where: string, min: number): string | null {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${where} must be an integer`;
  if (value < min) return `${where} must be at least ${min}`;
  return null;
}

function enumProblem(value: unknown, values: readonly string[], where: string): string | null {
  if (typeof value !== 'string' || !values.includes(value))
    return `${where} must be one of ${values.join(', ')}`;
  return null;
}

function first(...problems: (string | null)[]): string | null {
  for (const p of problems) if (p !== null) return p;
  return null;
}

function objectProblem(
  value: unknown,
  where: string,
  check: (o: Fields) => string | null,
  allowed: readonly string[],
): string | null {
  if (!isRecord(value)) return `${where} must be an object`;
  return unknownField(value, allowed, where) ?? check(value);
}

function idempotencyProblem(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return objectProblem(
    value,
    'idempotency',
    (o) =>
      first(
        textProblem(o['key'], 'idempotency.key'),
        textProblem(o['fingerprint'], 'idempotency.fingerprint'),
      ),
    ['key', 'fingerprint'],
  );
}

const BASE_FIELDS = ['type', 'at', 'idempotency'];

/** Why `value` is not a well-formed `ShopCommand`, or null when it is. */
export function commandProblem(value: unknown): string | null {
  if (!isRecord(value)) return 'a command must be a JSON object';
  const type = value['type'];
  if (typeof type !== 'string' || !(COMMAND_TYPES as readonly string[]).includes(type)) {
    return `unknown command type ${JSON.stringify(type)}: expected one of ${COMMAND_TYPES.join(', ')}`;
  }
  const at = value['at'];
  if (typeof at !== 'number' || !isValidTimestamp(at))
    return 'at must be an integer epoch-milliseconds timestamp between 1970 and 9999';
  const idem = idempotencyProblem(value['idempotency']);
  if (idem !== null) return idem;
  switch (type) {
    case 'printer.create':
      return (
        unknownField(value, [...BASE_FIELDS, 'printer'], type) ??
        objectProblem(
          value['printer'],
          'printer',
          (p) =>
            first(
              textProblem(p['id'], 'printer.id'),
              textProblem(p['company'], 'printer.company'),
              textProblem(p['model'], 'printer.model'),
            ),
          ['id', 'company', 'model'],
        )
      );
    case 'filament.create':
      return (
        unknownField(value, [...BASE_FIELDS, 'filament'], type) ??
        objectProblem(
          value['filament'],
          'filament',
          (f) =>
            first(
              textProblem(f['id'], 'filament.id'),
              enumProblem(f['type'], FILAMENT_TYPES, 'filament.type'),
              textProblem(f['color'], 'filament.color'),
              gramsProblem(f['total_weight_in_grams'], 'filament.total_weight_in_grams', 1),
              gramsProblem(f['remaining_weight_in_grams'], 'filament.remaining_weight_in_grams', 0),
            ),
          ['id', 'type', 'color', 'total_weight_in_grams', 'remaining_weight_in_grams'],
        )
      );
    case 'print_job.create':
      return (
        unknownField(value, [...BASE_FIELDS, 'job'], type) ??
        objectProblem(
          value['job'],
          'job',
          (j) =>
            first(
              textProblem(j['id'], 'job.id'),
              textProblem(j['printer_id'], 'job.printer_id'),
              textProblem(j['filament_id'], 'job.filament_id'),
              textProblem(j['filepath'], 'job.filepath'),
              gramsProblem(j['print_weight_in_grams'], 'job.print_weight_in_grams', 1),
            ),
          ['id', 'printer_id', 'filament_id', 'filepath', 'print_weight_in_grams'],
        )
      );
    case 'print_job.status':
      return (
        unknownField(value, [...BASE_FIELDS, 'id', 'status'], type) ??
        first(textProblem(value['id'], 'id'), enumProblem(value['status'], JOB_STATUSES, 'status'))
      );
    default:
      return `unknown command type ${JSON.stringify(type)}`;
  }
}
