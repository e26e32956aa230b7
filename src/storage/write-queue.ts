// The order every durable store keeps: operations one at a time, and after a failed write,
// every later one fails too (our view of the disk is uncertain; the member must restart).

import { StorageCorruptionError, StorageInvariantError } from './errors.js';

export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;
  private readonly beside = new Set<Promise<unknown>>();

  constructor(private readonly dir: string) {}

  /** Runs `op` after everything queued before it. */
  enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      this.throwIfFailed();
      return op().catch((err: unknown) => {
        // A refused batch wrote nothing, and corruption is reported by a read: neither poisons the queue.
        if (!(err instanceof StorageCorruptionError || err instanceof StorageInvariantError))
          this.failure = err instanceof Error ? err : new Error(String(err));
        throw err;
      });
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Work done beside the queue (a snapshot file being written), which `settled` waits for. */
  track<T>(work: Promise<T>): Promise<T> {
    this.beside.add(work);
    const forget = (): void => void this.beside.delete(work);
    work.then(forget, forget);
    return work;
  }

  /**
   * Resolves once the work beside the queue has finished (it may enqueue more), and then
   * everything queued by then: what close() waits for.
   */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.beside]);
    await this.tail;
  }

  throwIfFailed(): void {
    if (this.failure)
      throw new Error(`storage in ${this.dir} failed earlier (${this.failure.message}); restart the member`);
  }
}
