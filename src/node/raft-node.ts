// RaftNode: the driver around the pure RaftCore. One serialized loop (a Coalescer) takes each
// Ready through the Ready contract (the `Ready` type in src/raft/messages.ts; handleReady
// below is its numbered steps). Proposals arriving during a save land in the next Ready. Time
// comes from an injected Clock (Ticker); the simulation runs this very class. Concerns of
// their own live beside it: options.ts (defaults), applier.ts (step 3), snapshot-scheduler.ts,
// event-log.ts, peer-directory.ts, node-status.ts, node-metrics.ts, proposals.ts, reads.ts,
// standing.ts (role, leader, readiness and refusals).

import type { Logger } from 'pino';
import { InvariantError, ProposalDroppedError, invariant, mustSync } from '../raft/index.js';
import type {
  ConfChange,
  Entry,
  HardState,
  LogIndex,
  Message,
  NodeId,
  RaftCore,
  Ready,
  SnapshotMeta,
  Term,
} from '../raft/index.js';
import type { RaftStorage } from '../storage/index.js';
import type { Transport } from '../transport/index.js';
import type { Metrics } from '../metrics/index.js';
import { Coalescer } from '../util/index.js';
import type { Clock } from './clock.js';
import { NoLeaderError, NodeStoppedError, ProposalLostError, TimeoutError } from './errors.js';
import { coreConfig, resolveNodeOptions } from './options.js';
import type { NodeOptions, ResolvedNodeOptions } from './options.js';
import { ProposalTracker } from './proposals.js';
import { ReadTracker } from './reads.js';
import { Listeners } from './listeners.js';
import { bestTransferTarget, coreView } from './core-view.js';
import { Applier } from './applier.js';
import { EventLog } from './event-log.js';
import { PeerDirectory } from './peer-directory.js';
import { SnapshotScheduler } from './snapshot-scheduler.js';
import { Ticker } from './ticker.js';
import { NodeMetrics } from './node-metrics.js';
import { LastContact, nodeStatus } from './node-status.js';
import { Standing } from './standing.js';
import type { CommandCodec, EventsPage, NodeEvents, NodeStatus, RoleChange, StateMachine } from './types.js';

/** Work that must run between two Readies (e.g. compaction), or be cancelled on stop. */
interface Task {
  readonly run: () => Promise<void>;
  readonly cancel: (error: Error) => void;
}

export class RaftNode<C, R, S extends StateMachine<C, R> = StateMachine<C, R>> {
  readonly id: NodeId;
  /** The local state machine: query it after a read barrier (or directly for stale reads). */
  readonly fsm: S;
  readonly logger: Logger;
  readonly metrics: Metrics | null;
  private readonly gauges: NodeMetrics;
  readonly tickMs: number;

  private readonly core: RaftCore;
  private readonly clock: Clock;
  private readonly storage: RaftStorage;
  private readonly transport: Transport;
  private readonly codec: CommandCodec<C>;
  private readonly peers: PeerDirectory;
  private readonly eventLog: EventLog<C>;
  private readonly snapshots: SnapshotScheduler;
  private readonly ticker: Ticker;
  private readonly applier: Applier<C, R>;
  private readonly proposals: ProposalTracker<R>;
  private readonly confChanges: ProposalTracker<void>;
  private readonly reads: ReadTracker;
  private readonly listeners = new Listeners<NodeEvents>();
  private readonly lastContact = new LastContact();
  private readonly electionMs: number;

  private readonly standing: Standing;
  /** The last hard state written to storage: what mustSync compares a Ready with. */
  protected saved: HardState;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private fatal: Error | null = null;
  /** The Ready loop: one step (a task, or a Ready) at a time, while there is work. */
  private readonly loop: Coalescer;
  private readonly tasks: Task[] = [];

