// `npm run scale -- [--sizes 10000,100000,1000000] [--snapshot-every N]`: how Raft3D's costs
// grow with the shop. For each size, in this process: the state machine's heap, snapshot
// encode time and size, restore time. Then on a fresh 3-node cluster of real processes
// filled with that many printers (64 clients): the leader's resident memory, an on-demand
// snapshot, 64-client write throughput for a few seconds, the restart time of a follower
// (kill -9, start from its data dir, until /readyz), and the catch-up time of a member whose
// was down for the whole fill (like a new member, it needs the leader's snapshot).

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { encodeCommand, PrintShop } from '../src/fsm/index.js';
import { ProcessCluster, sleep } from '../test/helpers/process-cluster.js';
import type { ProcessNode } from '../test/helpers/process-cluster.js';
import { runLoad } from './bench/load.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    'snapshot-every': { type: 'string' },
    seconds: { type: 'string', default: '5' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const seconds = Number(values.seconds);
const PRINTER = JSON.stringify({ company: 'Prusa', model: 'MK4' });
const progress = (what: string): void => console.error(`[${new Date().toISOString()}] ${what}`);
const mb = (bytes: number): string => (bytes / (1 << 20)).toFixed(1);

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The state machine alone, in this process. */
function fsmCosts(n: number): { heapMb: string; encodeMs: number; sizeMb: string; restoreMs: number } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const shop = new PrintShop();
  const at = Date.now();
  for (let i = 0; i < n; i++) {
    const command = {
      type: 'printer.create' as const,
      at,
      printer: { id: crypto.randomUUID(), company: 'Prusa', model: 'MK4' },
    };
    // Through the codec, as a replica applies it (strings not shared with the builder).
    shop.apply(JSON.parse(new TextDecoder().decode(encodeCommand(command))) as typeof command, {
      index: i + 1,
      term: 1,
    });
  }
  gc();
  const heap = process.memoryUsage().heapUsed - before;
  let t = performance.now();
  const bytes = shop.snapshot();
  const encodeMs = performance.now() - t;
  t = performance.now();
  new PrintShop().restore(bytes);
  const restoreMs = performance.now() - t;
  return { heapMb: mb(heap), encodeMs, sizeMb: mb(bytes.byteLength), restoreMs };
}

async function fill(url: string, n: number): Promise<number> {
  const started = performance.now();
  await autocannon({
    url: `${url}/api/v1/printers`,
    connections: 64,
    amount: n,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: PRINTER,
  });
  return (performance.now() - started) / 1000;
}

function rssMb(node: ProcessNode): string {
  const pid = node.process?.pid;
  if (!pid) return '-';
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return (kb / 1024).toFixed(0);
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T | null }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
    return { status: res.status, body: res.ok ? ((await res.json()) as T) : null };
  } catch {
    return { status: 0, body: null };
  }
}

/** ms from now until `node` answers /readyz and has applied at least `index`. */
async function untilReady(
  node: ProcessNode,
  index: number,
  timeoutMs = Number(process.env['SCALE_READY_TIMEOUT_MS'] ?? 600_000),
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const r = await json<{ applied: number }>(`${node.url}/readyz`);
    if (r.status === 200 && r.body && r.body.applied >= index) return performance.now() - started;
    await sleep(20);
  }
  const last = await json<unknown>(`${node.url}/cluster/status`);
  throw new Error(
    `${node.id} not ready after ${timeoutMs} ms: ${JSON.stringify(last.body)}\n${node.output.slice(-3000)}`,
  );
}

async function clusterCosts(n: number): Promise<Record<string, string>> {
  const cluster = await ProcessCluster.start({
    size: 3,
    tickMs: 50,
    electionTicks: 10,
    ...(values['snapshot-every'] ? { snapshotEvery: Number(values['snapshot-every']) } : {}),
  });
  try {
    const leader = await cluster.waitForLeader(30_000);
    // One member is down for the whole fill: later it has only the leader's snapshot to
    // catch up from, as a new member would.
    const [a, b] = cluster.nodes.filter((node) => node.id !== leader.id) as [ProcessNode, ProcessNode];
    await cluster.kill(b.id);
    progress(`filling ${n}`);
    const fillSeconds = await fill(leader.url, n);
    progress('filled');
    const rss = rssMb(leader);
    let t = performance.now();
    const snap = await json<{ index: number }>(`${leader.url}/cluster/snapshot`, { method: 'POST' });
    const snapshotMs = performance.now() - t;
    const commit = (await json<{ commit: number }>(`${leader.url}/cluster/status`)).body?.commit ?? 0;
    progress('restarting a follower');
    await cluster.kill(a.id);
    t = performance.now();
    cluster.startNode(a.id);
    await untilReady(a, commit);
    const restartMs = performance.now() - t;
    progress('the member that was down catches up');
    t = performance.now();
    cluster.startNode(b.id);
    await untilReady(b, commit);
    const catchUpMs = performance.now() - t;
    const write = await runLoad({
      urls: [`${leader.url}/api/v1/printers`],
      clients: 64,
      seconds,
      method: 'POST',
      body: PRINTER,
      headers: { 'content-type': 'application/json' },
    });
    return {
      fill: `${fillSeconds.toFixed(0)} s (${(n / fillSeconds).toFixed(0)}/s)`,
      leaderRssMb: rss,
      snapshotMs: snap.status === 200 ? snapshotMs.toFixed(0) : `failed (${snap.status})`,
      writes64: `${write.perSecond.toFixed(0)}/s, p99 ${write.p99Ms.toFixed(0)} ms`,
      restartMs: restartMs.toFixed(0),
      catchUpMs: catchUpMs.toFixed(0),
    };
  } finally {
    await cluster.stop();
  }
}

console.log(
  `scale: sizes ${sizes.join(', ')}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  '| records | FSM heap MB | snapshot encode ms | snapshot MB | restore ms | fill (64 clients) | leader RSS MB | on-demand snapshot ms | writes at 64 clients | follower restart ms | new member catch-up ms |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const n of sizes) {
  progress(`state machine with ${n} records`);
  const f = fsmCosts(n);
  const c = await clusterCosts(n);
  console.log(
    `| ${n} | ${f.heapMb} | ${f.encodeMs.toFixed(0)} | ${f.sizeMb} | ${f.restoreMs.toFixed(0)} | ${c['fill']} | ${c['leaderRssMb']} | ${c['snapshotMs']} | ${c['writes64']} | ${c['restartMs']} | ${c['catchUpMs']} |`,
  );
}
