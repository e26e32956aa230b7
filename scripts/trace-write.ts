// `npm run trace-write -- [--seconds 10]`: one client writes printers one at a time to the
// leader of a fresh 3-node cluster of real processes whose nodes carry the tracer
// (scripts/trace/preload.ts), and prints where a write's time goes, step by step, from the
// client through the leader, the follower whose acknowledgement commits it, and back:
// the median, p90 and p99 of each step over every traced write after a warm-up, and what the
// slowest 1 % of writes spent in each step.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { ProcessCluster, sleep } from '../test/helpers/process-cluster.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' } },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);

interface Mark {
  readonly node: string;
  readonly step: string;
  readonly index: number;
  readonly t: number;
  readonly seq?: number;
  readonly from?: string;
  readonly to?: string;
  /** A GC pause's duration (step `gc`). */
  readonly ms?: number;
}

const now = (): number => performance.timeOrigin + performance.now();

async function writeOneByOne(
  url: string,
  forMs: number,
  sent: Map<number, [number, number]>,
  seq: { n: number },
) {
  const origin = new URL(url);
  const client = new Client(origin.origin, { pipelining: 1, keepAliveTimeout: 30_000 });
  const body = JSON.stringify({ company: 'Prusa', model: 'MK4' });
  const until = now() + forMs;
  try {
    while (now() < until) {
      const n = ++seq.n;
      const t0 = now();
      const res = await client.request({
        path: '/api/v1/printers',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.dump();
      const t1 = now();
      if (res.statusCode !== 201) throw new Error(`write ${n} answered ${res.statusCode}`);
      sent.set(n, [t0, t1]);
    }
  } finally {
    await client.close();
  }
}

function readMarks(dir: string): Mark[] {
  const marks: Mark[] = [];
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (line) marks.push(JSON.parse(line) as Mark);
    }
  }
  return marks;
}

const STEPS = [
  'client → leader: request headers parsed',
  'leader: body, JSON, validation, command encoded, proposed',
  'leader: proposal → its Ready taken by the loop',
  'leader: Ready → append handed to the transport',
  'wire: leader → follower, frame decoded, stepped',
  'follower: append stepped → its Ready taken',
  'follower: Ready → save started',
  'follower: save (one O_DSYNC write to the log segment)',
  'follower: saved → ack handed to the transport',
  'wire: follower → leader, ack stepped',
  'leader: ack → Ready with the entry committed',
  'leader: apply',
  'leader: applied → response written',
  'wire: response → client',
] as const;

