// Warnings that a misbehaving peer could trigger hundreds of times a second (bad secret,
// unreachable address) are logged at most once per interval per key, with a count of
// how many were suppressed in between.

import type { TransportLogger } from './types.js';

export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: TransportLogger | undefined,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    if (!this.logger) return;
    const now = performance.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger.warn(
      seen && seen.suppressed > 0 ? { ...fields, suppressed: seen.suppressed } : fields,
      message,
    );
  }

  /** Forgets a key, so the next warning for it is logged at once (e.g. after a recovery). */
  reset(key: string): void {
    this.last.delete(key);
  }
}
