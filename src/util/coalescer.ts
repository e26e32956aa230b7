// Coalescer: the one shape of every background worker here (the driver's Ready loop, the pod
// labeller, the membership reconciler, each lane of a peer sender). At most one run at a
// time; a poke while it runs is not lost, because the run goes on while `hasWork()` says so;
// a step that throws waits a backoff before the next; stop() ends it. A poke never runs the
// job inside the caller's stack (it starts in a microtask), so a step may poke freely.

/** Runs `fire` once after `ms`; the returned function cancels it (node's Clock.after fits). */
export type Timer = (ms: number, fire: () => void) => () => void;

export interface CoalescerOptions {
  /** One step of the job. Throwing counts as a failure: the next step waits `backoffMs`. */
  readonly step: () => Promise<void>;
  /** Whether there is work to do now; checked on a poke and before every step. */
  readonly hasWork: () => boolean;
  /** The wait after the n-th failure in a row (n >= 1). */
  readonly backoffMs: (failures: number) => number;
  /** Called with each failure, before its backoff. */
  readonly onFailure?: (error: unknown, failures: number) => void;
  /** Called when a step succeeds after one or more failures. */
  readonly onRecovery?: () => void;
  /** Where backoff waits are scheduled (default: setTimeout). */
  readonly timer?: Timer;
}

const realTimer: Timer = (ms, fire) => {
  const handle = setTimeout(fire, ms);
  return () => clearTimeout(handle);
};

export class Coalescer {
  private readonly timer: Timer;
  private running: Promise<void> | null = null;
  private stopped = false;
  private failureCount = 0;
  /** Ends the backoff wait in progress, if any. */
  private endWait: (() => void) | null = null;

  constructor(private readonly options: CoalescerOptions) {
    this.timer = options.timer ?? realTimer;
  }

  /** Failures in a row so far (0 after a step succeeded). */
  get failures(): number {
    return this.failureCount;
  }

  /** There may be work: start a run unless one is under way (which will see it). */
  poke(): void {
    if (this.running !== null || this.stopped || !this.options.hasWork()) return;
    this.running = Promise.resolve().then(() => this.run());
  }

  /** Forgets past failures: the next failure waits the shortest backoff, and a wait under way ends now. */
  resetBackoff(): void {
    this.failureCount = 0;
    this.endWait?.();
  }

  /** Resolves once no run is under way (nor waiting out a backoff). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** No more steps: a backoff wait ends at once; resolves when the step under way (if any) is over. */
  stop(): Promise<void> {
    this.stopped = true;
    this.endWait?.();
    return this.idle();
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped && this.options.hasWork()) {
        try {
          await this.options.step();
        } catch (error) {
          if (this.stopped) break;
          this.failureCount += 1;
          this.options.onFailure?.(error, this.failureCount);
          await this.wait(this.options.backoffMs(this.failureCount));
          continue;
        }
        if (this.failureCount > 0) {
          this.failureCount = 0;
          this.options.onRecovery?.();
        }
      }
    } finally {
      this.running = null;
    }
  }

  private wait(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const cancel = this.timer(ms, () => done());
      const done = (): void => {
        cancel();
        this.endWait = null;
        resolve();
      };
      this.endWait = done;
    });
  }
}
