// RaftNode: the driver around the pure RaftCore. One serialized async loop takes each Ready
// and carries out the Ready contract (the `Ready` type in src/raft/messages.ts): persist when
// mustSync says so, send, restore/apply (settling proposal promises by index AND term), serve
// read states, advance. Proposals arriving during a save land in the next Ready. Time comes
// from an injected Clock: one timer ticks the core for every tick interval that elapsed, and
// proposal/read deadlines are checked on each tick. The simulation runs this very class.

import type { Logger } from 'pino';
import { InvariantError, NotLeaderError, ProposalDroppedError, invariant, mustSync } from '../raft/index.js';
import type {
  ConfChange,
  Entry,
  HardState,
  LogIndex,
  Message,
  NodeId,
  RaftCore,
  Ready,
  Role,
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
import { coreView } from './core-view.js';
import type {
  CommandCodec,
  DecodedEvent,
  EventsPage,
  NodeEvents,
  NodeStatus,
  RoleChange,
  StateMachine,
} from './types.js';

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
  readonly tickMs: number;

  private readonly core: RaftCore;
  private readonly options: ResolvedNodeOptions<C, R, S>;
  private readonly clock: Clock;
  private readonly storage: RaftStorage;
  private readonly transport: Transport;
  private readonly codec: CommandCodec<C>;
  private readonly describe: (command: C) => { type: string; payload: unknown };
  private readonly changed: ((result: R) => boolean) | null;
  /** Applied commands that changed nothing (NodeOptions.changed), above the snapshot: no events. */
  private readonly unchanged = new Set<LogIndex>();
  private readonly apiAddresses: Map<NodeId, string>;
  private readonly proposals: ProposalTracker<R>;
  private readonly confChanges: ProposalTracker<void>;
  private readonly reads: ReadTracker;
  private readonly listeners = new Listeners<NodeEvents>();
  /** When a message from each peer last arrived (clock ms): status()'s last contact. */
  private readonly heard = new Map<NodeId, number>();
  private readonly electionMs: number;

  private applied: LogIndex = 0;
  private snapshotMeta: SnapshotMeta | null = null;
  /** Settles (never rejects) when the snapshot in flight is stored or abandoned (see snapshotNow). */
  private snapshotting: Promise<void> | null = null;
  /** Extra applied entries before the first automatic snapshot (see the constructor). */
  private snapshotDelay: number;
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private term: Term = 0;
  /** The last hard state written to storage: what mustSync compares a Ready with. */
  protected saved: HardState;
  private caughtUp = false;
  private catchingUp = false;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private fatal: Error | null = null;
  /** The Ready loop: one step (a task, or a Ready) at a time, while there is work. */
  private readonly loop: Coalescer;
  private readonly tasks: Task[] = [];
  /** Tick intervals elapsed since `clockOrigin` that the core has been told about. */
  private ticksDone = 0;
  private readonly clockOrigin: number;
  private cancelTicker: (() => void) | null = null;

  protected constructor(options: ResolvedNodeOptions<C, R, S>, core: RaftCore, fsm: S, saved: HardState) {
    this.id = options.id;
    this.core = core;
    this.options = options;
    this.clock = options.clock;
    this.fsm = fsm;
    this.saved = saved;
    this.storage = options.storage;
    this.transport = options.transport;
    this.codec = options.codec;
    this.describe = options.describe;
    this.changed = options.changed;
    this.apiAddresses = new Map(options.apiAddresses);
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.tickMs = options.tickMs;
    this.electionMs = options.tickMs * options.electionTicks;
    this.clockOrigin = this.clock.now();
    // The ones after the first automatic snapshot keep its phase (see options.ts).
    this.snapshotDelay = options.random.snapshotDelay;
    const metrics = this.metrics;
    this.proposals = new ProposalTracker<R>(options.proposalTimeoutMs, {
      onSettled: (seconds, outcome) => {
        if (!metrics) return;
        metrics.proposals.inc({ result: outcome });
        if (outcome === 'ok') metrics.proposalSeconds.observe(seconds);
      },
    });
    this.confChanges = new ProposalTracker<void>(options.proposalTimeoutMs);
    // Each life has its own read-context nonce (see options.ts).
    this.loop = new Coalescer({
      hasWork: () => !this.stopped && (this.tasks.length > 0 || this.core.hasReady()),
      step: () => this.loopStep(),
      // A failed step stops the node (fail), so there is never a next step to back off from.
      onFailure: (error) => this.fail(error),
      backoffMs: () => 0,
      timer: (ms, fire) => this.clock.after(ms, fire),
    });
    this.reads = new ReadTracker(
      `${options.id}.${options.random.readNonce.toString(36)}`,
      options.readTimeoutMs,
    );
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
      node.snapshotMeta = persisted.snapshot.meta;
      node.applied = persisted.snapshot.meta.index;
      node.learnPeers(persisted.snapshot.meta.configContext);
    }
    for (const [event, listener] of Object.entries(resolved.listeners))
      node.listeners.on(
        event as keyof NodeEvents,
        listener as (payload: NodeEvents[keyof NodeEvents]) => void,
      );
    node.term = coreView(core).term;
    node.logger.info(
      { id: resolved.id, term: node.term, applied: node.applied, restored: persisted !== null },
      'raft node starting',
    );
    await resolved.transport.start((message) => node.receive(message));
    node.scheduleTick();
    node.kick();
    return node;
  }

  // ---- client operations -------------------------------------------------------------

  /** Proposes a command; resolves with the FSM's result once the entry is applied here. */
  propose(command: C): Promise<R> {
    const refusal = this.refuseWrite();
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
      this.metrics?.leaseReads.inc({ path: 'read_index' });
      return this.readBarrier();
    }
    this.metrics?.leaseReads.inc({ path: 'lease' });
    if (index <= this.applied) return Promise.resolve();
    return new Promise<void>((resolve, reject) =>
      this.reads.waitForApplied(index, this.clock.now(), { resolve, reject }),
    );
  }

  /** A linearizable read barrier (ReadIndex; a follower asks the leader): resolves once applied >= read index. */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    if (this.leader === null) return Promise.reject(new NoLeaderError());
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
    const refusal = this.refuseWrite();
    if (refusal) throw refusal;
    const target = to ?? this.bestTransferTarget();
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
    const refusal = this.refuseWrite();
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
    return this.inLoop(() => this.snapshotNow());
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
    const first = (this.snapshotMeta?.index ?? 0) + 1;
    if (after + 1 < first) return { compacted: first };
    if (after >= this.applied) return { events: [], next: after };
    const want = Math.min(limit, this.applied - after);
    const entries = this.core.entriesAfter(after, want);
    if (entries === 'compacted') return { compacted: (this.snapshotMeta?.index ?? 0) + 1 };
    const events: DecodedEvent[] = [];
    let next = after;
    for (const entry of entries) {
      if (entry.index > this.applied) break;
      next = entry.index;
      const event = this.decodeEntry(entry);
      if (event && !this.unchanged.has(entry.index)) events.push(event);
    }
    return { events, next };
  }

  status(): NodeStatus {
    const view = coreView(this.core);
    const leader = view.leader;
    const now = this.clock.now();
    const sinceHeard = (id: NodeId): number | null => {
      const at = this.heard.get(id);
      return at === undefined ? null : Math.max(0, Math.round(now - at));
    };
    return {
      id: this.id,
      role: view.role,
      term: view.term,
      leader,
      leaderApi: leader === null ? null : (this.apiAddresses.get(leader) ?? null),
      commit: view.commit,
      applied: this.applied,
      snapshotIndex: this.snapshotMeta?.index ?? 0,
      lastIndex: view.lastIndex,
      peers:
        view.role === 'leader'
          ? view.progress
              .filter((p) => p.id !== this.id)
              .map((p) => ({
                ...p,
                lag: Math.max(0, view.lastIndex - p.match),
                lastContactMs: sinceHeard(p.id),
              }))
          : [],
      lastContactMs: leader === null || leader === this.id ? null : sinceHeard(leader),
      config: view.config,
      ready: this.isReady(),
    };
  }

  /** Has a leader and has applied what the leader had committed when this node first followed it. */
  isReady(): boolean {
    return !this.stopped && this.fatal === null && this.leader !== null && this.caughtUp;
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
    return this.role === 'leader';
  }

  leaderId(): NodeId | null {
    return this.leader;
  }

  /** API base URL of a member, if known. */
  apiAddress(id: NodeId): string | null {
    return this.apiAddresses.get(id) ?? null;
  }

  setApiAddress(id: NodeId, url: string): void {
    this.apiAddresses.set(id, url);
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
    this.stopTicking();
    await this.loop.stop();
    const error = new NodeStoppedError();
    this.proposals.failAll(error);
    this.confChanges.failAll(error);
    this.reads.failAll(error);
    for (const task of this.tasks.splice(0)) task.cancel(error);
    // A snapshot being encoded gives up; one being written finishes before storage closes.
    await this.snapshotting;
    await this.transport.close();
    await this.storage.close();
    this.logger.info({ id: this.id }, 'raft node stopped');
  }

  // ---- the loop ------------------------------------------------------------------------

  private receive(message: Message): void {
    if (this.stopped) return;
    this.heard.set(message.from, this.clock.now());
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

  private scheduleTick(): void {
    const next = this.clockOrigin + (this.ticksDone + 1) * this.tickMs;
    // At least 1 ms: a timer that fired a hair early (rounding) must not spin.
    this.cancelTicker = this.clock.after(Math.max(1, next - this.clock.now()), () => {
      this.cancelTicker = null;
      if (this.stopped) return;
      this.advanceClock();
      this.scheduleTick();
    });
  }

  private stopTicking(): void {
    this.cancelTicker?.();
    this.cancelTicker = null;
  }

  /**
   * Ticks the core once for every tick interval that elapsed: a timer that fired late, or a
   * process that was paused, must not make the core believe less time passed than did
   * (the leader lease counts ticks). After a pause longer than an election timeout, E + 1
   * ticks expire every lease and timeout just as more would.
   */
  private advanceClock(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const due = Math.floor((now - this.clockOrigin) / this.tickMs);
    if (due <= this.ticksDone) return;
    const count = Math.min(due - this.ticksDone, this.options.electionTicks + 1);
    this.ticksDone = due;
    for (let i = 0; i < count; i++) this.core.tick();
    this.proposals.expire(now);
    this.confChanges.expire(now);
    this.reads.expire(now);
    if (!this.caughtUp) this.catchUp();
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
    this.stopTicking();
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

  /** One Ready through the contract of the `Ready` type (src/raft/messages.ts), step by step. */
  private async handleReady(rd: Ready): Promise<void> {
    const change = rd.softState
      ? this.onSoftState(rd.softState.role, rd.softState.leader, rd.softState.term)
      : null;
    // 2 (the leader's exception): its appends and heartbeats leave before its own write.
    let messages = rd.messages;
    if (this.role === 'leader' && messages.length > 0) {
      const early: Message[] = [];
      const later: Message[] = [];
      for (const m of messages) (m.type === 'append' || m.type === 'heartbeat' ? early : later).push(m);
      if (early.length > 0) this.transport.send(early);
      messages = later;
    }
    // 1. Persist, in one durable write, when mustSync says so.
    if (this.mustPersist(rd)) {
      const started = this.clock.now();
      await this.storage.save({
        entries: rd.entries,
        ...(rd.hardState ? { hardState: rd.hardState } : {}),
        ...(rd.snapshot ? { snapshot: rd.snapshot } : {}),
      });
      const seconds = (this.clock.now() - started) / 1000;
      this.metrics?.fsyncSeconds.observe(seconds);
      this.metrics?.fsyncRecent.observe(seconds);
      if (rd.hardState) this.saved = rd.hardState;
    }
    if (rd.hardState) this.metrics?.commitIndex.set(rd.hardState.commit);
    // 2. Send.
    if (messages.length > 0) this.transport.send(messages);
    // 3. Restore, then apply; then serve the reads this makes answerable.
    if (rd.snapshot) this.restore(rd.snapshot.meta, rd.snapshot.data);
    if (rd.committedEntries.length > 0) this.applyEntries(rd.committedEntries);
    for (const rs of rd.readStates) this.reads.readState(rs.context, rs.index, this.applied);
    // Only now fail what the role change orphaned: entries and read states in this very Ready
    // (committed or confirmed before the change) still settled their promises above.
    if (change) this.afterRoleChange(change);
    // 4. Advance.
    this.core.advance(rd);
    if (rd.committedEntries.length > 0) {
      this.reads.applied(this.applied);
      this.metrics?.appliedIndex.set(this.applied);
      this.maybeSnapshot();
    }
  }

  /** Starts an automatic snapshot when enough entries were applied since the last one. */
  private maybeSnapshot(): void {
    const every = this.options.snapshotEvery;
    if (every === 0 || this.snapshotting !== null) return;
    if (this.applied - (this.snapshotMeta?.index ?? 0) < every + this.snapshotDelay) return;
    this.snapshotDelay = 0;
    // Taken now, stored in the background: the loop goes on replicating and applying while
    // the file is written (a failure there stops the node like any storage failure).
    this.snapshotNow().catch((error: unknown) => {
      if (!(error instanceof NodeStoppedError)) this.fail(error);
    });
  }

  private onSoftState(role: Role, leader: NodeId | null, term: Term): RoleChange {
    const change: RoleChange = { role, leader, term, previousRole: this.role, previousLeader: this.leader };
    this.role = role;
    this.leader = leader;
    this.term = term;
    if (this.metrics) {
      this.metrics.isLeader.set(role === 'leader' ? 1 : 0);
      this.metrics.term.set(term);
      if (leader !== change.previousLeader && leader !== null) this.metrics.leaderChanges.inc();
    }
    if (leader !== change.previousLeader && leader !== null)
      this.logger.info({ id: this.id, leader, term }, 'leader changed');
    return change;
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
    if (change.leader !== null && !this.caughtUp) queueMicrotask(() => this.catchUp());
    this.listeners.emit('role', change);
  }

  /** Readiness: one read barrier after first following a leader = "applied what it had committed". */
  private catchUp(): void {
    if (this.caughtUp || this.catchingUp || this.leader === null || this.stopped) return;
    this.catchingUp = true;
    this.readBarrier().then(
      () => {
        this.caughtUp = true;
        this.catchingUp = false;
      },
      () => {
        this.catchingUp = false;
      },
    );
  }

  private restore(meta: SnapshotMeta, data: Uint8Array): void {
    this.fsm.restore(data);
    this.snapshotMeta = meta;
    this.applied = meta.index;
    this.proposals.coveredBySnapshot(meta.index);
    this.learnPeers(meta.configContext);
    this.metrics?.appliedIndex.set(this.applied);
    this.listeners.emit('restored', { index: meta.index, term: meta.term });
    this.logger.info(
      { id: this.id, index: meta.index, term: meta.term },
      'state machine restored from snapshot',
    );
  }

  private applyEntries(entries: readonly Entry[]): void {
    const now = this.clock.now();
    const watching = this.listeners.count('applied') > 0;
    for (const entry of entries) {
      if (entry.index <= this.applied) continue; // already covered by a restored snapshot
      if (entry.type === 'command') {
        let command: C | undefined;
        let outcome: { result: R } | { error: Error };
        try {
          command = this.codec.decode(entry.data);
          outcome = { result: this.fsm.apply(command, { index: entry.index, term: entry.term }) };
        } catch (error) {
          outcome = { error: error instanceof Error ? error : new Error(String(error)) };
          this.logger.error({ err: outcome.error, index: entry.index }, 'state machine apply threw');
        }
        this.proposals.applied(entry.index, entry.term, now, outcome);
        const quiet = 'result' in outcome && this.changed !== null && !this.changed(outcome.result);
        if (quiet) this.noteUnchanged(entry.index);
        if (watching && command !== undefined && !quiet) {
          const view = this.describe(command);
          this.listeners.emit('applied', {
            index: entry.index,
            term: entry.term,
            type: view.type,
            payload: view.payload,
          });
        }
      } else {
        this.proposals.lose(
          entry.index,
          `a ${entry.type} entry from term ${entry.term} took index ${entry.index}`,
        );
        if (entry.type === 'config') {
          this.applyConfChange(entry.change);
          this.confChanges.applied(entry.index, entry.term, now, { result: undefined });
          if (watching)
            this.listeners.emit('applied', {
              index: entry.index,
              term: entry.term,
              type: 'config',
              payload: entry.change,
            });
        } else {
          this.confChanges.lose(entry.index, `a no-op from term ${entry.term} took index ${entry.index}`);
        }
      }
      this.applied = entry.index;
    }
  }

  /** Remembers an index events() must skip; forgets those a snapshot has compacted away. */
  private noteUnchanged(index: LogIndex): void {
    const compacted = this.snapshotMeta?.index ?? 0;
    for (const old of this.unchanged) {
      if (old > compacted) break;
      this.unchanged.delete(old);
    }
    this.unchanged.add(index);
  }

  private applyConfChange(change: ConfChange): void {
    if (change.node === this.id) return;
    if (change.kind === 'remove') {
      this.transport.removePeer(change.node);
      return;
    }
    if (change.context) this.learnPeer(change.node, change.context);
  }

  private learnPeers(contexts: Readonly<Record<NodeId, string>>): void {
    for (const [id, context] of Object.entries(contexts)) if (id !== this.id) this.learnPeer(id, context);
  }

  /** A member's context is its peer address, or JSON `{"peer": "...", "api": "..."}`. */
  private learnPeer(id: NodeId, context: string): void {
    let peer: string | undefined = context;
    if (context.startsWith('{')) {
      try {
        const parsed = JSON.parse(context) as { peer?: unknown; api?: unknown };
        peer = typeof parsed.peer === 'string' ? parsed.peer : undefined;
        if (typeof parsed.api === 'string') this.apiAddresses.set(id, parsed.api);
      } catch {
        peer = undefined;
      }
    }
    if (peer) this.transport.setPeer(id, peer);
  }

  /**
   * Takes a snapshot of the state machine at the applied index and stores it; resolves once
   * it is durable. Call it in the loop. The state is captured at once, encoded a slice per
   * event-loop turn (when the FSM can, see StateMachine.captureSnapshot), then the core's log
   * is compacted back in the loop and the file is written beside it. Replication and
   * applying go on throughout; one snapshot is in flight at a time (`snapshotting`).
   */
  private snapshotNow(): Promise<SnapshotMeta> {
    // (`snapshotting` never rejects: it only says when the one in flight is over.)
    if (this.snapshotting) return this.snapshotting.then(() => this.inLoop(() => this.snapshotNow()));
    if (this.snapshotMeta && this.snapshotMeta.index >= this.applied)
      return Promise.resolve(this.snapshotMeta);
    const index = this.applied;
    const started = this.clock.now();
    const done = this.encodeState().then((data) =>
      this.inLoop(() => this.compactAndStore(index, data, started)),
    );
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.snapshotting = settled;
    void settled.then(() => {
      if (this.snapshotting === settled) this.snapshotting = null;
    });
    return done;
  }

  /** The state machine's snapshot bytes as of now, encoded without blocking the loop for long. */
  private async encodeState(): Promise<Uint8Array> {
    const slices = this.fsm.captureSnapshot?.();
    if (!slices) return this.fsm.snapshot();
    for (;;) {
      const step = slices.next();
      if (step.done) return step.value;
      await this.clock.yield();
      if (this.stopped) throw new NodeStoppedError();
    }
  }

  private async compactAndStore(index: LogIndex, data: Uint8Array, started: number): Promise<SnapshotMeta> {
    // The core knows the configuration in force at `index` (not the latest appended one).
    const meta = this.core.compact(index, data);
    if (meta === null) {
      // The log already starts after `index`: a leader's snapshot was installed while this one
      // was being encoded (perhaps not yet handed to this loop in a Ready). Nothing to store.
      const newer = this.core.snapshotMeta();
      invariant(
        newer !== null && newer.index >= index,
        () => `the core refused to compact at ${index} but holds no newer snapshot`,
      );
      return newer;
    }
    // The core's log now starts after `index`: events() and status() must say so at once.
    // (A failure to store it stops the node, so nobody acts on a snapshot that is not durable.)
    if (!this.snapshotMeta || this.snapshotMeta.index < meta.index) this.snapshotMeta = meta;
    await this.storage.saveSnapshot({ meta, data });
    this.metrics?.snapshots.inc();
    const ms = Math.round(this.clock.now() - started);
    this.logger.info({ id: this.id, index, bytes: data.byteLength, ms }, 'snapshot taken');
    return meta;
  }

  // ---- helpers -------------------------------------------------------------------------

  private rejectProposal(error: Error): Promise<never> {
    this.metrics?.proposals.inc({ result: 'rejected' });
    return Promise.reject(error);
  }

  private refuseWrite(): Error | null {
    if (this.stopped) return new NodeStoppedError();
    if (this.role === 'leader') return null;
    if (this.leader === null) return new NoLeaderError();
    return new NotLeaderError(this.leader, this.apiAddresses.get(this.leader) ?? null);
  }

  private mapCoreError(error: unknown): Error {
    if (error instanceof InvariantError) {
      // Not a refusal to retry: the core's state is broken. Stop the node (fail is idempotent).
      this.fail(error);
      return error;
    }
    if (this.stopped) return new NodeStoppedError();
    // The core may already know it lost leadership before this driver saw the Ready saying so.
    if (error instanceof NotLeaderError) {
      return error.leader === null || error.leader === this.id
        ? new NoLeaderError()
        : new NotLeaderError(error.leader, this.apiAddresses.get(error.leader) ?? null);
    }
    if (error instanceof ProposalDroppedError) return error;
    return new ProposalDroppedError(error instanceof Error ? error.message : String(error));
  }

  private bestTransferTarget(): NodeId | null {
    const view = coreView(this.core);
    let best: { id: NodeId; match: LogIndex } | null = null;
    for (const p of view.progress) {
      if (p.id === this.id || !view.config.voters.includes(p.id)) continue;
      if (!best || p.match > best.match) best = { id: p.id, match: p.match };
    }
    return best?.id ?? null;
  }

  private decodeEntry(entry: Entry): DecodedEvent | null {
    if (entry.type === 'noop') return null;
    if (entry.type === 'config')
      return { index: entry.index, term: entry.term, type: 'config', payload: entry.change };
    try {
      const view = this.describe(this.codec.decode(entry.data));
      return { index: entry.index, term: entry.term, type: view.type, payload: view.payload };
    } catch {
      return { index: entry.index, term: entry.term, type: 'undecodable', payload: null };
    }
  }
}
