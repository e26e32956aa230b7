// Step 3 of the Ready contract for this node: restore the state machine from a snapshot,
// apply committed entries in order, and settle what waits on them. A proposal settles by
// index AND term (another term at its index means it was lost); the event listeners see
// each change; membership entries teach the peer directory where members are.

import type { Logger } from 'pino';
import type { Entry, LogIndex, SnapshotMeta } from '../raft/index.js';
import type { Clock } from './clock.js';
import type { EventLog } from './event-log.js';
import type { Listeners } from './listeners.js';
import type { NodeMetrics } from './node-metrics.js';
import type { PeerDirectory } from './peer-directory.js';
import type { ProposalTracker } from './proposals.js';
import type { SnapshotScheduler } from './snapshot-scheduler.js';
import type { CommandCodec, NodeEvents, StateMachine } from './types.js';

export interface ApplierParts<C, R> {
  readonly id: string;
  readonly fsm: StateMachine<C, R>;
  readonly codec: CommandCodec<C>;
  readonly describe: (command: C) => { type: string; payload: unknown };
  readonly changed: ((result: R) => boolean) | null;
  readonly proposals: ProposalTracker<R>;
  readonly confChanges: ProposalTracker<void>;
  readonly listeners: Listeners<NodeEvents>;
  readonly eventLog: EventLog<C>;
  readonly peers: PeerDirectory;
  readonly snapshots: SnapshotScheduler;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly gauges: NodeMetrics;
}

export class Applier<C, R> {
  private appliedIndex: LogIndex = 0;

  constructor(private readonly parts: ApplierParts<C, R>) {}

  /** The highest log index applied to the state machine. */
  get applied(): LogIndex {
    return this.appliedIndex;
  }

  /** At start: the state machine was restored from the snapshot on disk. */
  resumeFrom(meta: SnapshotMeta): void {
    this.parts.snapshots.installed(meta);
    this.appliedIndex = meta.index;
    this.parts.peers.learnAll(meta.configContext);
  }

  /** A snapshot from the leader replaces the state machine. */
  restore(meta: SnapshotMeta, data: Uint8Array): void {
    const { fsm, proposals, listeners, logger, gauges } = this.parts;
    fsm.restore(data);
    this.resumeFrom(meta);
    proposals.coveredBySnapshot(meta.index);
    gauges.appliedIndex(meta.index);
    listeners.emit('restored', { index: meta.index, term: meta.term });
    logger.info(
      { id: this.parts.id, index: meta.index, term: meta.term },
      'state machine restored from snapshot',
    );
  }

  apply(entries: readonly Entry[]): void {
    const { proposals, confChanges, listeners, peers } = this.parts;
    const now = this.parts.clock.now();
    const watching = listeners.count('applied') > 0;
    for (const entry of entries) {
      if (entry.index <= this.appliedIndex) continue; // already covered by a restored snapshot
      if (entry.type === 'command') {
        this.applyCommand(entry.index, entry.term, entry.data, now, watching);
      } else {
        proposals.lose(
          entry.index,
          `a ${entry.type} entry from term ${entry.term} took index ${entry.index}`,
        );
        if (entry.type === 'config') {
          peers.applyConfChange(entry.change);
          confChanges.applied(entry.index, entry.term, now, { result: undefined });
          if (watching)
            listeners.emit('applied', {
              index: entry.index,
              term: entry.term,
              type: 'config',
              payload: entry.change,
            });
        } else {
          confChanges.lose(entry.index, `a no-op from term ${entry.term} took index ${entry.index}`);
        }
      }
      this.appliedIndex = entry.index;
    }
  }

  private applyCommand(
    index: LogIndex,
    term: number,
    data: Uint8Array,
    now: number,
    watching: boolean,
  ): void {
    const { fsm, codec, changed, describe, proposals, listeners, eventLog, logger } = this.parts;
    let command: C | undefined;
    let outcome: { result: R } | { error: Error };
    try {
      command = codec.decode(data);
      outcome = { result: fsm.apply(command, { index, term }) };
    } catch (error) {
      outcome = { error: error instanceof Error ? error : new Error(String(error)) };
      logger.error({ err: outcome.error, index }, 'state machine apply threw');
    }
    proposals.applied(index, term, now, outcome);
    const quiet = 'result' in outcome && changed !== null && !changed(outcome.result);
    if (quiet) eventLog.noteUnchanged(index);
    if (watching && command !== undefined && !quiet) {
      const view = describe(command);
      listeners.emit('applied', { index, term, type: view.type, payload: view.payload });
    }
  }
}
