// Builders for domain refusals. A refusal is a replicated outcome (data in the result),
// never an exception; exceptions are kept for broken invariants and corrupt input.

import type { ObjectKind, ShopError, ShopErrorCode, ShopErrorDetails, ShopFailure } from './types.js';

export function failure<C extends ShopErrorCode>(
  code: C,
  message: string,
  details: ShopErrorDetails[C],
): ShopFailure {
  // TypeScript cannot see that a generic `C` picks one member of the ShopError union.
  return { ok: false, error: { code, message, details } as ShopError };
}

const KIND_LABEL: Record<ObjectKind, string> = {
  printer: 'printer',
  filament: 'filament',
  print_job: 'print job',
};

const NOT_FOUND = {
  printer: 'printer_not_found',
  filament: 'filament_not_found',
  print_job: 'print_job_not_found',
} as const satisfies Record<ObjectKind, ShopErrorCode>;

export function notFound(kind: ObjectKind, id: string): ShopFailure {
  return failure(NOT_FOUND[kind], `no ${KIND_LABEL[kind]} with id ${JSON.stringify(id)}`, { id, kind });
}

export function duplicateId(kind: ObjectKind, id: string): ShopFailure {
  return failure('duplicate_id', `a ${KIND_LABEL[kind]} with id ${JSON.stringify(id)} already exists`, {
    id,
    kind,
  });
}

/** A broken internal invariant: the state is corrupt, so stop loudly rather than replicate it. */
export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(`print-shop invariant broken: ${message()}`);
}
