// `npm run bench`: start a fresh local 3-node cluster of real processes (production
// timings, fsync on), drive it with autocannon from this process, and report create-printer
// writes/s with p50/p99 at 1, 16 and 64 clients, reads/s at 64 clients (linearizable and
// stale), and this disk's fsync/s measured the way storage writes. Prints a table, the
// ratio to the etcd 3.4 yardstick from issue #4, and the same numbers as JSON.
// Options: --duration <s> (default 10), --json <file> to also write the JSON there.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { ProcessCluster } from '../test/helpers/process-cluster.js';
import { postJson } from '../test/helpers/load.js';
import { measureFsyncRate } from '../src/storage/index.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const duration = Number(values.duration);

interface Row {
  readonly name: string;
  readonly clients: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** The etcd 3.4 yardstick for this row (issue #4), ops/s. */
  readonly etcd: number | null;
}

async function load(
  name: string,
  urls: string[],
  clients: number,
  etcd: number | null,
  write: boolean,
): Promise<Row> {
  const result = await autocannon({
    // autocannon 9 spreads connections over an array of URLs; @types/autocannon 7 predates that.
    url: urls.length === 1 ? urls[0]! : (urls as unknown as string),
    connections: clients,
    pipelining: 1,
    duration,
    ...(write
      ? {
          method: 'POST' as const,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ company: 'Prusa', model: 'MK4' }),
        }
      : {}),
  });
  const ok = result['2xx'];
  return {
    name,
    clients,
    perSecond: ok / duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    etcd,
  };
}

function table(rows: readonly Row[], fsyncPerSecond: number): string {
  const lines = [
    '| workload | clients | ops/s | p50 ms | p99 ms | errors | etcd 3.4 ops/s | ratio to etcd |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = r.etcd === null ? '' : (r.perSecond / r.etcd).toFixed(2);
    lines.push(
      `| ${r.name} | ${r.clients} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${r.etcd ?? ''} | ${ratio} |`,
    );
  }
  lines.push(`| fsync (level batch, sync) | 1 | ${fsyncPerSecond.toFixed(0)} | | | | | |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'raft3d-fsync-'));
  const fsyncPerSecond = await measureFsyncRate(scratch, 3);
  rmSync(scratch, { recursive: true, force: true });

  const cluster = await ProcessCluster.start({ size: 3, tickMs: 50, electionTicks: 10 });
  try {
    const leader = await cluster.waitForLeader(30_000);
    const created = await postJson(`${leader.url}/api/v1/printers`, {
      id: 'bench-read',
      company: 'Prusa',
      model: 'XL',
    });
    if (created.status !== 201)
      throw new Error(`setup write failed: ${created.status} ${JSON.stringify(created.body)}`);
    const writeUrl = `${leader.url}/api/v1/printers`;
    const all = cluster.nodes.map((n) => n.url);
    // Warm up the JIT and the connections, then measure.
    await autocannon({
      url: writeUrl,
      connections: 16,
      duration: 3,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"company":"Prusa","model":"MK4"}',
    });

    const rows: Row[] = [];
    for (const [clients, etcd] of [
      [1, 2000],
      [16, null],
      [64, 10_500],
    ] as const) {
      rows.push(await load('write: create printer (leader)', [writeUrl], clients, etcd, true));
      console.error(`measured writes at ${clients} clients`);
    }
    rows.push(
      await load(
        'read: linearizable, all nodes',
        all.map((u) => `${u}/api/v1/printers/bench-read`),
        64,
        10_000,
        false,
      ),
    );
    rows.push(
      await load(
        'read: linearizable, leader',
        [`${leader.url}/api/v1/printers/bench-read`],
        64,
        10_000,
        false,
      ),
    );
    rows.push(
      await load(
        'read: stale, all nodes',
        all.map((u) => `${u}/api/v1/printers/bench-read?consistency=stale`),
        64,
        null,
        false,
      ),
    );

    const report = {
      date: new Date().toISOString(),
      durationSeconds: duration,
      cpus: os.cpus().length,
      fsyncPerSecond,
      rows,
    };
    console.log(table(rows, fsyncPerSecond));
    console.log(JSON.stringify(report));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await cluster.stop();
  }
}

await main();
