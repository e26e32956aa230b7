// `npm run trace-write -- [--seconds 10]`: one client writes printers one at a time to the
// leader of a fresh 3-node cluster of real processes whose nodes carry the tracer
// (scripts/trace/preload.ts), and prints where a write's time goes, step by step, from the
// client through the leader, the follower whose acknowledgement commits it, and back:
// the median and p90 of each step over every traced write after a warm-up.

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
  'follower: save (LevelDB batch, sync)',
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
  const us = (ms: number): string => `${Math.round(ms * 1000)}`.padStart(6);
  const lines = [`${totals.length} writes traced (median and p90, microseconds):`, ''];
  lines.push('| step | p50 µs | p90 µs |', '|---|---:|---:|');
  for (let i = 0; i < STEPS.length; i++)
    lines.push(`| ${STEPS[i]} | ${us(q(samples[i]!, 0.5))} | ${us(q(samples[i]!, 0.9))} |`);
  lines.push(`| **client round trip** | ${us(q(totals, 0.5))} | ${us(q(totals, 0.9))} |`);
  const sumOfMedians = samples.reduce((s, xs) => s + q(xs, 0.5), 0);
  lines.push('');
  lines.push(`sum of the step medians: ${us(sumOfMedians).trim()} µs`);
  lines.push(
    `in parallel, the leader's own save: p50 ${us(q(leaderSave, 0.5)).trim()} µs; it ended ${us(q(leaderSaveAfterAck, 0.5)).trim()} µs after the follower's ack arrived (p50; negative: before)`,
  );
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
