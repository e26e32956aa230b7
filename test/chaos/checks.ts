// The chaos suite's checks over a recorded history and the cluster's final state:
//  - each print job is a register driven by compare-and-set transitions, checked for
//    linearizability with the simulator's Wing & Gong / Lowe checker (test/sim);
//  - stale reads per consistency level (a read older than a write acknowledged before it);
//  - weight accounting at each linearizable filament read (bounds from what the clients
//    know) and exactly on the final state;
//  - no acknowledged create lost, on every node.

import { checkLinearizable, type Model, type Operation } from '../sim/linearizability.js';
import type { Consistency, Entry, FilamentView, JobState, JobStatus, Op, Result } from './history.js';
import { LEGAL, RANK } from './history.js';

export type JobInput = Extract<Op, { kind: 'create-job' | 'transition' | 'read-job' }>;

/** One job: absent, then Queued, then legal transitions only. */
export const jobModel: Model<JobState, JobInput, Result> = {
  init: 'absent',
  step(state, input, output, pending) {
    switch (input.kind) {
      case 'create-job':
        if (pending) return { ok: true, state: state === 'absent' ? 'Queued' : state };
        if (output === 'created') return { ok: state === 'absent', state: 'Queued' };
        if (output === 'duplicate') return { ok: state !== 'absent', state };
        return { ok: state === 'absent', state }; // refused: capacity is checked after the duplicate id
      case 'transition': {
        const legal = state !== 'absent' && LEGAL[state].includes(input.to);
        if (pending) return { ok: true, state: legal ? input.to : state };
        if (output === 'ok') return { ok: legal, state: input.to };
        if (output === 'invalid') return { ok: state !== 'absent' && !legal, state };
        return { ok: state === 'absent', state }; // notfound
      }
      case 'read-job':
        return { ok: pending || output === state, state };
    }
  },
  key: (state) => state,
};

export interface JobVerdict {
  readonly job: string;
  readonly ok: boolean;
  readonly gaveUp: boolean;
  readonly ops: number;
}

/** Linearizability of every job's history (reads at `linearizable` only; failed ops dropped). */
export function checkJobs(entries: readonly Entry[]): JobVerdict[] {
  const byJob = new Map<string, Operation<JobInput, Result>[]>();
  for (const e of entries) {
    const op = e.op;
    if (op.kind !== 'create-job' && op.kind !== 'transition' && op.kind !== 'read-job') continue;
    if (op.kind === 'read-job' && op.consistency !== 'linearizable') continue;
    if (e.outcome === 'fail') continue;
    if (op.kind === 'read-job' && e.outcome === 'info') continue; // a read with no answer says nothing
    const list = byJob.get(op.job) ?? [];
    list.push({
      client: e.client,
      input: op,
      output: e.result,
      call: e.call,
      ret: e.outcome === 'info' ? Infinity : e.ret,
    });
    byJob.set(op.job, list);
  }
  return [...byJob].map(([job, history]) => {
    const r = checkLinearizable(jobModel, history, 2_000_000);
    return { job, ok: r.ok, gaveUp: r.gaveUp, ops: history.length };
  });
}

export interface StaleRead {
  readonly entry: Entry;
  readonly saw: JobState;
  readonly acknowledged: JobState;
}

/** Reads that returned a job state older than one acknowledged before the read was invoked. */
export function staleReads(entries: readonly Entry[]): Map<Consistency, StaleRead[]> {
  const acks = new Map<string, { at: number; state: JobState }[]>();
  for (const e of entries) {
    if (e.outcome !== 'ok') continue;
    const op = e.op;
    let state: JobState | null = null;
    if (op.kind === 'create-job' && e.result === 'created') state = 'Queued';
    if (op.kind === 'transition' && e.result === 'ok') state = op.to;
    if (state === null || (op.kind !== 'create-job' && op.kind !== 'transition')) continue;
    const list = acks.get(op.job) ?? [];
    list.push({ at: e.ret, state });
    acks.set(op.job, list);
  }
  const out = new Map<Consistency, StaleRead[]>([
    ['linearizable', []],
    ['leader', []],
    ['stale', []],
  ]);
  for (const e of entries) {
    if (e.op.kind !== 'read-job' || e.outcome !== 'ok') continue;
    const saw = e.result as JobState;
    let newest: JobState = 'absent';
    for (const a of acks.get(e.op.job) ?? [])
      if (a.at < e.call && RANK[a.state] > RANK[newest]) newest = a.state;
    if (RANK[saw] < RANK[newest]) out.get(e.op.consistency)!.push({ entry: e, saw, acknowledged: newest });
  }
  return out;
}

export interface JobFacts {
  readonly filament: string;
  readonly weight: number;
}

/** What the clients know about each job's filament and weight (from creates they sent). */
export function jobFacts(entries: readonly Entry[]): Map<string, JobFacts> {
  const facts = new Map<string, JobFacts>();
  for (const e of entries) {
    if (e.op.kind === 'create-job') facts.set(e.op.job, { filament: e.op.filament, weight: e.op.weight });
  }
  return facts;
}

