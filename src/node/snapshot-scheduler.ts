// When and how this node snapshots its state machine (hashicorp/raft's runSnapshots and
// shouldSnapshot). One snapshot at a time, through explicit phases: `idle`, `encoding` (the
// state captured at the applied index, encoded a slice per event-loop turn), `storing` (the
// core's log compacted back in the loop, the file written beside it). Replication and
// applying go on throughout; a failure to store stops the node like any storage failure.

import { invariant } from '../raft/index.js';
import type { LogIndex, RaftCore, SnapshotMeta } from '../raft/index.js';
import type { RaftStorage } from '../storage/index.js';
import type { Metrics } from '../metrics/index.js';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { NodeStoppedError } from './errors.js';
import type { StateMachine } from './types.js';

export type SnapshotPhase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'encoding'; readonly index: LogIndex; readonly over: Promise<void> }
  | { readonly kind: 'storing'; readonly meta: SnapshotMeta; readonly over: Promise<void> };

/** What the scheduler uses of the driver. */
export interface SnapshotHost {
  readonly id: string;
  readonly fsm: Pick<StateMachine<unknown, unknown>, 'snapshot' | 'captureSnapshot'>;
  readonly core: Pick<RaftCore, 'compact' | 'snapshotMeta'>;
  readonly storage: Pick<RaftStorage, 'saveSnapshot'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics | null;
  /** Applied entries between automatic snapshots (0: none). */
  readonly every: number;
  /** Extra applied entries before the first automatic one (members do not all pause at once). */
  readonly firstDelay: number;
  /** The highest index applied to the state machine. */
  applied(): LogIndex;
  /** Whether the node stopped (an encoding gives up). */
  stopped(): boolean;
  /** Runs `fn` in the Ready loop, between two Readies (where the core may be changed). */
  inLoop<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Stops the node: an automatic snapshot failed to be stored. */
  fail(error: unknown): void;
}

export class SnapshotScheduler {
  private phase: SnapshotPhase = { kind: 'idle' };
  /** The newest snapshot this node holds (taken here, or installed from the leader or disk). */
  private latestMeta: SnapshotMeta | null = null;
  private delay: number;

  constructor(private readonly host: SnapshotHost) {
    this.delay = host.firstDelay;
  }

  get state(): SnapshotPhase['kind'] {
    return this.phase.kind;
  }

  latest(): SnapshotMeta | null {
    return this.latestMeta;
  }

  /** Where this node's log starts: entries at or below this index are in the snapshot. */
  latestIndex(): LogIndex {
    return this.latestMeta?.index ?? 0;
  }

  /** A snapshot restored into the state machine (from disk at start, or sent by the leader). */
  installed(meta: SnapshotMeta): void {
    this.latestMeta = meta;
  }

  /** The one rule for an automatic snapshot: none in flight, and enough applied since the last. */
  shouldSnapshot(): boolean {
    const { every } = this.host;
    return (
      every > 0 &&
      this.phase.kind === 'idle' &&
      this.host.applied() - this.latestIndex() >= every + this.delay
    );
  }

  /** After entries were applied: starts an automatic snapshot when shouldSnapshot says so. */
  maybeSnapshot(): void {
    if (!this.shouldSnapshot()) return;
    this.delay = 0; // the ones after the first keep its phase
    // Taken now, stored in the background: a failure there stops the node.
    this.take().catch((error: unknown) => {
      if (!(error instanceof NodeStoppedError)) this.host.fail(error);
    });
  }

  /**
   * A snapshot at the applied index, resolved once durable. Call it in the loop. While one
   * is in flight, waits for it and then takes a new one (nothing newer: that one).
   */
  take(): Promise<SnapshotMeta> {
    if (this.phase.kind !== 'idle') {
      return this.phase.over.then(() => this.host.inLoop(() => this.take()));
    }
    const latest = this.latestMeta;
    const index = this.host.applied();
    if (latest && latest.index >= index) return Promise.resolve(latest);
    const started = this.host.clock.now();
    const done = this.encode().then((data) =>
      this.host.inLoop(() => this.compactAndStore(index, data, started)),
    );
    // `over` never rejects: it only says when this snapshot is over.
    const over = done.then(
      () => undefined,
      () => undefined,
    );
    this.phase = { kind: 'encoding', index, over };
    void over.then(() => {
      this.phase = { kind: 'idle' };
    });
    return done;
  }

  /** Resolves when the snapshot in flight (if any) is stored or abandoned; never rejects. */
  async settled(): Promise<void> {
    if (this.phase.kind !== 'idle') await this.phase.over;
  }

  /** The state machine's snapshot bytes as of now, encoded without blocking the loop for long. */
  private async encode(): Promise<Uint8Array> {
    const slices = this.host.fsm.captureSnapshot?.();
    if (!slices) return this.host.fsm.snapshot();
    for (;;) {
      const step = slices.next();
      if (step.done) return step.value;
      await this.host.clock.yield();
      if (this.host.stopped()) throw new NodeStoppedError();
    }
  }

  private async compactAndStore(index: LogIndex, data: Uint8Array, started: number): Promise<SnapshotMeta> {
    const { core, storage, clock } = this.host;
    // The core knows the configuration in force at `index` (not the latest appended one).
    const meta = core.compact(index, data);
    if (meta === null) {
      // The log already starts after `index`: a leader's snapshot was installed while this one
      // was being encoded (perhaps not yet handed to this loop in a Ready). Nothing to store.
      const newer = core.snapshotMeta();
      invariant(
        newer !== null && newer.index >= index,
        () => `the core refused to compact at ${index} but holds no newer snapshot`,
      );
      return newer;
    }
    if (this.phase.kind === 'encoding') this.phase = { kind: 'storing', meta, over: this.phase.over };
    // The core's log now starts after `index`: events() and status() must say so at once.
    // (A failure to store it stops the node, so nobody acts on a snapshot that is not durable.)
    if (!this.latestMeta || this.latestMeta.index < meta.index) this.latestMeta = meta;
    await storage.saveSnapshot({ meta, data });
    this.host.metrics?.snapshots.inc();
    const ms = Math.round(clock.now() - started);
    this.host.logger.info({ id: this.host.id, index, bytes: data.byteLength, ms }, 'snapshot taken');
    return meta;
  }
}
