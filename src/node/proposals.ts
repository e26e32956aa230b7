// Pending proposals: promises keyed by the (index, term) the core gave them. A proposal
// resolves when an entry with that index AND term is applied; it is lost when another
// term's entry lands at its index, when this node stops leading, or when it times out.
// No timers of its own: the driver calls `expire(now)` on every tick.

import type { LogIndex, Term } from '../raft/index.js';
import { ProposalLostError, TimeoutError } from './errors.js';

interface Pending<R> {
  readonly term: Term;
  readonly deadline: number;
  readonly started: number;
  readonly resolve: (result: R) => void;
  readonly reject: (error: Error) => void;
}

export interface SettleHooks {
  /** Called with the seconds from proposal to apply, for successful proposals. */
  onSettled?: (seconds: number, outcome: 'ok' | 'lost' | 'timeout' | 'error') => void;
}

export class ProposalTracker<R> {
  private readonly pending = new Map<LogIndex, Pending<R>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly hooks: SettleHooks = {},
  ) {}

  /** Registers a proposal the core accepted at (index, term); `now` is performance.now(). */
  add(index: LogIndex, term: Term, now: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const previous = this.pending.get(index);
      // A new leadership reusing the index: the old one cannot commit any more.
      if (previous)
        this.fail(
          index,
          previous,
          new ProposalLostError(`index ${index} was reused in term ${term}`),
          'lost',
        );
      this.pending.set(index, { term, deadline: now + this.timeoutMs, started: now, resolve, reject });
    });
  }

  /** The entry at (index, term) was applied with `result`, or threw `error`. */
  applied(index: LogIndex, term: Term, now: number, outcome: { result: R } | { error: Error }): void {
    const p = this.pending.get(index);
    if (!p) return;
    this.pending.delete(index);
    if (p.term !== term) {
      p.reject(new ProposalLostError(`entry ${index} was replaced by one from term ${term}`));
      this.hooks.onSettled?.((now - p.started) / 1000, 'lost');
      return;
    }
    if ('result' in outcome) {
      p.resolve(outcome.result);
      this.hooks.onSettled?.((now - p.started) / 1000, 'ok');
    } else {
      p.reject(outcome.error);
      this.hooks.onSettled?.((now - p.started) / 1000, 'error');
    }
  }

  /** A non-command entry (no-op, config) landed at a pending command's index. */
  lose(index: LogIndex, reason: string): void {
    const p = this.pending.get(index);
    if (p) this.fail(index, p, new ProposalLostError(reason), 'lost');
  }

  /** Entries up to `index` were replaced by a snapshot: their outcome is unknown here. */
  coveredBySnapshot(index: LogIndex): void {
    for (const [i, p] of this.pending) {
      if (i <= index)
        this.fail(
          i,
          p,
          new ProposalLostError(`entry ${i} was folded into a snapshot from the leader`),
          'lost',
        );
    }
  }

  /** Rejects proposals whose deadline passed. Insertion order is deadline order (one timeout for all), so this stops at the first live one. */
  expire(now: number): void {
    for (const [i, p] of this.pending) {
      if (p.deadline > now) return;
      this.fail(i, p, new TimeoutError(`proposal at index ${i}`, this.timeoutMs), 'timeout');
    }
  }

  /** Rejects every pending proposal with `error` (role loss, stop). */
  failAll(error: Error): void {
    for (const [i, p] of this.pending) this.fail(i, p, error, 'lost');
  }

  private fail(index: LogIndex, p: Pending<R>, error: Error, outcome: 'lost' | 'timeout'): void {
    this.pending.delete(index);
    p.reject(error);
    this.hooks.onSettled?.(0, outcome);
  }
}
