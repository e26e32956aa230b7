// Concurrent clients for the chaos suite. Each sends one request at a time to a random node
// with a short timeout and records it (history.ts): jobs created (with and without an
// Idempotency-Key; a keyed create whose outcome is unknown is retried once with the same key
// and recorded as one operation), driven through their transitions like compare-and-set
// registers on a small hot set so clients collide, read at every consistency level, spools
// read for their weights, and printers created. Choices come from a seeded PRNG per client.

import { performance } from 'node:perf_hooks';
import { SeededPrng } from '../../src/raft/prng.js';
import type { Consistency, Entry, FilamentView, JobState, JobStatus, Op, Result } from './history.js';
import { classifyError, classifyServerError, LEGAL } from './history.js';

export const FILAMENTS = ['f1', 'f2', 'f3'];
export const PRINTERS = ['p1', 'p2', 'p3'];
export const FILAMENT_GRAMS = 4000;

export interface WorkloadOptions {
  readonly clients: number;
  readonly seed: number;
  readonly timeoutMs: number;
  /** Node id → API base URL. */
  readonly urls: ReadonlyMap<string, string>;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function call(
  url: string,
  method: 'GET' | 'POST',
  body: unknown,
  timeoutMs: number,
  key?: string,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key !== undefined) headers['idempotency-key'] = key;
  const res = await fetch(url, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the record
  }
  return { status: res.status, body: parsed };
}

const codeOf = (body: unknown): string | undefined =>
  typeof body === 'object' && body !== null && 'code' in body
    ? String((body as { code: unknown }).code)
    : undefined;