/**
 * Weight accounting at each linearizable filament read: reserved <= remaining <= total, and
 * the weight used (total - remaining) lies between the weights of the jobs whose Done was
 * acknowledged before the read began and of those whose Done may have happened by its end.
 */
export function checkFilamentReads(entries: readonly Entry[]): string[] {
  const facts = jobFacts(entries);
  const dones = entries.filter(
    (e) =>
      e.op.kind === 'transition' &&
      e.op.to === 'Done' &&
      e.outcome !== 'fail' &&
      e.result !== 'invalid' &&
      e.result !== 'notfound',
  );
  const problems: string[] = [];
  for (const e of entries) {
    if (e.op.kind !== 'read-filament' || e.outcome !== 'ok') continue;
    const f = e.result as FilamentView;
    const id = e.op.filament;
    const used = f.total_weight_in_grams - f.remaining_weight_in_grams;
    let surely = 0;
    let maybe = 0;
    for (const d of dones) {
      const job = (d.op as { job: string }).job;
      const fact = facts.get(job);
      if (!fact || fact.filament !== id) continue;
      if (d.outcome === 'ok' && d.ret < e.call) surely += fact.weight;
      if (d.call < e.ret) maybe += fact.weight;
    }
    const where = `read of ${id} on ${e.node} at ${e.call.toFixed(0)} ms`;
    if (f.reserved_weight_in_grams > f.remaining_weight_in_grams)
      problems.push(
        `${where}: reserved ${f.reserved_weight_in_grams} > remaining ${f.remaining_weight_in_grams}`,
      );
    if (f.remaining_weight_in_grams < 0 || f.remaining_weight_in_grams > f.total_weight_in_grams)
      problems.push(
        `${where}: remaining ${f.remaining_weight_in_grams} outside 0..${f.total_weight_in_grams}`,
      );
    if (used < surely || used > maybe)
      problems.push(`${where}: ${used} g used, but Done jobs weigh between ${surely} and ${maybe} g`);
  }
  return problems;
}

export interface FinalState {
  readonly node: string;
  readonly jobs: readonly {
    id: string;
    filament_id: string;
    print_weight_in_grams: number;
    status: JobStatus;
  }[];
  readonly filaments: readonly ({ id: string } & FilamentView)[];
  readonly printers: readonly { id: string }[];
}

/** Exact accounting on one node's final state: remaining = total - Done weights, reserved = Queued/Running weights. */
export function checkFinalAccounting(state: FinalState): string[] {
  const problems: string[] = [];
  for (const f of state.filaments) {
    const mine = state.jobs.filter((j) => j.filament_id === f.id);
    const done = mine.filter((j) => j.status === 'Done').reduce((s, j) => s + j.print_weight_in_grams, 0);
    const active = mine
      .filter((j) => j.status === 'Queued' || j.status === 'Running')
      .reduce((s, j) => s + j.print_weight_in_grams, 0);
    if (f.remaining_weight_in_grams !== f.total_weight_in_grams - done)
      problems.push(
        `${state.node} ${f.id}: remaining ${f.remaining_weight_in_grams} != total ${f.total_weight_in_grams} - done ${done}`,
      );
    if (f.reserved_weight_in_grams !== active)
      problems.push(
        `${state.node} ${f.id}: reserved ${f.reserved_weight_in_grams} != queued/running ${active}`,
      );
    if (f.reserved_weight_in_grams > f.remaining_weight_in_grams)
      problems.push(
        `${state.node} ${f.id}: reserved ${f.reserved_weight_in_grams} > remaining ${f.remaining_weight_in_grams}`,
      );
  }
  return problems;
}

/** Acknowledged creates (jobs and printers) missing from a node's final state. */
export function lostCreates(entries: readonly Entry[], state: FinalState): string[] {
  const jobs = new Set(state.jobs.map((j) => j.id));
  const printers = new Set(state.printers.map((p) => p.id));
  const lost: string[] = [];
  for (const e of entries) {
    if (e.outcome !== 'ok' || e.result !== 'created') continue;
    if (e.op.kind === 'create-job' && !jobs.has(e.op.job)) lost.push(`job ${e.op.job}`);
    if (e.op.kind === 'create-printer' && !printers.has(e.op.printer)) lost.push(`printer ${e.op.printer}`);
  }
  return lost;
}

/** Every job's acknowledged final transition must be what the node holds (Done/Canceled are final). */
export function lostTransitions(entries: readonly Entry[], state: FinalState): string[] {
  const status = new Map(state.jobs.map((j) => [j.id, j.status]));
  const lost: string[] = [];
  for (const e of entries) {
    if (e.op.kind !== 'transition' || e.outcome !== 'ok' || e.result !== 'ok') continue;
    const now = status.get(e.op.job);
    if (now === undefined || RANK[now] < RANK[e.op.to] || (RANK[e.op.to] === 3 && now !== e.op.to))
      lost.push(`job ${e.op.job}: ${e.op.to} acknowledged, node has ${now ?? 'nothing'}`);
  }
  return lost;
}
