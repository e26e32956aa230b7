// The driver's logical clock: one timer on the injected Clock, and on every firing (or when
// asked, e.g. before a lease read) the count of tick intervals that elapsed since the start.
// A timer that fired late, or a process that was paused, must not make the core believe
// less time passed than did (the leader lease counts ticks); after a pause longer than an
// election timeout, `maxCatchUp` ticks expire every lease and timeout just as more would.

import type { Clock } from './clock.js';

export class Ticker {
  /** Tick intervals elapsed since `origin` that have been reported. */
  private ticksDone = 0;
  private readonly origin: number;
  private cancel: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
    private readonly maxCatchUp: number,
    /** Called with the ticks to run now (>= 1) and the clock's time. */
    private readonly onTicks: (count: number, now: number) => void,
  ) {
    this.origin = clock.now();
  }

  start(): void {
    const next = this.origin + (this.ticksDone + 1) * this.tickMs;
    // At least 1 ms: a timer that fired a hair early (rounding) must not spin.
    this.cancel = this.clock.after(Math.max(1, next - this.clock.now()), () => {
      this.cancel = null;
      if (this.stopped) return;
      this.advance();
      this.start();
    });
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }

  /** Reports every tick interval that elapsed and was not reported yet. */
  advance(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const due = Math.floor((now - this.origin) / this.tickMs);
    if (due <= this.ticksDone) return;
    const count = Math.min(due - this.ticksDone, this.maxCatchUp);
    this.ticksDone = due;
    this.onTicks(count, now);
  }
}
