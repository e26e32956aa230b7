// The request target (RFC 9112 §3.2). This API serves origin-form targets only
// (`/path?query`), plus `OPTIONS *`; an absolute-form target (`http://host/path`) names a
// host, and a follower must never let a client choose where it forwards. Contract: the URL
// a request is forwarded to is the leader's base URL with the request's path and query
// appended, so its origin is always the leader's.

import { ApiError } from './problem.js';

/** Whether `target` is origin-form: an absolute path, optionally followed by a query. */
export function isOriginForm(target: string): boolean {
  return target.startsWith('/');
}

/**
 * Why this request target cannot be served (a 400 problem), or null when it can:
 * origin-form always, asterisk-form only with OPTIONS. Absolute-form and authority-form
 * (and anything else) are refused before any routing.
 */
export function requestTargetProblem(method: string, target: string): ApiError | null {
  if (isOriginForm(target)) return null;
  if (target === '*' && method === 'OPTIONS') return null;
  const form =
    target === '*'
      ? 'asterisk-form (only OPTIONS * is served)'
      : /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target)
        ? 'absolute-form'
        : 'not origin-form';
  return new ApiError(
    'invalid_request_target',
    `the request target must be a path such as /api/v1/printers; this one is ${form}`,
    {},
    // The body (if any) is not read: the connection ends with this answer.
    { Connection: 'close' },
  );
}

/**
 * The leader's URL for a request whose (origin-form) target is `target`: the leader's
 * base URL, its path prefix kept, then the target's path and query. Never another origin:
 * `//host/x` and `/\host/x` stay paths on the leader.
 */
export function leaderUrl(leaderBase: string, target: string): URL {
  if (!isOriginForm(target)) {
    throw (
      requestTargetProblem('POST', target) ??
      new ApiError('invalid_request_target', 'the request target must be a path')
    );
  }
  const base = new URL(leaderBase);
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  const url = new URL(`${base.origin}${prefix}${target}`);
  if (url.origin !== base.origin)
    throw new Error(`forward URL ${url.href} left the leader's origin ${base.origin}`);
  return url;
}
