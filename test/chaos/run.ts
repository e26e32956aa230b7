// One chaos run: a cluster of real processes in network namespaces, the workload running
// throughout, faults from the seeded schedule one after another (quiet, apply, hold, heal,
// measure recovery), then everything healed and the checks (checks.ts) over the history and
// every node's final state. Returns the per-fault measurements and the verdicts.

import { performance } from 'node:perf_hooks';
import {
  checkFilamentReads,
  checkFinalAccounting,
  checkJobs,
  lostCreates,
  lostTransitions,
  staleReads,
} from './checks.js';
import type { FinalState } from './checks.js';
import { applyFault, schedule, type AppliedFault, type FaultKind } from './faults.js';
import type { Entry } from './history.js';
import { NetnsCluster, sleep } from './netns-cluster.js';
import { Workload } from './workload.js';

export interface RunOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly durationMs: number;
  readonly kinds: readonly FaultKind[];
  readonly clients?: number;
  readonly log?: (line: string) => void;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly description: string;
  readonly start: number;
  /** When the heal was done (for restarts: when every restarted process answered /healthz). */
  healedAt: number;
  /** From the fault's start to a leader other than the one before (null: the leader never changed). */
  newLeaderMs: number | null;
  /** From the heal until every node had acknowledged a write sent through it (null: not within 30 s). */
  recoveryMs: number | null;
  /** Time for restarted processes to answer /healthz after being started (restarts only). */
  restartMs: number | null;
  /** Window of the fault for workload statistics: start .. healedAt + recovery. */
  end: number;
  note: string;
}

export interface RunResult {
  readonly seed: number;
  readonly nodes: number;
  readonly electionMs: number;
  readonly faults: FaultRecord[];
  readonly entries: readonly Entry[];
  readonly failures: string[];
  readonly notes: string[];
}

interface LeaderSample {
  readonly at: number;
  readonly leader: string | null;
  readonly term: number;
}

