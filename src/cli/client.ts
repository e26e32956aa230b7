// The CLI's connection to a cluster, on axios: a list of endpoints (`--endpoints`,
// RAFT3D_ENDPOINTS) it learns more of from `/cluster/status`, requests sent to the leader
// when it can reach it (else to any member, which forwards), moving to the next endpoint
// when one does not answer and waiting out a 503 (election, no quorum) until the deadline,
// like etcdctl's client. Writes carry one Idempotency-Key across every attempt. Errors come
// back as CliError with the problem+json in one line and the exit code it maps to.

import { randomUUID } from 'node:crypto';
import axios from 'axios';
import type { AxiosInstance, AxiosResponse, ResponseType } from 'axios';

/** Exit codes (docs/cli.md): the contract scripts rely on. */
export const EXIT = {
  ok: 0,
  /** The cluster answered and refused: bad input, unknown id, a broken rule. */
  refused: 1,
  /** The command line itself is wrong. */
  usage: 2,
  /** No endpoint answered, or the cluster had no leader/quorum until the deadline. */
  unavailable: 3,
  /** 401/403: the admin token is missing or wrong. */
  unauthorized: 4,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ProblemBody {
  readonly title?: string;
  readonly detail?: string;
  readonly code?: string;
  readonly status?: number;
  readonly errors?: readonly { field: string; message: string }[];
}

/** One readable line from a problem+json answer: title, detail (which fields), status and code. */
export function problemLine(status: number, body: unknown): string {
  const p = (typeof body === 'object' && body !== null ? body : {}) as ProblemBody;
  const title = p.title ?? `HTTP ${status}`;
  const detail =
    p.errors && p.errors.length > 0 ? p.errors.map((e) => `${e.field}: ${e.message}`).join('; ') : p.detail;
  return `${title}${detail ? `: ${detail}` : ''} (${status}${p.code ? ` ${p.code}` : ''})`;
}

function exitCodeFor(status: number): number {
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.refused;
}

export interface ClientOptions {
  readonly endpoints: readonly string[];
  readonly token: string | null;
  /** How long one command may keep retrying (ms). */
  readonly timeoutMs: number;
  /** Where notes go (unreachable endpoints, retries). */
  readonly note: (line: string) => void;
}

export interface MemberStatus {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly leaderApi: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly peers: readonly { id: string; match: number; lag: number; lastContactMs?: number | null }[];
  readonly config: { readonly voters: readonly string[]; readonly learners: readonly string[] };
  readonly lastContactMs?: number | null;
  readonly apiAddresses?: Readonly<Record<string, string>>;
  readonly pod?: string | null;
  readonly fsyncP99Ms?: number | null;
}

/** What one endpoint answered to `/cluster/status`. */
export interface EndpointStatus {
  readonly url: string;
  readonly status: MemberStatus | null;
  readonly error: string | null;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly admin?: boolean;
  readonly responseType?: ResponseType;
  readonly headers?: Record<string, string>;
  /** Send to the leader when it is reachable (writes, admin calls). */
  readonly preferLeader?: boolean;
  /** Socket inactivity limit for this request (ms; 0 = none, for streams that watch their own). */
  readonly idleTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `http://host:port` without a trailing slash; refuses anything else. */
export function normaliseEndpoint(raw: string): string {
  const text = raw.trim();
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`not an endpoint URL: ${JSON.stringify(raw)} (expected http://host:port)`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`endpoint ${raw}: only http and https are supported`, EXIT.usage);
  return url.origin;
}

export class ClusterClient {
  private readonly http: AxiosInstance;
  private readonly endpoints: string[];
  /** Endpoints that answered last time, and the leader's URL when known and reachable. */
  private leaderUrl: string | null = null;

  constructor(private readonly options: ClientOptions) {
    this.endpoints = [...new Set(options.endpoints.map(normaliseEndpoint))];
    if (this.endpoints.length === 0) throw new CliError('no endpoints given', EXIT.usage);
    this.http = axios.create({
      // Each attempt is short: a dead endpoint is skipped, not waited for.
      timeout: Math.min(options.timeoutMs, 5_000),
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { 'user-agent': 'raft3d-cli' },
    });
  }

  get configured(): readonly string[] {
    return this.endpoints;
  }

  /** How long one command may keep retrying (ms). */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** `/cluster/status` of one URL (never throws). */
  async statusOf(url: string): Promise<EndpointStatus> {
    try {
      const res = await this.http.get(`${url}/cluster/status`, { timeout: 2_000 });
      if (res.status !== 200) return { url, status: null, error: problemLine(res.status, res.data) };
      return { url, status: res.data as MemberStatus, error: null };
    } catch (error) {
      return { url, status: null, error: describeNetworkError(error) };
    }
  }

  /**
   * Every configured endpoint's status, plus every member they name (apiAddresses) that is
   * not configured: the picture `status` and `members` print.
   */
  async survey(): Promise<{ configured: EndpointStatus[]; discovered: (EndpointStatus & { id: string })[] }> {
    const configured = await Promise.all(this.endpoints.map((url) => this.statusOf(url)));
    const seenIds = new Set(configured.flatMap((c) => (c.status ? [c.status.id] : [])));
    const extra = new Map<string, string>();
    for (const c of configured)
      for (const [id, url] of Object.entries(c.status?.apiAddresses ?? {}))
        if (!seenIds.has(id) && !this.endpoints.includes(url)) extra.set(id, url);
    const discovered = await Promise.all(
      [...extra].map(async ([id, url]) => ({ id, ...(await this.statusOf(url)) })),
    );
    this.rememberLeader([...configured, ...discovered]);
    return { configured, discovered };
  }

  private rememberLeader(answers: readonly EndpointStatus[]): void {
    const leader = answers
      .filter((a) => a.status?.role === 'leader')
      .sort((a, b) => (b.status?.term ?? 0) - (a.status?.term ?? 0))[0];
    if (leader) this.leaderUrl = leader.url;
  }

  /**
   * Finds the leader's URL from the first endpoint that answers, if this machine can reach it
   * (through `kubectl port-forward` it usually cannot: the member that answers forwards).
   */
  private async locateLeader(): Promise<void> {
    for (const url of this.endpoints) {
      const { status } = await this.statusOf(url);
      if (!status) continue;
      if (status.role === 'leader') {
        this.leaderUrl = url;
        return;
      }
      const leaderUrl = status.leaderApi;
      if (
        leaderUrl &&
        (this.endpoints.includes(leaderUrl) || (await this.statusOf(leaderUrl)).status?.role === 'leader')
      )
        this.leaderUrl = leaderUrl;
      return;
    }
  }

  /** Order in which to try endpoints: the leader first when preferred and known. */
  private order(preferLeader: boolean): string[] {
    const list = [...this.endpoints];
    if (preferLeader && this.leaderUrl !== null)
      return [this.leaderUrl, ...list.filter((u) => u !== this.leaderUrl)];
    return list;
  }

  /**
   * One API call with failover: each endpoint in turn until one answers; a 503 (no leader,
   * no quorum) is retried after Retry-After until the deadline. Returns the first non-503
   * answer, or throws CliError.
   */
  async request<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    options: RequestOptions = {},
  ): Promise<AxiosResponse<T>> {
    const deadline = Date.now() + this.options.timeoutMs;
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST') headers['idempotency-key'] = randomUUID();
    if (this.options.token !== null) headers['authorization'] = `Bearer ${this.options.token}`;
    let last = 'no endpoint tried';
    if (options.preferLeader && this.leaderUrl === null) await this.locateLeader();
    for (let round = 0; ; round++) {
      const tried = new Set<string>();
      for (const url of this.order(options.preferLeader ?? false)) {
        if (tried.has(url)) continue;
        tried.add(url);
        let res: AxiosResponse<T>;
        try {
          res = await this.http.request<T>({
            method,
            url: `${url}${path}`,
            headers,
            ...(options.body === undefined ? {} : { data: JSON.stringify(options.body) }),
            ...(options.responseType ? { responseType: options.responseType } : {}),
            ...(options.idleTimeoutMs === undefined ? {} : { timeout: options.idleTimeoutMs }),
          });
        } catch (error) {
          last = `${url}: ${describeNetworkError(error)}`;
          if (this.leaderUrl === url) this.leaderUrl = null;
          continue;
        }
        if (res.status === 503) {
          last = `${url}: ${problemLine(res.status, await bodyOf(res))}`;
          continue;
        }
        if (res.status >= 400)
          throw new CliError(problemLine(res.status, await bodyOf(res)), exitCodeFor(res.status));
        return res;
      }
      if (Date.now() >= deadline)
        throw new CliError(`no member could serve ${method} ${path} (last: ${last})`, EXIT.unavailable);
      if (round === 0) this.options.note(`waiting for the cluster (${last})`);
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
  }

  async json<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).data;
  }
}

/** The body of an answer read as a stream or as JSON, for an error message. */
async function bodyOf(res: AxiosResponse): Promise<unknown> {
  const data: unknown = res.data;
  if (data && typeof (data as NodeJS.ReadableStream).pipe === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of data as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return {};
    }
  }
  if (typeof data === 'string') {
    try {
      return JSON.parse(data);
    } catch {
      return {};
    }
  }
  return data;
}

export function describeNetworkError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') return 'timed out';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'host not found';
  return e.message ?? String(error);
}
