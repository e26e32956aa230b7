// The loader both systems get in `npm run bench`: autocannon with a fixed number of
// connections, one request in flight on each. autocannon's own histogram keeps whole
// milliseconds (a p50 of "0" says nothing at 1 client), so every 2xx response time is also
// kept here, in microseconds, and the percentiles come from those.

import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadSpec {
  /** One URL, or several: autocannon spreads the connections over them. */
  readonly urls: readonly string[];
  readonly clients: number;
  readonly seconds: number;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export interface LoadResult {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /**
   * CPU time the whole machine spent per successful operation (every process: the loader
   * and the system under test alike), in microseconds; NaN where /proc/stat is missing.
   */
  readonly cpuUsPerOp: number;
}

/** Busy CPU time of the whole machine so far, in microseconds (Linux /proc/stat), or NaN. */
function machineBusyUs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return ((user + nice + system + irq + softirq + steal) * 1e6) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** Runs the load for `spec.seconds` and measures it. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const times: number[] = [];
  const busyBefore = machineBusyUs();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        // autocannon 9 spreads connections over an array of URLs; @types/autocannon 7 predates that.
        url: spec.urls.length === 1 ? spec.urls[0]! : (spec.urls as unknown as string),
        connections: spec.clients,
        pipelining: 1,
        duration: spec.seconds,
        method: spec.method,
        ...(spec.body === undefined ? {} : { body: spec.body }),
        ...(spec.headers === undefined ? {} : { headers: spec.headers }),
      },
      (error: unknown, done: autocannon.Result) => (error ? reject(toError(error)) : resolve(done)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) times.push(ms);
    });
  });
  const busyUs = machineBusyUs() - busyBefore;
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return {
    perSecond: result['2xx'] / spec.seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors: result.non2xx + result.errors + result.timeouts,
    cpuUsPerOp: busyUs / Math.max(1, result['2xx']),
  };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
