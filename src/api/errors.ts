// The error catalogue: every `code` a client can get in a problem+json body, declared once
// with its HTTP status, title and whether the client should retry (as fastify's
// lib/errors.js declares code, status and message together). The table is checked by the
// compiler against every code the state machine (src/fsm), the driver (src/node) and this
// layer can raise, so a code missing here, or a mistyped one, does not compile.
// docs/api.md's error table is generated from it (test/api/error-catalogue.test.ts).

import type { ShopErrorCode } from '../fsm/index.js';
import type { NodeErrorCode } from '../node/index.js';

/** The codes this layer raises itself (validation, routing, HTTP framing, access). */
export type ApiErrorCode =
  | 'invalid_request'
  | 'malformed_json'
  | 'invalid_status'
  | 'status_not_allowed'
  | 'invalid_query'
  | 'invalid_request_target'
  | 'malformed_request'
  | 'unauthorized'
  | 'admin_disabled'
  | 'join_refused'
  | 'not_found'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'history_compacted'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'expectation_failed'
  | 'headers_too_large'
  | 'internal'
  | 'method_not_implemented'
  | 'forwarding_failed'
  | 'unhealthy'
  | 'not_ready'
  | 'console_unavailable'
  | 'http_version_not_supported';

/** Every code on the wire. */
export type ErrorCode = ApiErrorCode | ShopErrorCode | NodeErrorCode;

export interface ProblemSpec {
  readonly status: number;
  readonly title: string;
  /** Answered with `Retry-After`: the same request may succeed shortly (or on another member). */
  readonly retry?: true;
  /** What docs/api.md says beside the code, when the title is not enough. */
  readonly note?: string;
}

export const PROBLEMS = {
  // this layer
  invalid_request: {
    status: 400,
    title: 'Invalid request',
    note: 'with `errors[]`: path and message per field',
  },
  malformed_json: { status: 400, title: 'Malformed JSON' },
  invalid_status: { status: 400, title: 'Invalid status' },
  status_not_allowed: { status: 400, title: 'Status cannot be set on creation' },
  invalid_query: { status: 400, title: 'Invalid query parameter' },
  invalid_request_target: { status: 400, title: 'Invalid request target' },
  malformed_request: { status: 400, title: 'Malformed request' },
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    note: 'an admin route, or `/cluster/join`, without the admin token or cluster secret it needs; `WWW-Authenticate: Bearer`',
  },
  admin_disabled: {
    status: 403,
    title: 'Admin routes disabled',
    note: 'on Kubernetes, a node without an admin token refuses the admin routes',
  },
  join_refused: {
    status: 403,
    title: 'Join refused',
    note: 'e.g. its StatefulSet ordinal is being scaled away',
  },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: {
    status: 405,
    title: 'Method not allowed',
    note: 'a method the server knows, on a route that does not take it; `Allow` lists those it takes',
  },
  request_timeout: {
    status: 408,
    title: 'Request timeout',
    note: 'the request line and headers did not arrive in time',
  },
  history_compacted: {
    status: 410,
    title: 'History compacted',
    note: 'the event log before a snapshot; `earliest_index` says where it starts',
  },
  payload_too_large: { status: 413, title: 'Payload too large', note: 'bodies over 64 KiB' },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    note: 'send `content-type: application/json`',
  },
  expectation_failed: {
    status: 417,
    title: 'Expectation failed',
    note: 'an `Expect` other than `100-continue`',
  },
  headers_too_large: {
    status: 431,
    title: 'Request headers too large',
    note: 'request line and headers over 16 KiB, a long URL included',
  },
  internal: {
    status: 500,
    title: 'Internal error',
    note: 'a bug: the detail carries no internals, the node logs the error',
  },
  method_not_implemented: {
    status: 501,
    title: 'Method not implemented',
    note: 'a method the server does not implement at all, `CONNECT` included: it is no proxy',
  },
  forwarding_failed: { status: 503, title: 'Leader unreachable', retry: true },
  unhealthy: {
    status: 503,
    title: 'Unhealthy',
    retry: true,
    note: 'this member stopped after a storage failure and takes no writes: use another member',
  },
  not_ready: { status: 503, title: 'Not ready', retry: true },
  console_unavailable: {
    status: 503,
    title: 'Console unavailable',
    retry: true,
    note: 'the console bundle could not be loaded',
  },
  http_version_not_supported: {
    status: 505,
    title: 'HTTP version not supported',
    note: 'anything but HTTP/1.1 and HTTP/1.0, the HTTP/2 preface included',
  },
  // the state machine (src/fsm): rules checked when the write commits
  printer_not_found: { status: 404, title: 'Printer not found' },
  filament_not_found: { status: 404, title: 'Filament not found' },
  print_job_not_found: { status: 404, title: 'Print job not found' },
  duplicate_id: { status: 409, title: 'Id already in use' },
  filament_capacity: {
    status: 409,
    title: 'Not enough filament',
    note: '`available` and `requested` grams',
  },
  invalid_transition: {
    status: 409,
    title: 'Status transition not allowed',
    note: '`from` and `to`',
  },
  invalid_filament: { status: 400, title: 'Invalid filament' },
  invalid_command: { status: 400, title: 'Invalid command' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with a different request' },
  // the node driver (src/node) and the core's refusals it passes on
  not_leader: {
    status: 503,
    title: 'Not the leader',
    retry: true,
    note: '`leader` and `leader_api` say where it is, when known',
  },
  no_leader: { status: 503, title: 'No leader', retry: true },
  no_quorum: { status: 503, title: 'No quorum', retry: true },
  proposal_lost: { status: 503, title: 'Write outcome unknown', retry: true },
  proposal_dropped: { status: 503, title: 'Write refused for now', retry: true },
  node_stopped: { status: 503, title: 'Node stopping', retry: true },
  timeout: {
    status: 504,
    title: 'Timed out',
    retry: true,
    note: 'the write may still commit: retry with the same `Idempotency-Key`',
  },
} as const satisfies Record<ErrorCode, ProblemSpec>;

/** Whether `code` is in the catalogue (an error from below whose code the API knows). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(PROBLEMS, code);
}

/** The catalogue entry of `code`. */
export function problemSpec(code: ErrorCode): ProblemSpec {
  return PROBLEMS[code];
}
