// Builders for domain refusals. A refusal is a replicated outcome (data in the result),
// never an exception; exceptions are kept for broken invariants and corrupt input.

import type { ObjectKind, ShopError, ShopErrorCode, ShopFailure } from './types.js';

export function failure(
  code: ShopErrorCode,
  message: string,
  details: Omit<ShopError, 'code' | 'message'> = {},
): ShopFailure {
  return { ok: false, error: { code, message, ...details } };
}

const KIND_LABEL: Record<ObjectKind, string> = {
  printer: 'printer',
  filament: 'filament',
  print_job: 'print job',
};

export function notFound(kind: ObjectKind, id: string): ShopFailure {
  const code: ShopErrorCode =
    kind === 'printer'
      ? 'printer_not_found'
      : kind === 'filament'
        ? 'filament_not_found'
        : 'print_job_not_found';
  return failure(code, `no ${KIND_LABEL[kind]} with id ${JSON.stringify(id)}`, { kind, id });
}

export function duplicateId(kind: ObjectKind, id: string): ShopFailure {
  return failure('duplicate_id', `a ${KIND_LABEL[kind]} with id ${JSON.stringify(id)} already exists`, {
    kind,
    id,
  });
}

/** A broken internal invariant: the state is corrupt, so stop loudly rather than replicate it. */
export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(`print-shop invariant broken: ${message()}`);
}
