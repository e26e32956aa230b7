// Majority math, as pure functions over a set of voters. Learners are never passed in:
// they neither vote nor count towards commit.

import type { LogIndex, NodeId } from './messages.js';

export type VoteResult = 'won' | 'lost' | 'pending';

export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The largest index that a majority of `voters` has matched; `match(id)` gives each voter's
 * match index. 0 for an empty voter set.
 */
export function committedIndex(voters: readonly NodeId[], match: (id: NodeId) => LogIndex): LogIndex {
  if (voters.length === 0) return 0;
  const indexes = voters.map(match).sort((a, b) => b - a);
  return indexes[majority(voters.length) - 1] ?? 0;
}

/** Tallies votes (only those of `voters` count; each voter once). */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const need = majority(voters.length);
  if (granted >= need) return 'won';
  if (voters.length - rejected < need) return 'lost';
  return 'pending';
}

/** Whether the ids in `acks` (filtered to `voters`) form a majority. */
export function hasQuorum(voters: readonly NodeId[], acks: ReadonlySet<NodeId>): boolean {
  let n = 0;
  for (const id of voters) if (acks.has(id)) n++;
  return voters.length > 0 && n >= majority(voters.length);
}
