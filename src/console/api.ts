// The console's view of the Raft3D API: the JSON shapes it reads, problem+json errors, and a
// client that talks to one member at a time and moves to another member when the one it
// uses stops answering (the members come from /cluster/status, src/console/cluster.ts).
// Every write carries an Idempotency-Key, so a retry on another member cannot apply twice.

import type { FilamentView, JobStatus, PrintJobView, PrinterView } from '../fsm/types.js';

/** The shop's records as the API returns them: the FSM's own views (types only, nothing bundled). */
export type Printer = PrinterView;
export type Filament = FilamentView;
export type PrintJob = PrintJobView;
export type { JobStatus };

export interface PeerStatus {
  readonly id: string;
  readonly match: number;
  readonly lag: number;
  readonly lastContactMs: number | null;
}

export interface MemberStatus {
  readonly id: string;
  readonly role: 'follower' | 'pre-candidate' | 'candidate' | 'leader';
  readonly term: number;
  readonly leader: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly peers: readonly PeerStatus[];
  readonly config: { readonly voters: readonly string[]; readonly learners: readonly string[] };
  readonly ready: boolean;
  readonly lastContactMs: number | null;
  readonly apiAddresses: Readonly<Record<string, string>>;
  readonly pod: string | null;
  readonly fsyncP99Ms: number | null;
}

export interface TimelineEntry {
  readonly at: string;
  readonly kind: 'started' | 'role';
  readonly term: number;
  readonly role: string;
  readonly leader: string | null;
  readonly previousRole?: string;
  readonly previousLeader?: string | null;
}

/** An RFC 9457 answer from the API (or a transport failure dressed as one). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly errors: readonly { field: string; message: string }[] = [],
  ) {
    super(`${title}: ${detail}`);
  }

  /** No answer at all (refused, reset, timed out): worth trying another member. */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

async function problemFrom(res: Response): Promise<ApiProblem> {
  try {
    const body = (await res.json()) as Partial<{
      code: string;
      title: string;
      detail: string;
      errors: { field: string; message: string }[];
    }>;
    return new ApiProblem(
      res.status,
      body.code ?? 'error',
      body.title ?? res.statusText,
      body.detail ?? '',
      Array.isArray(body.errors) ? body.errors : [],
    );
  } catch {
    return new ApiProblem(res.status, 'error', res.statusText || 'Error', `HTTP ${res.status}`);
  }
}

/** One request to one member; throws ApiProblem (status 0 when the member did not answer). */
export async function call<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; timeoutMs?: number; key?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers,
      cache: 'no-store',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  } catch (error) {
    throw new ApiProblem(0, 'unreachable', 'No answer', `${base} did not answer (${(error as Error).name})`);
  }
  if (!res.ok) throw await problemFrom(res);
  return (await res.json()) as T;
}

/** Where the shop talks to: one member, replaced by another reachable one when it fails. */
export class Client {
  private current: string;

  constructor(
    start: string,
    /** Members believed reachable, best first (from the cluster watcher). */
    private readonly alternatives: () => readonly string[],
  ) {
    this.current = start;
  }

  get base(): string {
    return this.current;
  }

  /** Moves to another reachable member; returns whether it did. */
  failOver(): boolean {
    const next = this.alternatives().find((url) => url !== this.current);
    if (next === undefined) return false;
    this.current = next;
    return true;
  }

  get<T>(path: string): Promise<T> {
    return this.withFailover((base) => call<T>(base, 'GET', path));
  }

  /** A write: one Idempotency-Key for all attempts, so a retry elsewhere is applied at most once. */
  post<T>(path: string, body?: unknown): Promise<T> {
    const key = crypto.randomUUID();
    return this.withFailover((base) =>
      call<T>(base, 'POST', path, { key, ...(body === undefined ? {} : { body }) }),
    );
  }

  private async withFailover<T>(attempt: (base: string) => Promise<T>): Promise<T> {
    try {
      return await attempt(this.current);
    } catch (error) {
      if (error instanceof ApiProblem && error.unreachable && this.failOver()) return attempt(this.current);
      throw error;
    }
  }
}