export class Workload {
  readonly entries: Entry[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;
  /** Jobs clients know of, newest last; and the last state each was seen in. */
  private readonly jobs: string[] = [];
  private readonly seen = new Map<string, JobState>();
  private readonly ids: string[];

  constructor(private readonly options: WorkloadOptions) {
    this.ids = [...options.urls.keys()];
  }

  /** Printers and spools every job needs, through any node that answers. */
  async setup(): Promise<void> {
    const writes: [string, unknown][] = [
      ...PRINTERS.map((id): [string, unknown] => ['printers', { id, company: 'Prusa', model: 'MK4' }]),
      ...FILAMENTS.map((id): [string, unknown] => [
        'filaments',
        {
          id,
          type: 'PLA',
          color: 'red',
          total_weight_in_grams: FILAMENT_GRAMS,
          remaining_weight_in_grams: FILAMENT_GRAMS,
        },
      ]),
    ];
    for (const [route, body] of writes) {
      const deadline = performance.now() + 30_000;
      for (let i = 0; ; i++) {
        const url = this.options.urls.get(this.ids[i % this.ids.length]!)!;
        try {
          const res = await call(
            `${url}/api/v1/${route}`,
            'POST',
            body,
            3000,
            `setup-${route}-${(body as { id: string }).id}`,
          );
          if (res.status === 201) break;
        } catch {
          // try the next node
        }
        if (performance.now() > deadline) throw new Error(`setup: could not create ${route}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  start(): void {
    this.running = true;
    for (let c = 0; c < this.options.clients; c++) this.loops.push(this.loop(c));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** One probe write through `node` (used to measure recovery); recorded like any create. */
  async probe(node: string, timeoutMs: number): Promise<boolean> {
    const printer = `probe-${node}-${++this.seq}`;
    const entry = await this.run(
      -1,
      node,
      { kind: 'create-printer', printer, keyed: true, probe: true },
      timeoutMs,
    );
    return entry.outcome === 'ok' && entry.result === 'created';
  }

  private async loop(client: number): Promise<void> {
    const prng = new SeededPrng(this.options.seed * 1000 + client);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(prng.next() * list.length)]!;
    while (this.running) {
      const node = pick(this.ids);
      const op = this.nextOp(prng, pick, client);
      await this.run(client, node, op, this.options.timeoutMs);
      await new Promise((r) => setTimeout(r, prng.next() * 20));
    }
  }

  private nextOp(prng: SeededPrng, pick: <T>(list: readonly T[]) => T, client: number): Op {
    const r = prng.next();
    const hot = this.jobs.slice(-6);
    if (hot.length < 3 || r < 0.08) {
      const job = `j${client}-${++this.seq}`;
      return {
        kind: 'create-job',
        job,
        filament: pick(FILAMENTS),
        weight: 5 + Math.floor(prng.next() * 60),
        keyed: prng.next() < 0.5,
      };
    }
    const job = pick(hot);
    if (r < 0.5) {
      const state = this.seen.get(job) ?? 'Queued';
      const legal = state === 'absent' ? [] : LEGAL[state];
      const to: JobStatus =
        legal.length > 0 && prng.next() < 0.8 ? pick(legal) : pick(['Running', 'Done', 'Canceled'] as const);
      return { kind: 'transition', job, to };
    }
    if (r < 0.8) {
      const consistency: Consistency =
        prng.next() < 0.5 ? 'linearizable' : prng.next() < 0.5 ? 'leader' : 'stale';
      return { kind: 'read-job', job, consistency };
    }
    if (r < 0.9) return { kind: 'read-filament', filament: pick(FILAMENTS) };
    return {
      kind: 'create-printer',
      printer: `pr${client}-${++this.seq}`,
      keyed: prng.next() < 0.5,
      probe: false,
    };
  }

  private async run(client: number, node: string, op: Op, timeoutMs: number): Promise<Entry> {
    const base = this.options.urls.get(node)!;
    const entry: Entry = {
      client,
      node,
      op,
      call: performance.now(),
      ret: 0,
      outcome: 'info',
      result: null,
      detail: '',
    };
    this.entries.push(entry);
    if (op.kind === 'create-job') {
      this.jobs.push(op.job);
      if (this.jobs.length > 200) this.jobs.splice(0, 100);
    }
    const key =
      'keyed' in op && op.keyed
        ? `k-${op.kind}-${'job' in op ? op.job : op.kind === 'create-printer' ? op.printer : ''}`
        : undefined;
    const attempts = key !== undefined ? 2 : 1;
    let firstUncertain = false;
    const uncertain = (x: Entry): boolean => firstUncertain || x.outcome === 'info';
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) firstUncertain = true;
      // A keyed retry goes to another node: the first may be the one that is down.
      const via =
        attempt === 0
          ? base
          : this.options.urls.get(this.ids[(this.ids.indexOf(node) + 1) % this.ids.length]!)!;
      await this.once(entry, via, op, timeoutMs, key);
      if (entry.outcome !== 'info') break;
    }
    // A retry that was refused does not undo a first attempt that may have landed.
    if (attempts > 1 && entry.outcome === 'fail' && uncertain(entry)) entry.outcome = 'info';
    entry.ret = performance.now();
    return entry;
  }

  private async once(
    entry: Entry,
    base: string,
    op: Op,
    timeoutMs: number,
    key: string | undefined,
  ): Promise<void> {
    const request = this.request(op);
    let answer: Answer;
    try {
      answer = await call(`${base}${request.path}`, request.method, request.body, timeoutMs, key);
    } catch (error) {
      const c = classifyError(error);
      // A read that failed tells nothing either way; a write that was never sent did not happen.
      entry.outcome = request.method === 'GET' ? 'fail' : c.outcome;
      entry.detail = c.detail;
      return;
    }
    const code = codeOf(answer.body);
    entry.detail = `${answer.status}${code ? ` ${code}` : ''}`;
    const result = this.interpret(op, answer, code);
    if (result === undefined) {
      entry.outcome = request.method === 'GET' ? 'fail' : classifyServerError(answer.status, code);
      return;
    }
    entry.outcome = 'ok';
    entry.result = result;
    if (op.kind === 'read-job' && typeof result === 'string') this.seen.set(op.job, result as JobState);
    if (op.kind === 'transition' && result === 'ok') this.seen.set(op.job, op.to);
    if (op.kind === 'create-job' && result === 'created') this.seen.set(op.job, 'Queued');
  }

  private request(op: Op): { path: string; method: 'GET' | 'POST'; body?: unknown } {
    switch (op.kind) {
      case 'create-job':
        return {
          path: '/api/v1/print_jobs',
          method: 'POST',
          body: {
            id: op.job,
            printer_id: PRINTERS[op.weight % PRINTERS.length],
            filament_id: op.filament,
            filepath: `prints/${op.job}.gcode`,
            print_weight_in_grams: op.weight,
          },
        };
      case 'transition':
        return { path: `/api/v1/print_jobs/${op.job}/status?status=${op.to}`, method: 'POST', body: {} };
      case 'read-job':
        return { path: `/api/v1/print_jobs/${op.job}?consistency=${op.consistency}`, method: 'GET' };
      case 'read-filament':
        return { path: `/api/v1/filaments/${op.filament}`, method: 'GET' };
      case 'create-printer':
        return {
          path: '/api/v1/printers',
          method: 'POST',
          body: { id: op.printer, company: 'Prusa', model: 'MK4' },
        };
    }
  }

  /** The result an answer stands for, or undefined when it is not a result (5xx, odd status). */
  private interpret(op: Op, answer: Answer, code: string | undefined): Result | undefined {
    const { status, body } = answer;
    switch (op.kind) {
      case 'create-job':
      case 'create-printer':
        if (status === 201) return 'created';
        if (status === 409 && code === 'duplicate_id') return 'duplicate';
        if (status === 409 || status === 404) return 'refused';
        return undefined;
      case 'transition':
        if (status === 200) return 'ok';
        if (status === 409 && code === 'invalid_transition') return 'invalid';
        if (status === 404) return 'notfound';
        return undefined;
      case 'read-job':
        if (status === 200) return (body as { status: JobStatus }).status;
        if (status === 404 && code === 'print_job_not_found') return 'absent';
        return undefined;
      case 'read-filament':
        return status === 200 ? (body as FilamentView) : undefined;
    }
  }
}
