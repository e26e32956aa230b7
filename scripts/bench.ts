// `npm run bench`: fresh local 3-node clusters of real processes (production timings, fsync
// on), driven by autocannon from this process: create-printer writes/s with p50/p99 at 1, 16
// and 64 clients, reads/s at 64 clients (linearizable on all nodes and on the leader, stale),
// and this disk's fsync/s measured the way storage writes. Every row runs --repeat times
// (default 3) on a fresh cluster each time; the table shows the median and the spread.
//
// `--vs etcd` runs a 3-member etcd (Debian's etcd-server) with the same loader right before
// and after each Raft3D run (etcd, Raft3D, etcd, Raft3D, etcd...), so each Raft3D run is
// compared with the mean of the two etcd runs around it: a ratio, never an old number.
// The machine is shared and noisy, so the load average is printed with each run.
// Options: --duration <s> (default 10), --repeat <n> (default 3), --vs etcd,
// --rows w1,w16,w64,rl-all,rl-leader,rs-all (default all), --json <file>; for experiments on
// Raft3D alone: --snapshot-every <n> (the nodes' RAFT3D_SNAPSHOT_EVERY), --node-args='<flags>'
// (e.g. '--trace-gc', or '--cpu-prof --cpu-prof-dir=/tmp/prof': profiles are written as the
// nodes stop).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessCluster } from '../test/helpers/process-cluster.js';
import { postJson } from '../test/helpers/load.js';
import { measureFsyncRate } from '../src/storage/index.js';
import { EtcdCluster, ETCD_INSTALL_HINT, etcdBinary, etcdBodies, etcdVersion } from './bench/etcd-cluster.js';
import { median, runLoad } from './bench/load.js';
import type { LoadResult, LoadSpec } from './bench/load.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '3' },
    vs: { type: 'string' },
    rows: { type: 'string' },
    json: { type: 'string' },
    'snapshot-every': { type: 'string' },
    'node-args': { type: 'string' },
  },
});
const seconds = Number(values.duration);
const repeat = Math.max(1, Number(values.repeat));
if (values.vs !== undefined && values.vs !== 'etcd') {
  console.error(`--vs: only etcd is supported, not ${values.vs}`);
  process.exit(2);
}

type Kind = 'write' | 'read-linearizable-all' | 'read-linearizable-leader' | 'read-stale-all';

interface Workload {
  readonly key: string;
  readonly name: string;
  readonly kind: Kind;
  readonly clients: number;
}

const WORKLOADS: readonly Workload[] = [
  { key: 'w1', name: 'write', kind: 'write', clients: 1 },
  { key: 'w16', name: 'write', kind: 'write', clients: 16 },
  { key: 'w64', name: 'write', kind: 'write', clients: 64 },
  { key: 'rl-all', name: 'read: linearizable, all nodes', kind: 'read-linearizable-all', clients: 64 },
  { key: 'rl-leader', name: 'read: linearizable, leader', kind: 'read-linearizable-leader', clients: 64 },
  { key: 'rs-all', name: 'read: stale/serializable, all nodes', kind: 'read-stale-all', clients: 64 },
];
const wanted = values.rows?.split(',').map((s) => s.trim());
const workloads = WORKLOADS.filter((w) => !wanted || wanted.includes(w.key));

