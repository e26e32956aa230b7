// Pending linearizable reads (ReadIndex). Reads that arrive before the driver takes the
// next Ready share one ReadIndex round (one context): the core recorded its commit index
// when the round started, and no write that began after that can have been acknowledged
// before the Ready is taken. A read resolves once the round's index has been applied.

import type { LogIndex } from '../raft/index.js';
import { NoQuorumError, TimeoutError } from './errors.js';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Round {
  readonly context: string;
  readonly deadline: number;
  readonly waiters: Waiter[];
  /** Set once the core answered with a ReadState. */
  index: LogIndex | null;
}

export class ReadTracker {
  private readonly rounds = new Map<string, Round>();
  /** The round still accepting new readers (sealed when the driver takes a Ready). */
  private open: Round | null = null;
  private seq = 0;

  constructor(
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Adds a reader. Returns the context of a new round the caller must hand to
   * core.readIndex(), or null when the reader joined the open round.
   */
  add(now: number, waiter: Waiter): string | null {
    if (this.open) {
      this.open.waiters.push(waiter);
      return null;
    }
    const context = `${this.prefix}:${++this.seq}`;
    const round: Round = { context, deadline: now + this.timeoutMs, waiters: [waiter], index: null };
    this.rounds.set(context, round);
    this.open = round;
    return context;
  }

  /** A reader whose read index is already known (a leader's lease read): waits until `index` is applied. */
  waitForApplied(index: LogIndex, now: number, waiter: Waiter): void {
    const context = `${this.prefix}:lease:${++this.seq}`;
    this.rounds.set(context, { context, deadline: now + this.timeoutMs, waiters: [waiter], index });
  }

  /** The round could not be started (core refused): fail its readers. */
  abort(context: string, error: Error): void {
    const round = this.rounds.get(context);
    if (round) this.fail(round, error);
  }

  /** The driver is about to take a Ready: later readers need a new round. */
  seal(): void {
    this.open = null;
  }

  /** A ReadState arrived. A negative index means the leader refused the round. */
  readState(context: string, index: LogIndex, applied: LogIndex): void {
    const round = this.rounds.get(context);
    if (!round) return;
    if (index < 0) {
      this.fail(round, new NoQuorumError('the leader refused the read index request'));
      return;
    }
    round.index = index;
    if (index <= applied) this.finish(round);
  }

  /** The applied index moved: release every round whose index is now applied. */
  applied(applied: LogIndex): void {
    if (this.rounds.size === 0) return;
    for (const round of this.rounds.values()) {
      if (round.index !== null && round.index <= applied) this.finish(round);
    }
  }

  /** Rejects rounds past their deadline. */
  expire(now: number): void {
    // Rounds are kept in creation order, which is deadline order.
    for (const round of this.rounds.values()) {
      if (round.deadline > now) return;
      this.fail(round, new TimeoutError('read barrier', this.timeoutMs));
    }
  }

  /** Rounds still waiting for the core's answer can no longer get one (role change, stop). */
  failUnanswered(error: Error): void {
    for (const round of this.rounds.values()) if (round.index === null) this.fail(round, error);
  }

  failAll(error: Error): void {
    for (const round of this.rounds.values()) this.fail(round, error);
  }

  private finish(round: Round): void {
    this.rounds.delete(round.context);
    if (this.open === round) this.open = null;
    for (const w of round.waiters) w.resolve();
  }

  private fail(round: Round, error: Error): void {
    this.rounds.delete(round.context);
    if (this.open === round) this.open = null;
    for (const w of round.waiters) w.reject(error);
  }
}
