// Signals from the very first line of the process. main.ts imports this module first, so
// its body runs before any other module loads: as PID 1 in a container the kernel delivers
// no default action for SIGTERM, and a pod deleted while the node was still starting (loading
// modules, waiting for the API server, replaying its log) would otherwise sit out the whole
// grace period. During start-up a signal aborts `startup` (waits give up at once), runs the
// registered clean-ups briefly and exits 0: nothing has been acknowledged that is not already
// durable. Once the node serves, main.ts hands over its graceful shutdown (`serving`). A
// second signal always exits at once.

type Graceful = (signal: NodeJS.Signals) => Promise<void>;

/** How long start-up clean-ups (closing storage) may take before the process exits anyway. */
const CLEANUP_TIMEOUT_MS = 2_000;

class Lifecycle {
  private readonly controller = new AbortController();
  private readonly cleanups: (() => Promise<void>)[] = [];
  private graceful: Graceful | null = null;
  private received: NodeJS.Signals | null = null;

  /** Aborted when a signal arrives before the node serves. */
  get startup(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether a signal has been received (start-up errors after it are not failures). */
  get stopping(): boolean {
    return this.received !== null;
  }

  /** Runs `fn` if a signal ends start-up (last registered first). */
  onStartupAbort(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** From now on a signal runs `graceful` (hand-over, drain, flush) instead of ending start-up. */
  serving(graceful: Graceful): void {
    this.graceful = graceful;
    this.cleanups.length = 0;
  }

  handle(signal: NodeJS.Signals): void {
    if (this.received !== null) {
      process.stderr.write(`raft3d: second signal (${signal}): exiting now\n`);
      process.exit(1);
    }
    this.received = signal;
    if (this.graceful) {
      void this.graceful(signal);
      return;
    }
    process.stderr.write(`raft3d: ${signal} during start-up: stopping\n`);
    this.controller.abort();
    const cleanups = this.cleanups.splice(0).reverse();
    const done = (async () => {
      for (const fn of cleanups) await fn().catch(() => undefined);
    })();
    const timer = setTimeout(() => process.exit(0), CLEANUP_TIMEOUT_MS);
    void done.then(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  }
}

export const lifecycle = new Lifecycle();
process.on('SIGTERM', () => lifecycle.handle('SIGTERM'));
process.on('SIGINT', () => lifecycle.handle('SIGINT'));
