// The ONE place that turns errors into HTTP: RFC 9457 `application/problem+json` bodies
// with a stable machine-readable `code` (and `type` URI built from it) and a human
// `detail`. Domain errors from the FSM and driver errors from the node are mapped by
// their `code`; anything unknown is a 500 whose detail never carries a stack trace.

import type { Response } from 'express';

const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'urn:raft3d:problem:';
/** Seconds a client should wait before retrying when there is no leader or quorum. */
const RETRY_AFTER_SECONDS = 1;

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly [extension: string]: unknown;
}

/** An error the API raises itself (validation, content type, routing...). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

interface Mapping {
  readonly status: number;
  readonly title: string;
  readonly retry?: boolean;
}

/** Error code → HTTP status. Codes come from src/fsm, src/node and this layer. */
const BY_CODE: Readonly<Record<string, Mapping>> = {
  // this layer
  invalid_request: { status: 400, title: 'Invalid request' },
  malformed_json: { status: 400, title: 'Malformed JSON' },
  invalid_status: { status: 400, title: 'Invalid status' },
  status_not_allowed: { status: 400, title: 'Status cannot be set on creation' },
  invalid_query: { status: 400, title: 'Invalid query parameter' },
  invalid_request_target: { status: 400, title: 'Invalid request target' },
  malformed_request: { status: 400, title: 'Malformed request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  admin_disabled: { status: 403, title: 'Admin routes disabled' },
  join_refused: { status: 403, title: 'Join refused' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'Request timeout' },
  history_compacted: { status: 410, title: 'History compacted' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  expectation_failed: { status: 417, title: 'Expectation failed' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with a different request' },
  headers_too_large: { status: 431, title: 'Request headers too large' },
  method_not_implemented: { status: 501, title: 'Method not implemented' },
  forwarding_failed: { status: 503, title: 'Leader unreachable', retry: true },
  http_version_not_supported: { status: 505, title: 'HTTP version not supported' },
  // state machine (src/fsm): rules checked at commit time
  printer_not_found: { status: 404, title: 'Printer not found' },
  filament_not_found: { status: 404, title: 'Filament not found' },
  print_job_not_found: { status: 404, title: 'Print job not found' },
  duplicate_id: { status: 409, title: 'Id already in use' },
  filament_capacity: { status: 409, title: 'Not enough filament' },
  invalid_transition: { status: 409, title: 'Status transition not allowed' },
  invalid_filament: { status: 400, title: 'Invalid filament' },
  invalid_command: { status: 400, title: 'Invalid command' },
  // node driver (src/node)
  not_leader: { status: 503, title: 'Not the leader', retry: true },
  no_leader: { status: 503, title: 'No leader', retry: true },
  no_quorum: { status: 503, title: 'No quorum', retry: true },
  timeout: { status: 504, title: 'Timed out', retry: true },
  proposal_lost: { status: 503, title: 'Write outcome unknown', retry: true },
  proposal_dropped: { status: 503, title: 'Write refused for now', retry: true },
  node_stopped: { status: 503, title: 'Node stopping', retry: true },
  not_ready: { status: 503, title: 'Not ready', retry: true },
  unhealthy: { status: 503, title: 'Unhealthy' },
  console_unavailable: { status: 503, title: 'Console unavailable' },
};

export interface Problem {
  readonly status: number;
  readonly body: ProblemBody;
  readonly headers: Readonly<Record<string, string>>;
}

function codeOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  return typeof error.code === 'string' ? error.code : null;
}

/** Errors Express itself raises with a 4xx `status` (e.g. an undecodable %-escape in a path). */
function clientErrorStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null || !('status' in error) || typeof error.status !== 'number')
    return null;
  return error.status >= 400 && error.status < 500 ? error.status : null;
}

export function toProblem(error: unknown, instance?: string): Problem {
  let status = 500;
  let code = 'internal';
  let title = 'Internal error';
  let detail = 'an unexpected error occurred; it has been logged';
  let extensions: Readonly<Record<string, unknown>> = {};
  let headers: Record<string, string> = {};
  if (error instanceof ApiError) {
    status = error.status;
    code = error.code;
    title = BY_CODE[code]?.title ?? title;
    detail = error.message;
    extensions = error.extensions;
    headers = { ...error.headers };
  } else if (codeOf(error) === null && clientErrorStatus(error) !== null) {
    status = clientErrorStatus(error) ?? 400;
    code = status === 400 ? 'invalid_request' : 'client_error';
    title = BY_CODE[code]?.title ?? 'Client error';
    detail =
      error instanceof URIError
        ? 'the request path is not a valid percent-encoded URI'
        : 'the request could not be served as sent';
  } else {
    const c = codeOf(error);
    const mapping = c === null ? undefined : BY_CODE[c];
    if (c !== null && mapping) {
      status = mapping.status;
      code = c;
      title = mapping.title;
      detail = error instanceof Error ? error.message : String(error);
      extensions = pickExtensions(error);
    }
  }
  if (BY_CODE[code]?.retry || (status === 503 && !headers['Retry-After']))
    headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
  const body: ProblemBody = {
    type: `${TYPE_BASE}${code}`,
    title,
    status,
    detail,
    code,
    ...(instance === undefined ? {} : { instance }),
    ...extensions,
  };
  return { status, body, headers };
}

/** Safe, documented fields some errors carry (leader hints, ids), never internals. */
function pickExtensions(error: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof error !== 'object' || error === null) return out;
  const record = error as Record<string, unknown>;
  for (const key of ['leader', 'leaderApi', 'id', 'kind', 'from', 'to', 'available', 'requested']) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || value === null)
      out[key === 'leaderApi' ? 'leader_api' : key] = value;
  }
  return out;
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status);
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.end(JSON.stringify(problem.body));
}
