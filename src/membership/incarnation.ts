// Member incarnations. A member's base id is its stable name (`n2` locally, the pod name
// `raft3d-1` on Kubernetes). When a member comes back with an empty data dir into a cluster
// that already exists, it must not answer under the id it voted and acknowledged entries
// with: it takes a fresh id `<base>~<6 random chars>` (a new incarnation) and joins as a
// learner. Base ids never contain `~` (config.ts refuses them), so the split is unambiguous.

import { randomBytes } from 'node:crypto';

const SEPARATOR = '~';
const SUFFIX = /^[0-9a-z]{6}$/;
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** The stable name an id belongs to: `raft3d-1~k3f9a2` → `raft3d-1`; a base id is its own base. */
export function baseOf(id: string): string {
  const at = id.indexOf(SEPARATOR);
  return at < 0 ? id : id.slice(0, at);
}

/** Whether `id` is a re-incarnation (`<base>~<suffix>`) rather than a base id. */
export function isIncarnation(id: string): boolean {
  const at = id.indexOf(SEPARATOR);
  return at > 0 && SUFFIX.test(id.slice(at + 1));
}

/** A fresh id for `base` that was never used before (36^6 random suffixes). */
export function newIncarnation(base: string, random: (n: number) => Uint8Array = randomBytes): string {
  const bytes = random(6);
  let suffix = '';
  for (const byte of bytes) suffix += ALPHABET[byte % ALPHABET.length];
  return `${base}${SEPARATOR}${suffix}`;
}