function analyse(marks: Mark[], sent: Map<number, [number, number]>, skipSeq: number): string {
  const byIndex = new Map<number, Mark[]>();
  for (const m of marks) {
    const list = byIndex.get(m.index) ?? [];
    list.push(m);
    byIndex.set(m.index, list);
  }
  const samples: number[][] = STEPS.map(() => []);
  const totals: number[] = [];
  const windows: { from: number; to: number; leader: string; follower: string }[] = [];
  const leaderSave: number[] = [];
  const leaderSaveAfterAck: number[] = [];
  for (const list of byIndex.values()) {
    const find = (
      node: string | null,
      step: string,
      pred: (m: Mark) => boolean = () => true,
    ): Mark | undefined => list.find((m) => (node === null || m.node === node) && m.step === step && pred(m));
    const request = find(null, 'request');
    if (!request || request.seq === undefined || request.seq <= skipSeq) continue;
    const client = sent.get(request.seq);
    if (!client) continue;
    const L = request.node;
    const acks = list.filter((m) => m.node === L && m.step === 'recv-ack').sort((a, b) => a.t - b.t);
    const ack = acks[0];
    if (!ack?.from) continue;
    const F = ack.from;
    const points = [
      client[0],
      request.t,
      find(L, 'propose')?.t,
      find(L, 'ready-entries')?.t,
      find(L, 'send-append', (m) => m.to === F)?.t,
      find(F, 'recv-append')?.t,
      find(F, 'ready-entries')?.t,
      find(F, 'save-start')?.t,
      find(F, 'save-end')?.t,
      find(F, 'send-ack')?.t,
      ack.t,
      find(L, 'ready-committed')?.t,
      find(L, 'applied')?.t,
      find(L, 'response')?.t,
      client[1],
    ];
    if (points.some((p) => p === undefined)) continue;
    const p = points as number[];
    for (let i = 0; i < STEPS.length; i++) samples[i]!.push(p[i + 1]! - p[i]!);
    totals.push(client[1] - client[0]);
    windows.push({ from: client[0], to: client[1], leader: L, follower: F });
    const ls = find(L, 'save-start');
    const le = find(L, 'save-end');
    if (ls && le) {
      leaderSave.push(le.t - ls.t);
      leaderSaveAfterAck.push(le.t - ack.t);
    }
  }
  const q = (xs: number[], p: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  };
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const us = (ms: number): string => `${Math.round(ms * 1000)}`.padStart(6);
  // The tail: the writes whose round trip is at or above the p99, and the mean of each of
  // their steps (means add up, to the tail's mean round trip), so that the slow writes' time
  // is attributed: the p99 of a step alone belongs to other writes than the p99 of the round
  // trip.
  const p99 = q(totals, 0.99);
  const tail = totals.flatMap((t, w) => (t >= p99 ? [w] : []));
  const lines = [
    `${totals.length} writes traced (microseconds; the last column: the mean of each step over the ${tail.length} writes at or above the round trip's p99):`,
    '',
  ];
  lines.push('| step | p50 µs | p90 µs | p99 µs | p99 writes, mean µs |', '|---|---:|---:|---:|---:|');
  for (let i = 0; i < STEPS.length; i++) {
    const xs = samples[i]!;
    const inTail = mean(tail.map((w) => xs[w]!));
    lines.push(
      `| ${STEPS[i]} | ${us(q(xs, 0.5))} | ${us(q(xs, 0.9))} | ${us(q(xs, 0.99))} | ${us(inTail)} |`,
    );
  }
  lines.push(
    `| **client round trip** | ${us(q(totals, 0.5))} | ${us(q(totals, 0.9))} | ${us(p99)} | ${us(mean(tail.map((w) => totals[w]!)))} |`,
  );
  const sumOfMedians = samples.reduce((s, xs) => s + q(xs, 0.5), 0);
  lines.push('');
  lines.push(`sum of the step medians: ${us(sumOfMedians).trim()} µs`);
  lines.push(
    `in parallel, the leader's own save: p50 ${us(q(leaderSave, 0.5)).trim()} µs; it ended ${us(q(leaderSaveAfterAck, 0.5)).trim()} µs after the follower's ack arrived (p50; negative: before)`,
  );
  // GC pauses inside a write's round trip, by the role of the process that paused.
  const pauses = marks.filter((m) => m.step === 'gc' && m.ms !== undefined);
  const gcIn = (w: number, role: 'leader' | 'follower' | 'other'): number => {
    const win = windows[w]!;
    let ms = 0;
    for (const g of pauses) {
      const r = g.node === win.leader ? 'leader' : g.node === win.follower ? 'follower' : 'other';
      if (r !== role || g.t > win.to || g.t + g.ms! < win.from) continue;
      ms += Math.min(win.to, g.t + g.ms!) - Math.max(win.from, g.t);
    }
    return ms;
  };
  const all = totals.map((_, w) => w);
  const describe = (ws: number[], label: string): string => {
    const parts = (['leader', 'follower', 'other'] as const).map((role) => {
      const hit = ws.map((w) => gcIn(w, role)).filter((ms) => ms > 0);
      const share = ((100 * hit.length) / ws.length).toFixed(1);
      return `${role} ${share} % (mean ${us(hit.length ? mean(hit) : 0).trim()} µs inside)`;
    });
    return `${label}: ${parts.join(', ')}`;
  };
  lines.push(
    `GC pauses (${pauses.length} in the nodes) overlapping a write, by the role of the node that paused:`,
  );
  lines.push(`- ${describe(all, 'all writes')}`);
  lines.push(`- ${describe(tail, 'the p99 writes')}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const traceDir = mkdtempSync(path.join(os.tmpdir(), 'raft3d-trace-'));
  const preload = path.resolve(import.meta.dirname, 'trace', 'preload.ts');
  const cluster = await ProcessCluster.start({
    size: 3,
    tickMs: 50,
    electionTicks: 10,
    nodeArgs: [`--import=${preload}`],
    extraEnv: { RAFT3D_TRACE_DIR: traceDir },
  });
  const sent = new Map<number, [number, number]>();
  const seq = { n: 0 };
  try {
    const leader = await cluster.waitForLeader(30_000);
    console.error(
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; leader ${leader.id}`,
    );
    await writeOneByOne(leader.url, warmup * 1000, sent, seq);
    const skip = seq.n;
    await writeOneByOne(leader.url, seconds * 1000, sent, seq);
    await sleep(1200); // the tracer flushes every 500 ms
    await cluster.stop();
    console.log(analyse(readMarks(traceDir), sent, skip));
    console.log(
      `(${seq.n - skip} writes in ${seconds} s: ${((seq.n - skip) / seconds).toFixed(0)} writes/s)`,
    );
  } finally {
    await cluster.stop();
    rmSync(traceDir, { recursive: true, force: true });
  }
}

await main();
