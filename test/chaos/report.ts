// The chaos report: per fault kind, the fraction of workload operations that succeeded
// during the fault (start to recovery), the longest gap between acknowledged writes, the
// time to a new leader and the time until every node served again after the heal.

import { staleReads } from './checks.js';
import type { Entry } from './history.js';
import type { FaultRecord, RunResult } from './run.js';

const isWrite = (e: Entry): boolean =>
  e.op.kind === 'create-job' || e.op.kind === 'transition' || (e.op.kind === 'create-printer' && !e.op.probe);

function longestWriteGap(entries: readonly Entry[], from: number, to: number): number {
  const acks = entries
    .filter((e) => isWrite(e) && e.outcome === 'ok' && e.ret >= from && e.ret <= to)
    .map((e) => e.ret)
    .sort((a, b) => a - b);
  let last = from;
  let gap = 0;
  for (const at of [...acks, to]) {
    gap = Math.max(gap, at - last);
    last = at;
  }
  return gap;
}

const ms = (v: number | null): string =>
  v === null ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
const max = (vs: readonly (number | null)[]): number | null => {
  const real = vs.filter((v): v is number => v !== null);
  return real.length === 0 ? null : Math.max(...real);
};

interface Row {
  kind: string;
  n: number;
  ok: number;
  total: number;
  gap: number;
  leader: (number | null)[];
  recovery: (number | null)[];
}

export function formatReport(result: RunResult): string {
  const { entries, faults } = result;
  const rows = new Map<string, Row>();
  for (const f of faults) {
    const row = rows.get(f.kind) ?? { kind: f.kind, n: 0, ok: 0, total: 0, gap: 0, leader: [], recovery: [] };
    const ops = entries.filter((e) => e.client >= 0 && e.call >= f.start && e.call <= f.end);
    row.n++;
    row.total += ops.length;
    row.ok += ops.filter((e) => e.outcome === 'ok').length;
    row.gap = Math.max(row.gap, longestWriteGap(entries, f.start, f.end));
    row.leader.push(f.newLeaderMs);
    row.recovery.push(f.recoveryMs);
    rows.set(f.kind, row);
  }
  const lines: string[] = [];
  lines.push(
    `seed ${result.seed}, ${result.nodes} nodes, election timeout ${result.electionMs} ms (recovery budget ${3 * result.electionMs} ms)`,
  );
  lines.push('');
  lines.push(
    '| fault | n | ops ok | longest write gap | new leader after (max) | all nodes serve after heal (max) |',
  );
  lines.push('|---|---|---|---|---|---|');
  for (const r of [...rows.values()].sort((a, b) => a.kind.localeCompare(b.kind))) {
    const pct = r.total === 0 ? '—' : `${((100 * r.ok) / r.total).toFixed(0)} % of ${r.total}`;
    lines.push(
      `| ${r.kind} | ${r.n} | ${pct} | ${ms(r.gap)} | ${ms(max(r.leader))} | ${ms(max(r.recovery))} |`,
    );
  }
  const workload = entries.filter((e) => e.client >= 0);
  const okAll = workload.filter((e) => e.outcome === 'ok').length;
  const info = workload.filter((e) => e.outcome === 'info').length;
  lines.push('');
  lines.push(
    `operations: ${workload.length} (${okAll} ok, ${workload.length - okAll - info} failed, ${info} indeterminate), probes ${entries.length - workload.length}`,
  );
  const slow = [...faults]
    .sort((a, b) => (b.recoveryMs ?? Infinity) - (a.recoveryMs ?? Infinity))
    .slice(0, 3);
  lines.push(
    `slowest recoveries: ${slow.map((f) => `${f.description} ${ms(f.recoveryMs)}${f.restartMs !== null ? ` (after a ${ms(f.restartMs)} restart)` : ''}`).join('; ')}`,
  );
  lines.push(...leaderReadNote(entries, faults, result.electionMs));
  for (const f of faults) if (f.note) lines.push(`${f.kind}: ${f.note}`);
  return lines.join('\n');
}

/** Stale reads at consistency=leader, split by whether a fault (or its 3E aftermath) was active. */
function leaderReadNote(entries: readonly Entry[], faults: readonly FaultRecord[], e: number): string[] {
  const stale = staleReads(entries).get('leader') ?? [];
  const during = stale.filter((s) =>
    faults.some((f) => s.entry.call >= f.start && s.entry.call <= f.end + 3 * e),
  );
  const kinds = new Set(
    during.map((s) => faults.find((f) => s.entry.call >= f.start && s.entry.call <= f.end + 3 * e)!.kind),
  );
  return [
    `stale reads at consistency=leader: ${stale.length} (${during.length} during ${[...kinds].join(', ') || 'no fault'}, ${stale.length - during.length} with no fault active)`,
  ];
}
