// The ONE place that turns errors into HTTP: RFC 9457 `application/problem+json` bodies
// with a stable machine-readable `code` (and `type` URI built from it) and a human
// `detail`. Status, title and Retry-After come from the catalogue (src/api/errors.ts);
// an error's details object is serialised whole beside them. Domain errors from the FSM
// and driver errors from the node are mapped by their `code`; anything unknown is a 500
// whose detail never carries a stack trace.

import type { Response } from 'express';
import { NotLeaderError } from '../node/index.js';
import { isErrorCode, problemSpec } from './errors.js';
import type { ErrorCode } from './errors.js';

const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'urn:raft3d:problem:';
/** Seconds a client should wait before retrying when there is no leader or quorum. */
const RETRY_AFTER_SECONDS = 1;

/** Fields an error adds to its problem body (RFC 9457 extension members). */
export type ProblemDetails = Readonly<Record<string, unknown>>;

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly [extension: string]: unknown;
}

/**
 * An error the API answers with: a catalogue code (its status comes from there), a detail
 * for humans, the details object that goes into the body whole, and extra headers.
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly details: ProblemDetails = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
    this.status = problemSpec(code).status;
  }
}

export interface Problem {
  readonly status: number;
  readonly body: ProblemBody;
  readonly headers: Readonly<Record<string, string>>;
}

function codeOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  return typeof error.code === 'string' ? error.code : null;
}

/** Errors Express itself raises with a 4xx `status` (an undecodable %-escape in a path: 400). */
function isClientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('status' in error) || typeof error.status !== 'number')
    return false;
  return error.status >= 400 && error.status < 500;
}

/** What an error from below the API (a node or FSM error with a known code) adds to its problem. */
function detailsOf(error: unknown): ProblemDetails {
  // The one driver error that says more than its message: where the leader is.
  if (error instanceof NotLeaderError) return { leader: error.leader, leader_api: error.leaderApi };
  return {};
}

/** `error` as an ApiError: its own, a coded error from below, Express's 400, or an internal error. */
function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const code = codeOf(error);
  if (code !== null && isErrorCode(code))
    return new ApiError(code, error instanceof Error ? error.message : String(error), detailsOf(error));
  if (code === null && isClientError(error)) {
    return new ApiError(
      'invalid_request',
      error instanceof URIError
        ? 'the request path is not a valid percent-encoded URI'
        : 'the request could not be served as sent',
    );
  }
  return new ApiError('internal', 'an unexpected error occurred; it has been logged');
}

export function toProblem(error: unknown, instance?: string): Problem {
  const { code, message, details, headers: own } = asApiError(error);
  const spec = problemSpec(code);
  const headers: Record<string, string> = { ...own };
  if (spec.retry && headers['Retry-After'] === undefined)
    headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
  const body: ProblemBody = {
    type: `${TYPE_BASE}${code}`,
    title: spec.title,
    status: spec.status,
    detail: message,
    code,
    ...(instance === undefined ? {} : { instance }),
    ...details,
  };
  return { status: spec.status, body, headers };
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status);
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.end(JSON.stringify(problem.body));
}
