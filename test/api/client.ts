// A tiny HTTP client for the API tests (Node's fetch), and the problem+json assertions
// every error case shares: content type, RFC 9457 members, the status, no stack traces.

import type { ExecutionContext } from 'ava';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: unknown;
}

export interface CallOptions {
  readonly body?: unknown;
  /** Sent as is (no JSON encoding), e.g. malformed JSON. */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(new URL(path, base), { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

export const get = (base: string, path: string, headers?: Record<string, string>): Promise<Answer> =>
  call(base, 'GET', path, headers ? { headers } : {});
export const post = (
  base: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<Answer> =>
  call(base, 'POST', path, { ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });

export interface ProblemShape {
  readonly type: string;
  readonly code: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: { field: string; message: string }[];
  readonly [key: string]: unknown;
}

/** Asserts an RFC 9457 problem with `status` and `code`, and returns its body. */
export function assertProblem(
  t: ExecutionContext,
  answer: Answer,
  status: number,
  code?: string,
): ProblemShape {
  t.is(answer.status, status, `expected ${status}, got ${answer.status}: ${answer.text}`);
  t.regex(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = answer.body as ProblemShape;
  t.is(typeof body, 'object');
  t.is(body.status, status);
  t.is(typeof body.type, 'string');
  t.is(typeof body.title, 'string');
  t.is(typeof body.detail, 'string');
  t.is(typeof body.code, 'string');
  if (code !== undefined) t.is(body.code, code);
  t.notRegex(answer.text, /\n\s+at |node_modules|\.ts:\d+/, 'a problem must never carry a stack trace');
  if (status === 503) t.truthy(answer.headers.get('retry-after'), '503 must say Retry-After');
  return body;
}