  protected constructor(options: ResolvedNodeOptions<C, R, S>, core: RaftCore, fsm: S, saved: HardState) {
    this.id = options.id;
    this.core = core;
    this.clock = options.clock;
    this.fsm = fsm;
    this.saved = saved;
    this.storage = options.storage;
    this.transport = options.transport;
    this.codec = options.codec;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.gauges = new NodeMetrics(options.metrics);
    this.tickMs = options.tickMs;
    this.electionMs = options.tickMs * options.electionTicks;
    this.peers = new PeerDirectory(options.id, options.transport, options.apiAddresses);
    this.standing = new Standing({
      id: options.id,
      logger: options.logger,
      gauges: this.gauges,
      stopped: () => this.stopped,
      readBarrier: () => this.readBarrier(),
      apiAddress: (id) => this.peers.apiAddress(id),
    });
    this.snapshots = new SnapshotScheduler({
      id: options.id,
      fsm,
      core,
      storage: options.storage,
      clock: options.clock,
      logger: options.logger,
      metrics: options.metrics,
      every: options.snapshotEvery,
      firstDelay: options.random.snapshotDelay,
      applied: () => this.applied,
      stopped: () => this.stopped,
      inLoop: (fn) => this.inLoop(fn),
      fail: (error) => this.fail(error),
    });
    this.eventLog = new EventLog(core, options.codec, options.describe, () => this.snapshots.latestIndex());
    this.ticker = new Ticker(this.clock, options.tickMs, options.electionTicks + 1, (count, now) =>
      this.onTicks(count, now),
    );
    this.loop = new Coalescer({
      hasWork: () => !this.stopped && (this.tasks.length > 0 || this.core.hasReady()),
      step: () => this.loopStep(),
      // A failed step stops the node (fail), so there is never a next step to back off from.
      onFailure: (error) => this.fail(error),
      backoffMs: () => 0,
      timer: (ms, fire) => this.clock.after(ms, fire),
    });
    this.proposals = new ProposalTracker<R>(options.proposalTimeoutMs, {
      onSettled: (seconds, outcome) => this.gauges.proposalSettled(seconds, outcome),
    });
    this.confChanges = new ProposalTracker<void>(options.proposalTimeoutMs);
    // Each life has its own read-context nonce (see options.ts).
    this.reads = new ReadTracker(
      `${options.id}.${options.random.readNonce.toString(36)}`,
      options.readTimeoutMs,
    );
    this.applier = new Applier({
      ...options,
      fsm,
      proposals: this.proposals,
      confChanges: this.confChanges,
      listeners: this.listeners,
      eventLog: this.eventLog,
      peers: this.peers,
      snapshots: this.snapshots,
      gauges: this.gauges,
    });
  }

  /**
   * Loads persisted state, restores the FSM from the latest snapshot, starts the transport,
   * the ticks and the loop. (Called on a subclass, it builds that subclass: the simulation's
   * broken drivers are subclasses that override one protected rule.)
   */
  static async start<C, R, S extends StateMachine<C, R>>(
    this: typeof RaftNode,
    options: NodeOptions<C, R, S>,
  ): Promise<RaftNode<C, R, S>> {
    const resolved = resolveNodeOptions(options);
    const persisted = await resolved.storage.load();
    // A first boot without the cluster's original members would let a joining node build its
    // configuration from the log alone and elect itself (split brain): refuse it loudly.
    if (persisted === null && resolved.initialVoters.length === 0) {
      throw new Error(
        `node ${resolved.id}: first boot needs the cluster's initial voters (like etcd's --initial-cluster), got none`,
      );
    }
    const fsm = resolved.stateMachine();
    const core = resolved.core(coreConfig(resolved), persisted ?? undefined);
    const saved = persisted?.hardState ?? { term: 0, vote: null, commit: 0 };
    const node = new this<C, R, S>(resolved, core, fsm, saved);
    if (persisted?.snapshot) {
      fsm.restore(persisted.snapshot.data);
      node.applier.resumeFrom(persisted.snapshot.meta);
    }
    for (const [event, listener] of Object.entries(resolved.listeners))
      node.listeners.on(
        event as keyof NodeEvents,
        listener as (payload: NodeEvents[keyof NodeEvents]) => void,
      );
    node.logger.info(
      { id: resolved.id, term: coreView(core).term, applied: node.applied, restored: persisted !== null },
      'raft node starting',
    );
    await resolved.transport.start((message) => node.receive(message));
    node.ticker.start();
    node.kick();
    return node;
  }

  // ---- client operations -------------------------------------------------------------

  /** Proposes a command; resolves with the FSM's result once the entry is applied here. */
  propose(command: C): Promise<R> {
    const refusal = this.standing.writeRefusal();
    if (refusal) return this.rejectProposal(refusal);
    let data: Uint8Array;
    try {
      data = this.codec.encode(command);
    } catch (error) {
      // A command the codec refuses is the caller's bug (its own code, e.g. invalid_command), not the cluster's.
      return this.rejectProposal(error instanceof Error ? error : new Error(String(error)));
    }
    let placed: { index: LogIndex; term: Term };
    try {
      placed = this.core.propose(data);
    } catch (error) {
      return this.rejectProposal(this.mapCoreError(error));
    }
    const promise = this.proposals.add(placed.index, placed.term, this.clock.now());
    this.kick();
    return promise;
  }

