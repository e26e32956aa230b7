// Time for the node driver, injected: the real clock in production, the simulator's virtual
// clock in test/sim. Nothing in src/node reads performance.now() or sets a timer directly,
// so the simulation runs the very driver that ships.

import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Monotonic milliseconds (any origin). */
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
  /** Resolves after pending I/O and timers have had a turn (lets a long job yield the loop). */
  yield(): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
  yield: () => new Promise<void>((resolve) => setImmediate(resolve)),
};