/** One system under test, started fresh for each run. */
interface System {
  readonly name: string;
  /** Starts the cluster, writes the record the reads fetch, warms up; returns the load specs. */
  start(): Promise<{ spec: (w: Workload) => LoadSpec; stop: () => Promise<void> }>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const PRINTER = JSON.stringify({ company: 'Prusa', model: 'MK4' });

const raft3d: System = {
  name: 'Raft3D',
  async start() {
    const cluster = await ProcessCluster.start({
      size: 3,
      tickMs: 50,
      electionTicks: 10,
      ...(values['snapshot-every'] ? { snapshotEvery: Number(values['snapshot-every']) } : {}),
      ...(values['node-args'] ? { nodeArgs: values['node-args'].split(' ') } : {}),
    });
    try {
      const leader = await cluster.waitForLeader(30_000);
      const created = await postJson(`${leader.url}/api/v1/printers`, {
        id: 'bench-read',
        company: 'Prusa',
        model: 'XL',
      });
      if (created.status !== 201)
        throw new Error(`setup write failed: ${created.status} ${JSON.stringify(created.body)}`);
      const all = cluster.nodes.map((n) => n.url);
      const read = '/api/v1/printers/bench-read';
      const spec = (w: Workload): LoadSpec => {
        const base = { clients: w.clients, seconds };
        switch (w.kind) {
          case 'write':
            return {
              ...base,
              urls: [`${leader.url}/api/v1/printers`],
              method: 'POST',
              body: PRINTER,
              headers: JSON_HEADERS,
            };
          case 'read-linearizable-all':
            return { ...base, urls: all.map((u) => u + read), method: 'GET' };
          case 'read-linearizable-leader':
            return { ...base, urls: [leader.url + read], method: 'GET' };
          case 'read-stale-all':
            return { ...base, urls: all.map((u) => `${u + read}?consistency=stale`), method: 'GET' };
        }
      };
      await runLoad({ ...spec(WORKLOADS[1]!), seconds: 3 });
      const stop = async (): Promise<void> => {
        if (values['node-args']?.includes('--trace-gc'))
          for (const n of cluster.nodes) console.error(`--- ${n.id} (last lines)\n${n.output.slice(-6000)}`);
        // A CPU or heap profile is written when the process exits normally (SIGTERM), not on kill -9.
        if (/--(cpu|heap)-prof/.test(values['node-args'] ?? ''))
          await Promise.all(cluster.nodes.map((n) => cluster.terminate(n.id)));
        await cluster.stop();
      };
      return { spec, stop };
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  },
};

function etcd(bin: string): System {
  return {
    name: 'etcd',
    async start() {
      const cluster = await EtcdCluster.start(bin, 3);
      try {
        const leader = await cluster.waitForLeader(30_000);
        const setup = await fetch(`${leader}/v3/kv/put`, {
          method: 'POST',
          body: etcdBodies.put('bench-read', '{"company":"Prusa","model":"XL"}'),
        });
        if (!setup.ok) throw new Error(`etcd setup write failed: ${setup.status} ${await setup.text()}`);
        const all = cluster.members.map((m) => m.clientUrl);
        const spec = (w: Workload): LoadSpec => {
          const base = { clients: w.clients, seconds, method: 'POST' as const, headers: JSON_HEADERS };
          switch (w.kind) {
            case 'write':
              // etcd's own `benchmark put` writes one key by default (--key-space-size=1).
              return { ...base, urls: [`${leader}/v3/kv/put`], body: etcdBodies.put('bench-write', PRINTER) };
            case 'read-linearizable-all':
              return {
                ...base,
                urls: all.map((u) => `${u}/v3/kv/range`),
                body: etcdBodies.range('bench-read', false),
              };
            case 'read-linearizable-leader':
              return {
                ...base,
                urls: [`${leader}/v3/kv/range`],
                body: etcdBodies.range('bench-read', false),
              };
            case 'read-stale-all':
              return {
                ...base,
                urls: all.map((u) => `${u}/v3/kv/range`),
                body: etcdBodies.range('bench-read', true),
              };
          }
        };
        await runLoad({ ...spec(WORKLOADS[1]!), seconds: 3 });
        return { spec, stop: () => cluster.stop() };
      } catch (error) {
        await cluster.stop();
        throw error;
      }
    },
  };
}

interface Run {
  readonly system: string;
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly rows: Record<string, LoadResult>;
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

async function measure(system: System, index: number): Promise<Run> {
  const loadBefore = loadAverage();
  console.error(`[${new Date().toISOString()}] ${system.name} run ${index}, load average ${loadBefore}`);
  const started = await system.start();
  const rows: Record<string, LoadResult> = {};
  try {
    for (const w of workloads) {
      rows[w.key] = await runLoad(started.spec(w));
      const r = rows[w.key]!;
      console.error(
        `  ${w.key.padEnd(9)} ${r.perSecond.toFixed(0).padStart(6)}/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  CPU ${r.cpuUsPerOp.toFixed(0)} µs/op  errors ${r.errors}`,
      );
    }
  } finally {
    await started.stop();
  }
  return { system: system.name, loadBefore, loadAfter: loadAverage(), rows };
}

const fmt = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const spread = (vs: readonly number[], digits = 0): string =>
  `${fmt(median(vs), digits)} (${fmt(Math.min(...vs), digits)}–${fmt(Math.max(...vs), digits)})`;

const cpu = (rs: readonly LoadResult[]): string => fmt(median(rs.map((r) => r.cpuUsPerOp)));

function table(ours: readonly Run[], theirs: readonly Run[]): string {
  const vs = theirs.length > 0;
  const head = vs
    ? '| workload | clients | Raft3D ops/s | etcd ops/s | ratio | Raft3D p50 ms | etcd p50 ms | Raft3D p99 ms | etcd p99 ms | CPU µs/op Raft3D | CPU µs/op etcd | errors |'
    : '| workload | clients | Raft3D ops/s | p50 ms | p99 ms | CPU µs/op | errors |';
  const columns = head.split('|').length - 2;
  const lines = [head, `|---|${'---:|'.repeat(columns - 1)}`];
  for (const w of workloads) {
    const mine = ours.map((r) => r.rows[w.key]!);
    const errors = [...ours, ...theirs].reduce((n, r) => n + (r.rows[w.key]?.errors ?? 0), 0);
    if (!vs) {
      lines.push(
        `| ${w.name} | ${w.clients} | ${spread(mine.map((r) => r.perSecond))} | ${fmt(median(mine.map((r) => r.p50Ms)), 2)} | ${fmt(median(mine.map((r) => r.p99Ms)), 2)} | ${cpu(mine)} | ${errors} |`,
      );
      continue;
    }
    const other = theirs.map((r) => r.rows[w.key]!);
    // Raft3D run i sits between etcd runs i and i+1: compare it with their mean.
    const ratios = mine.map((r, i) => r.perSecond / ((other[i]!.perSecond + other[i + 1]!.perSecond) / 2));
    lines.push(
      `| ${w.name} | ${w.clients} | ${spread(mine.map((r) => r.perSecond))} | ${spread(other.map((r) => r.perSecond))} | ${spread(ratios, 2)} | ` +
        `${fmt(median(mine.map((r) => r.p50Ms)), 2)} | ${fmt(median(other.map((r) => r.p50Ms)), 2)} | ` +
        `${fmt(median(mine.map((r) => r.p99Ms)), 2)} | ${fmt(median(other.map((r) => r.p99Ms)), 2)} | ` +
        `${cpu(mine)} | ${cpu(other)} | ${errors} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  let etcdSystem: System | null = null;
  let version = '';
  if (values.vs === 'etcd') {
    const bin = etcdBinary();
    if (bin === null) {
      console.error(ETCD_INSTALL_HINT);
      process.exit(2);
    }
    etcdSystem = etcd(bin);
    version = etcdVersion(bin);
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'raft3d-fsync-'));
  const fsyncPerSecond = await measureFsyncRate(scratch, 3);
  rmSync(scratch, { recursive: true, force: true });
  const loadAtStart = loadAverage();

  const ours: Run[] = [];
  const theirs: Run[] = [];
  if (etcdSystem) theirs.push(await measure(etcdSystem, 0));
  for (let i = 1; i <= repeat; i++) {
    ours.push(await measure(raft3d, i));
    if (etcdSystem) theirs.push(await measure(etcdSystem, i));
  }

  const report = {
    date: new Date().toISOString(),
    durationSeconds: seconds,
    repeat,
    cpus: os.cpus().length,
    fsyncPerSecond,
    loadAverage: { start: loadAtStart, end: loadAverage() },
    etcd: etcdSystem ? version : null,
    runs: [...ours, ...theirs],
  };
  console.log(
    `${report.date}: ${repeat} run(s) of ${seconds} s per row, ${report.cpus} cpus, ` +
      `fsync/s ${fsyncPerSecond.toFixed(0)} (level batch, sync), load average ${loadAtStart} at start, ${report.loadAverage.end} at end` +
      (etcdSystem ? `; etcd ${version} before and after each Raft3D run` : ''),
  );
  console.log(
    "(ops/s and ratio: median (min–max) over the runs; latencies and CPU: median over the runs; CPU µs/op: the whole machine's busy time, loader included, per successful operation)",
  );
  console.log(table(ours, theirs));
  console.log(
    `load average per run: ${[
      ...theirs.slice(0, 1),
      ...ours.flatMap((r, i) => [r, ...theirs.slice(i + 1, i + 2)]),
    ]
      .map((r) => `${r.system} ${r.loadBefore}`)
      .join('; ')}`,
  );
  console.log(JSON.stringify(report));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

await main();
