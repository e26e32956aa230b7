// Measures how many durable writes per second this disk sustains, the way LevelStorage
// writes them: one small LevelDB batch with { sync: true } after another. The result
// bounds the number of Ready cycles (not entries: a Ready carries many) per second.

import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClassicLevel } from 'classic-level';
import { encodeEntry, entryKey } from './record-codec.js';

export interface FsyncRate {
  readonly fsyncsPerSecond: number;
  readonly count: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Durable writes per second on the disk holding `dir` (see measureFsync). */
export async function measureFsyncRate(dir: string, seconds: number): Promise<number> {
  return (await measureFsync(dir, seconds)).fsyncsPerSecond;
}

/** Runs sync batches in a scratch database under `dir` for about `seconds`, then removes it. */
export async function measureFsync(dir: string, seconds: number): Promise<FsyncRate> {
  const scratch = await mkdtemp(path.join(dir, 'fsync-bench-'));
  const db = new ClassicLevel<Buffer, Buffer>(path.join(scratch, 'log'), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  const latencies: number[] = [];
  const data = new Uint8Array(128).fill(7);
  try {
    const started = performance.now();
    const until = started + seconds * 1000;
    let index = 1;
    while (performance.now() < until) {
      const value = encodeEntry({ index, term: 1, type: 'command', data });
      const t = performance.now();
      await db.batch().put(entryKey(index), value).write({ sync: true });
      latencies.push(performance.now() - t);
      index++;
    }
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    return {
      fsyncsPerSecond: latencies.length / elapsed,
      count: latencies.length,
      seconds: elapsed,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
    };
  } finally {
    await db.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
