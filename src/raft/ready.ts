// When a Ready must be written durably before its messages leave (step 1 of the Ready
// contract in messages.ts). One rule, used by the driver and by nothing else: a copy of it
// that drifted once let a restarted node vote twice in a term.

import type { HardState, Ready } from './messages.js';

/**
 * etcd's MustSync: new entries, a snapshot, or a term or vote different from the last hard
 * state *saved* (not the last one seen in a Ready: a Ready that was not written does not
 * count). A change of the commit index alone does not need a write.
 */
export function mustSync(saved: HardState, rd: Ready): boolean {
  if (rd.entries.length > 0 || rd.snapshot !== undefined) return true;
  const hs = rd.hardState;
  return hs !== undefined && (hs.term !== saved.term || hs.vote !== saved.vote);
}
