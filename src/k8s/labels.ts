// Label keys the node writes on its own pod. The chart's leader Service selects
// `raft3d.io/role: leader`; the term label lets a new leader recognise stale ones.

export const ROLE_LABEL = 'raft3d.io/role';
export const TERM_LABEL = 'raft3d.io/term';
/** Labels the chart puts on every pod of a release; together they select one cluster. */
export const APP_LABEL_KEYS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance'] as const;

export type RoleLabel = 'leader' | 'follower';

export function roleLabel(role: string): RoleLabel {
  return role === 'leader' ? 'leader' : 'follower';
}

/** `a=b,c=d` from a label map, keys sorted so requests are stable. */
export function formatSelector(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',');
}

/** HTTP status of a failed client-node call, if it got that far. */
export function httpStatus(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}
