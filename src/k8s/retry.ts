// Small timing helpers for talking to the Kubernetes API from a node: capped exponential
// backoff and a deadline on a call. The API server may be slow or gone; the node must
// keep serving either way, so nothing here ever throws past its caller's loop.

export interface BackoffOptions {
  /** First wait after a failure (ms). */
  readonly initialMs: number;
  /** Upper bound of a single wait (ms). */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 };

/** Wait before attempt `attempt` (1 = the first retry): initial * 2^(attempt-1), capped, with up to 20% jitter. */
export function backoffDelay(options: BackoffOptions, attempt: number): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.2 * Math.random()));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class DeadlineError extends Error {
  readonly code = 'k8s_deadline';
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the Kubernetes API within ${ms} ms`);
  }
}

/** Rejects with DeadlineError when `promise` takes longer than `ms` (the call itself is left to finish). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