export async function runChaos(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? (() => undefined);
  const cluster = NetnsCluster.start({
    size: options.nodes,
    tickMs: 50,
    electionTicks: 10,
    snapshotEvery: 2_000,
    tmpfs: { ids: Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`), mib: 96 },
  });
  const onSignal = (): void => {
    cluster.stopSync();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const e = cluster.electionTimeoutMs;
  const failures: string[] = [];
  const notes: string[] = [];
  const faults: FaultRecord[] = [];
  const samples: LeaderSample[] = [];
  const terms = new Map<FaultRecord, number>();
  let sampling = true;
  let workload: Workload | null = null;
  try {
    await cluster.waitForLeader(30_000);
    const urls = new Map(cluster.nodes.map((n) => [n.id, n.url]));
    workload = new Workload({ clients: options.clients ?? 6, seed: options.seed, timeoutMs: 2 * e, urls });
    await workload.setup();
    const sampler = (async () => {
      while (sampling) {
        const statuses = await Promise.all(
          cluster.nodes.map((n) => (n.process && !n.paused ? cluster.status(n.id, 300) : null)),
        );
        const leader = statuses.find(
          (s) =>
            s?.role === 'leader' && statuses.filter((o) => o?.leader === s.id).length > options.nodes / 2,
        );
        samples.push({ at: performance.now(), leader: leader?.id ?? null, term: leader?.term ?? 0 });
        await sleep(100);
      }
    })();
    workload.start();
    const started = performance.now();
    const plan = schedule(options.seed, options.kinds, 1000, e, options.durationMs >= 180_000);
    for (const planned of plan) {
      const left = options.durationMs - (performance.now() - started);
      if (left < 5_000) break;
      if (planned.quietMs + planned.holdMs > left) continue;
      await sleep(planned.quietMs);
      const leader = await cluster.waitForLeader(30_000).catch(() => null);
      if (leader === null) {
        failures.push(`no leader before ${planned.kind}`);
        break;
      }
      const termBefore = (await cluster.status(leader))?.term ?? 0;
      const start = performance.now();
      const applied = await applyFault(cluster, planned, leader, leader);
      log(
        `  ${((start - started) / 1000).toFixed(1).padStart(6)} s  ${applied.description} for ${(planned.holdMs / 1000).toFixed(1)} s`,
      );
      const record: FaultRecord = {
        kind: planned.kind,
        description: applied.description,
        start,
        healedAt: start,
        newLeaderMs: null,
        recoveryMs: null,
        restartMs: null,
        end: start,
        note: '',
      };
      faults.push(record);
      await hold(cluster, applied, planned.holdMs, record, e, failures);
      await applied.heal();
      if (applied.kind === 'disk-full') await restartIfStopped(cluster, applied.targets[0]!, record);
      if (applied.restart.length > 0) {
        const t0 = performance.now();
        for (const id of applied.restart) cluster.startNode(id);
        await Promise.all(applied.restart.map((id) => waitHealthy(cluster, id, 30_000)));
        record.restartMs = performance.now() - t0;
      }
      record.healedAt = performance.now();
      record.recoveryMs = await recovery(cluster, workload, e);
      record.end = performance.now();
      terms.set(record, termBefore);
      if (record.recoveryMs === null || record.recoveryMs > 3 * e) {
        failures.push(
          `${applied.description}: every node served again ${record.recoveryMs === null ? 'not within 30 s' : `${record.recoveryMs.toFixed(0)} ms`} after the heal (budget ${3 * e} ms)`,
        );
      }
    }
    await workload.stop();
    sampling = false;
    await sampler;
    // The sampler lags the faults a little: a leader of a newer term is looked up once it stopped.
    for (const [record, termBefore] of terms) {
      const change = samples.find(
        (s) => s.at >= record.start && s.at <= record.end && s.leader !== null && s.term > termBefore,
      );
      record.newLeaderMs = change ? change.at - record.start : null;
    }
    await cluster.lab.heal();
    for (const n of cluster.nodes) {
      cluster.resume(n.id);
      cluster.unfillDisk(n.id);
      if (!n.process) cluster.startNode(n.id);
    }
    const finals = await converge(cluster, failures);
    check(workload.entries, finals, failures, notes, faults, e);
  } catch (error) {
    failures.push(`run aborted: ${(error as Error).stack ?? String(error)}`);
  } finally {
    sampling = false;
    if (workload) await workload.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (failures.length > 0) notes.push(`node output at the end:\n${cluster.dump()}`);
    await cluster.stop();
  }
  return {
    seed: options.seed,
    nodes: options.nodes,
    electionMs: e,
    faults,
    entries: workload?.entries ?? [],
    failures,
    notes,
  };
}

/**
 * Holds a fault; the disk-full one is checked meanwhile. Its node either refuses writes,
 * clearly (storage failed: /healthz not 200, ENOSPC in its log), or keeps taking them into the
 * log segment it zeroed before the disk filled: those writes are durable, and are checked like
 * every other acknowledged write. It must never take a write it could not store.
 */
async function hold(
  cluster: NetnsCluster,
  applied: AppliedFault,
  holdMs: number,
  record: FaultRecord,
  e: number,
  failures: string[],
): Promise<void> {
  if (applied.kind !== 'disk-full') return sleep(holdMs);
  const id = applied.targets[0]!;
  await sleep(Math.min(holdMs, 4 * e));
  // One attempt at that node alone (the workload's keyed retry would go to another node).
  const answer = await fetch(`${cluster.node(id).url}/api/v1/printers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: `full-${id}-${Math.round(record.start)}`, company: 'Prusa', model: 'MK4' }),
    signal: AbortSignal.timeout(2 * e),
  }).then(
    async (r) => `${r.status} ${((await r.json().catch(() => ({}))) as { code?: string }).code ?? ''}`.trim(),
    (error: unknown) => `no answer (${(error as Error).name})`,
  );
  const ok = answer.startsWith('2');
  const healthz = await fetch(`${cluster.node(id).url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.status,
    () => 0,
  );
  const said = /ENOSPC|no space/i.test(cluster.node(id).output);
  record.note = `write sent to ${id}: ${answer}; /healthz ${healthz}; log names ENOSPC: ${said}`;
  const refusedClearly = !ok && healthz !== 200 && said;
  const servingFromReservedSpace = ok && healthz === 200;
  if (servingFromReservedSpace) record.note += ' (into log space reserved before the disk filled)';
  if (!refusedClearly && !servingFromReservedSpace)
    failures.push(
      `${applied.description}: ${record.note} (a full disk must either stop writes with a clear error or leave the node serving from reserved log space)`,
    );
  await sleep(Math.max(0, holdMs - 4 * e));
}

async function restartIfStopped(cluster: NetnsCluster, id: string, record: FaultRecord): Promise<void> {
  const healthy = await fetch(`${cluster.node(id).url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (healthy) return;
  // A node whose storage failed stops serving for good (as Kubernetes' liveness probe would, restart it).
  await cluster.kill(id);
  const t0 = performance.now();
  cluster.startNode(id);
  await waitHealthy(cluster, id, 30_000);
  record.restartMs = performance.now() - t0;
  record.note += '; restarted after the disk was freed';
}

async function waitHealthy(cluster: NetnsCluster, id: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const ok = await fetch(`${cluster.node(id).url}/healthz`, { signal: AbortSignal.timeout(500) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${id} did not start within ${timeoutMs} ms\n${cluster.dump()}`);
}

/** From now until every node has acknowledged a probe write sent through it; null after 30 s. */
async function recovery(cluster: NetnsCluster, workload: Workload, e: number): Promise<number | null> {
  const t0 = performance.now();
  const done = await Promise.all(
    cluster.nodes.map(async (n) => {
      while (performance.now() - t0 < 30_000) {
        const sent = performance.now();
        if (await workload.probe(n.id, 2 * e)) return sent - t0;
        await sleep(Math.max(0, 100 - (performance.now() - sent)));
      }
      return null;
    }),
  );
  if (done.some((d) => d === null)) return null;
  return Math.max(...(done as number[]));
}

interface HashView {
  applied: number;
  hash: string;
}

/** Waits until every node has the same applied index and state hash; returns each node's state. */
async function converge(cluster: NetnsCluster, failures: string[]): Promise<FinalState[]> {
  await cluster.waitForLeader(30_000);
  const deadline = performance.now() + 60_000;
  let hashes: (HashView | null)[] = [];
  while (performance.now() < deadline) {
    // A write through the leader so every node must apply up to the same last index.
    hashes = await Promise.all(
      cluster.nodes.map((n) =>
        fetch(`${n.url}/cluster/state-hash`, { signal: AbortSignal.timeout(3000) })
          .then((r) => (r.ok ? (r.json() as Promise<HashView>) : null))
          .catch(() => null),
      ),
    );
    const first = hashes[0];
    if (first && hashes.every((h) => h && h.applied === first.applied && h.hash === first.hash)) break;
    await sleep(500);
  }
  const first = hashes[0];
  if (!first || !hashes.every((h) => h && h.applied === first.applied && h.hash === first.hash)) {
    failures.push(`replicas did not converge within 60 s: ${JSON.stringify(hashes)}`);
  }
  return Promise.all(
    cluster.nodes.map(async (n): Promise<FinalState> => {
      const get = async <T>(route: string): Promise<T> => {
        const r = await fetch(`${n.url}/api/v1/${route}?consistency=stale`, {
          signal: AbortSignal.timeout(10_000),
        });
        return (await r.json()) as T;
      };
      return {
        node: n.id,
        jobs: await get('print_jobs'),
        filaments: await get('filaments'),
        printers: await get('printers'),
      };
    }),
  );
}

function check(
  entries: readonly Entry[],
  finals: readonly FinalState[],
  failures: string[],
  notes: string[],
  faults: readonly FaultRecord[],
  e: number,
): void {
  const verdicts = checkJobs(entries);
  const bad = verdicts.filter((v) => !v.ok);
  const unknown = verdicts.filter((v) => v.gaveUp);
  notes.push(
    `linearizability: ${verdicts.length} jobs checked, ${bad.length} not linearizable, ${unknown.length} too large to decide`,
  );
  for (const v of bad) {
    const history = entries
      .filter((x) => 'job' in x.op && x.op.job === v.job)
      .map(
        (x) =>
          `    c${x.client} ${x.node} [${x.call.toFixed(1)}, ${x.ret.toFixed(1)}] ${JSON.stringify(x.op)} -> ${x.outcome} ${JSON.stringify(x.result)} (${x.detail})`,
      );
    failures.push(`job ${v.job} (${v.ops} ops) is not linearizable:\n${history.join('\n')}`);
  }
  for (const f of finals) {
    for (const lost of lostCreates(entries, f))
      failures.push(`acknowledged create lost on ${f.node}: ${lost}`);
    for (const lost of lostTransitions(entries, f))
      failures.push(`acknowledged transition lost on ${f.node}: ${lost}`);
    for (const p of checkFinalAccounting(f)) failures.push(`final weight accounting: ${p}`);
  }
  for (const p of checkFilamentReads(entries))
    failures.push(`weight accounting at a linearizable read: ${p}`);
  const stale = staleReads(entries);
  const reads = (c: string): number =>
    entries.filter((x) => x.op.kind === 'read-job' && x.op.consistency === c && x.outcome === 'ok').length;
  for (const [level, list] of stale) {
    notes.push(`stale reads at consistency=${level}: ${list.length} of ${reads(level)}`);
  }
  for (const s of stale.get('linearizable')!) {
    failures.push(
      `stale linearizable read of ${(s.entry.op as { job: string }).job} on ${s.entry.node}: saw ${s.saw} after ${s.acknowledged} was acknowledged`,
    );
  }
  // consistency=leader is a lease read: stale only if the leader was paused between its lease
  // check and its answer (docs/api.md, "What consistency=leader assumes").
  const paused = faults.filter((f) => f.kind === 'pause-leader');
  for (const s of stale.get('leader')!) {
    if (paused.some((f) => s.entry.call <= f.end + 3 * e && s.entry.ret >= f.start)) continue;
    failures.push(
      `stale consistency=leader read of ${(s.entry.op as { job: string }).job} on ${s.entry.node} with no leader paused: saw ${s.saw} after ${s.acknowledged} was acknowledged`,
    );
  }
}
