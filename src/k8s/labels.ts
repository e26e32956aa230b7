// Label keys the node writes on its own pod. The chart's leader Service selects
// `raft3d.io/role: leader`; the term label lets a new leader recognise stale ones.

export const ROLE_LABEL = 'raft3d.io/role';
export const TERM_LABEL = 'raft3d.io/term';

export type RoleLabel = 'leader' | 'follower';

export function roleLabel(role: string): RoleLabel {
  return role === 'leader' ? 'leader' : 'follower';
}

/** HTTP status of a failed client-node call, if it got that far. */
export function httpStatus(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}
