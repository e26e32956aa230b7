// What the chaos workload records: one entry per client operation, with monotonic invoke and
// return times and an outcome in Jepsen's terms: `ok` (the server answered, and the answer
// is the result), `fail` (certainly not applied: refused before anything was proposed) or
// `info` (indeterminate: a timeout, a lost connection, an outcome-unknown 5xx; it may take
// effect at any time after its invocation, or never).

export type JobStatus = 'Queued' | 'Running' | 'Done' | 'Canceled';
export type JobState = 'absent' | JobStatus;
export type Consistency = 'linearizable' | 'leader' | 'stale';

export type Op =
  | {
      readonly kind: 'create-job';
      readonly job: string;
      readonly filament: string;
      readonly weight: number;
      readonly keyed: boolean;
    }
  | { readonly kind: 'transition'; readonly job: string; readonly to: JobStatus }
  | { readonly kind: 'read-job'; readonly job: string; readonly consistency: Consistency }
  | {
      readonly kind: 'create-printer';
      readonly printer: string;
      readonly keyed: boolean;
      readonly probe: boolean;
    }
  | { readonly kind: 'read-filament'; readonly filament: string };

/** A create: `created`, `duplicate` (id in use), `refused` (capacity, unknown printer...). */
export type CreateResult = 'created' | 'duplicate' | 'refused';
/** A transition: `ok`, `invalid` (not allowed from the current status), `notfound`. */
export type TransitionResult = 'ok' | 'invalid' | 'notfound';

export interface FilamentView {
  readonly total_weight_in_grams: number;
  readonly remaining_weight_in_grams: number;
  readonly reserved_weight_in_grams: number;
}

export type Result = CreateResult | TransitionResult | JobState | FilamentView | null;

export interface Entry {
  readonly client: number;
  readonly node: string;
  readonly op: Op;
  readonly call: number;
  ret: number;
  outcome: 'ok' | 'fail' | 'info';
  result: Result;
  /** HTTP status and problem code (or the transport error) for the report. */
  detail: string;
}

/** 503 codes that mean "nothing was proposed": the write certainly did not happen. */
const NOT_APPLIED = new Set(['no_leader', 'not_leader', 'not_ready', 'proposal_dropped', 'route_not_found']);

/** Transport errors raised before a request could have reached a server. */
const NOT_SENT = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/;

export function classifyError(error: unknown): { outcome: 'fail' | 'info'; detail: string } {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = `${cause?.code ?? ''} ${cause?.message ?? ''} ${(error as Error).name ?? ''}`;
  if (NOT_SENT.test(text)) return { outcome: 'fail', detail: cause?.code ?? 'refused' };
  if (/TimeoutError|AbortError/.test(text)) return { outcome: 'info', detail: 'client timeout' };
  return { outcome: 'info', detail: (cause?.code ?? (error as Error).message ?? 'error').slice(0, 60) };
}

/** The outcome of a write answered with a 5xx problem. */
export function classifyServerError(status: number, code: string | undefined): 'fail' | 'info' {
  return status === 503 && code !== undefined && NOT_APPLIED.has(code) ? 'fail' : 'info';
}

export const RANK: Readonly<Record<JobState, number>> = {
  absent: 0,
  Queued: 1,
  Running: 2,
  Done: 3,
  Canceled: 3,
};

export const LEGAL: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  Queued: ['Running', 'Canceled'],
  Running: ['Done', 'Canceled'],
  Done: [],
  Canceled: [],
};