  /**
   * A read barrier for consistency=leader on the leader: at once when the leader's lease
   * holds (RaftCore.leaseReadIndex; assumptions in docs/api.md), else a ReadIndex round.
   * Resolves once the local state is at least as new as every write acknowledged before it
   * was called. Only on the leader: a follower forwards such reads.
   */
  leaseRead(): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    // The lease is counted in ticks: first tell the core about every tick interval that elapsed.
    this.advanceClock();
    const index = this.core.leaseReadIndex();
    if (index === null) {
      this.gauges.leaseRead('read_index');
      return this.readBarrier();
    }
    this.gauges.leaseRead('lease');
    if (index <= this.applied) return Promise.resolve();
    return new Promise<void>((resolve, reject) =>
      this.reads.waitForApplied(index, this.clock.now(), { resolve, reject }),
    );
  }

  /** A linearizable read barrier (ReadIndex; a follower asks the leader): resolves once applied >= read index. */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    if (this.standing.leader === null) return Promise.reject(new NoLeaderError());
    return new Promise<void>((resolve, reject) => {
      const context = this.reads.add(this.clock.now(), { resolve, reject });
      if (context === null) return;
      try {
        this.core.readIndex(context);
      } catch (error) {
        this.reads.abort(context, this.mapCoreError(error));
        return;
      }
      this.kick();
    });
  }

  /** Hands leadership to `to` (default: the most up-to-date voter); resolves when it leads. */
  async transferLeadership(to?: NodeId): Promise<NodeId> {
    const refusal = this.standing.writeRefusal();
    if (refusal) throw refusal;
    const target = to ?? bestTransferTarget(coreView(this.core), this.id);
    if (target === null) throw new ProposalDroppedError('no other voter to transfer leadership to');
    if (target === this.id) return this.id;
    try {
      this.core.transferLeadership(target);
    } catch (error) {
      throw this.mapCoreError(error);
    }
    // The role change arrives in a later Ready, never during the call above.
    const changed = new Promise<NodeId>((resolve, reject) => {
      const cancel = this.clock.after(this.electionMs * 3, () => {
        off();
        reject(new TimeoutError(`leadership transfer to ${target}`, this.electionMs * 3));
      });
      const off = this.on('role', (change) => {
        if (change.leader !== null && change.leader !== this.id) {
          cancel();
          off();
          resolve(change.leader);
        }
      });
    });
    this.kick();
    return changed;
  }

  /** Proposes one membership change; resolves once its entry is applied. */
  changeMembership(change: ConfChange): Promise<void> {
    const refusal = this.standing.writeRefusal();
    if (refusal) return Promise.reject(refusal);
    let placed: { index: LogIndex; term: Term };
    try {
      placed = this.core.proposeConfChange(change);
    } catch (error) {
      return Promise.reject(this.mapCoreError(error));
    }
    const promise = this.confChanges.add(placed.index, placed.term, this.clock.now());
    this.kick();
    return promise;
  }

  /** Snapshots the FSM at the applied index, compacts the log and stores the snapshot. */
  takeSnapshot(): Promise<SnapshotMeta> {
    return this.inLoop(() => this.snapshots.take());
  }

  /** Runs `fn` in the loop, between two Readies (where the core may be changed). */
  private inLoop<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    return new Promise<T>((resolve, reject) => {
      this.tasks.push({
        run: () => {
          try {
            resolve(fn());
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
          return Promise.resolve();
        },
        cancel: reject,
      });
      this.kick();
    });
  }

  /** Applied log entries after `after` (at most `limit`), decoded; or where history now starts. */
  events(after: LogIndex, limit: number): EventsPage {
    return this.eventLog.page(after, limit, this.applied);
  }

  status(): NodeStatus {
    return nodeStatus(coreView(this.core), {
      id: this.id,
      applied: this.applied,
      snapshotIndex: this.snapshots.latestIndex(),
      ready: this.isReady(),
      now: this.clock.now(),
      lastContact: this.lastContact,
      apiAddress: (id) => this.peers.apiAddress(id),
    });
  }

  private get applied(): LogIndex {
    return this.applier.applied;
  }

  /** Has a leader and has applied what the leader had committed when this node first followed it. */
  isReady(): boolean {
    return !this.stopped && this.fatal === null && this.standing.ready;
  }

  /** The highest log index applied to the local state machine (cheaper than status()). */
  appliedIndex(): LogIndex {
    return this.applied;
  }

  /** False once the Ready loop failed (storage error, broken invariant): the process should be restarted. */
  isHealthy(): boolean {
    return this.fatal === null;
  }

  /** Why the node stopped serving, once the Ready loop failed (null while healthy). */
  failure(): Error | null {
    return this.fatal;
  }

  isLeader(): boolean {
    return this.standing.role === 'leader';
  }

  leaderId(): NodeId | null {
    return this.standing.leader;
  }

  /** API base URL of a member, if known. */
  apiAddress(id: NodeId): string | null {
    return this.peers.apiAddress(id);
  }

  setApiAddress(id: NodeId, url: string): void {
    this.peers.setApiAddress(id, url);
  }

  on<K extends keyof NodeEvents>(event: K, listener: (payload: NodeEvents[K]) => void): () => void {
    return this.listeners.on(event, listener);
  }

  /** Stops ticking and the loop (after any in-flight save), fails what is pending, closes transport and storage. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true; // may already be set by a fatal loop error; resources are still open then
    this.ticker.stop();
    await this.loop.stop();
    const error = new NodeStoppedError();
    this.proposals.failAll(error);
    this.confChanges.failAll(error);
    this.reads.failAll(error);
    for (const task of this.tasks.splice(0)) task.cancel(error);
    // A snapshot being encoded gives up; one being written finishes before storage closes.
    await this.snapshots.settled();
    await this.transport.close();
    await this.storage.close();
    this.logger.info({ id: this.id }, 'raft node stopped');
  }

  // ---- the loop ------------------------------------------------------------------------

  private receive(message: Message): void {
    if (this.stopped) return;
    this.lastContact.record(message.from, this.clock.now());
    try {
      this.core.step(message);
    } catch (error) {
      // A broken invariant (say, an append that would overwrite a committed entry) means this
      // node's state cannot be trusted: stop, as a storage failure does, never carry on.
      this.fail(error);
      return;
    }
    this.kick();
  }

  /** Tells the core about every tick interval that elapsed (see Ticker). */
  private advanceClock(): void {
    if (!this.stopped) this.ticker.advance();
  }

  private onTicks(count: number, now: number): void {
    if (this.stopped) return;
    for (let i = 0; i < count; i++) this.core.tick();
    this.proposals.expire(now);
    this.confChanges.expire(now);
    this.reads.expire(now);
    this.standing.catchUp();
    this.kick();
  }

  /** There may be a Ready or a task: the loop takes it (never inside the caller's stack). */
  private kick(): void {
    this.loop.poke();
  }

  /** One turn of the loop: a queued task first (it may change the core), else the next Ready. */
  private async loopStep(): Promise<void> {
    const task = this.tasks.shift();
    if (task) return task.run();
    this.reads.seal();
    await this.handleReady(this.core.ready());
  }

  /** Storage failed or an invariant broke: stop serving rather than risk safety. */
  private fail(error: unknown): void {
    if (this.fatal !== null) return;
    this.fatal = error instanceof Error ? error : new Error(String(error));
    this.logger.fatal({ err: this.fatal, id: this.id }, 'raft node loop failed; the node stops serving');
    this.stopped = true;
    this.ticker.stop();
    const stop = new NodeStoppedError();
    this.proposals.failAll(stop);
    this.confChanges.failAll(stop);
    this.reads.failAll(stop);
    void this.loop.stop();
  }

  /** Step 1's rule (src/raft/ready.ts); protected so the simulation can run a driver that breaks it. */
  protected mustPersist(rd: Ready): boolean {
    return mustSync(this.saved, rd);
  }

  /**
   * Whether this Ready's committed entries may be applied while its write is in flight: the
   * core hands out only entries an earlier advance() confirmed durable (core.ts), so their
   * outcome does not depend on this write. Kept to the plain case: a leader, no snapshot to
   * restore, no role change, no configuration entry.
   */
  private applyWhileSaving(rd: Ready): boolean {
    // On a follower no client waits for the apply, and the acknowledgement must not wait for it.
    if (this.standing.role !== 'leader' || rd.committedEntries.length === 0) return false;
    if (rd.snapshot !== undefined || rd.softState !== undefined) return false;
    const first = rd.entries[0];
    for (const e of rd.committedEntries) {
      if (e.type === 'config') return false;
      invariant(
        first === undefined || e.index < first.index,
        () => `committed entry ${e.index} is in the Ready's own unsaved entries`,
      );
    }
    return true;
  }

  /**
   * One Ready through the contract on the `Ready` type (src/raft/messages.ts), in its numbered
   * steps. The role change is noted first (step 2's exception is the leader's) and acted on
   * after step 3: what this very Ready commits or confirms settles its promises first.
   */
  private async handleReady(rd: Ready): Promise<void> {
    const change = rd.softState
      ? this.standing.change(rd.softState.role, rd.softState.leader, rd.softState.term)
      : null;
    // 2, the leader's exception: its appends and heartbeats leave before its own write.
    const messages = this.standing.role === 'leader' ? this.sendReplicationEarly(rd.messages) : rd.messages;
    // 1. Persist, in one durable write, when mustSync says so.
    let applied = false;
    if (this.mustPersist(rd)) {
      const saving = this.persist(rd);
      // 3, early (see the contract): the committed entries are durable here and on a quorum
      // already, so a leader applies them, and answers their clients, while the disk syncs this
      // Ready's new entries instead of one fsync later.
      if (this.applyWhileSaving(rd)) {
        this.applyEntries(rd.committedEntries);
        applied = true;
      }
      await saving;
    }
    // 2. Send.
    if (messages.length > 0) this.transport.send(messages);
    // 3. Restore, then apply; then serve the reads this makes answerable.
    if (rd.snapshot) this.applier.restore(rd.snapshot.meta, rd.snapshot.data);
    if (!applied && rd.committedEntries.length > 0) this.applyEntries(rd.committedEntries);
    for (const rs of rd.readStates) this.reads.readState(rs.context, rs.index, this.applied);
    if (change) this.afterRoleChange(change);
    // 4. Advance.
    this.core.advance(rd);
    this.afterAdvance(rd);
  }

  /** Step 2's exception: sends a leader's appends and heartbeats now; returns the other messages. */
  private sendReplicationEarly(messages: readonly Message[]): readonly Message[] {
    if (messages.length === 0) return messages;
    const early: Message[] = [];
    const later: Message[] = [];
    for (const m of messages) (m.type === 'append' || m.type === 'heartbeat' ? early : later).push(m);
    if (early.length > 0) this.transport.send(early);
    return later;
  }

  /** Step 1: the snapshot, the entries and the hard state in one durable write (group commit). */
  private async persist(rd: Ready): Promise<void> {
    const started = this.clock.now();
    await this.storage.save({
      entries: rd.entries,
      ...(rd.hardState ? { hardState: rd.hardState } : {}),
      ...(rd.snapshot ? { snapshot: rd.snapshot } : {}),
    });
    this.gauges.saved((this.clock.now() - started) / 1000);
    if (rd.hardState) this.saved = rd.hardState;
  }

  /** After step 4: reads waiting for the applied index, the gauges, an automatic snapshot. */
  private afterAdvance(rd: Ready): void {
    if (rd.hardState) this.gauges.commitIndex(rd.hardState.commit);
    if (rd.committedEntries.length === 0) return;
    this.reads.applied(this.applied);
    this.gauges.appliedIndex(this.applied);
    this.snapshots.maybeSnapshot();
  }

  private afterRoleChange(change: RoleChange): void {
    if (change.previousRole === 'leader' && change.role !== 'leader') {
      // Outcome unknown: the entries may still commit under the next leader (retry with the same Idempotency-Key).
      const lost = new ProposalLostError(`${this.id} stopped leading in term ${change.term}`);
      this.proposals.failAll(lost);
      this.confChanges.failAll(lost);
    }
    if (change.leader !== change.previousLeader) {
      this.reads.failUnanswered(
        new NoLeaderError(
          change.leader === null ? undefined : `the leader changed to ${change.leader}; retry the read`,
        ),
      );
    }
    if (change.leader !== null && !this.standing.ready) queueMicrotask(() => this.standing.catchUp());
    this.listeners.emit('role', change);
  }

  /** Step 3's apply (a method of its own: scripts/trace/preload.ts marks each applied entry here). */
  private applyEntries(entries: readonly Entry[]): void {
    this.applier.apply(entries);
  }

  // ---- helpers -------------------------------------------------------------------------

  private rejectProposal(error: Error): Promise<never> {
    this.gauges.proposalRejected();
    return Promise.reject(error);
  }

  private mapCoreError(error: unknown): Error {
    if (error instanceof InvariantError) {
      // Not a refusal to retry: the core's state is broken. Stop the node (fail is idempotent).
      this.fail(error);
      return error;
    }
    return this.standing.coreRefusal(error);
  }
}
