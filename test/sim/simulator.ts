// A deterministic, seeded simulation of a Raft3D cluster that runs the code that ships: real
// RaftNodes (src/node) with the real print-shop FSM, each on a simulated machine (host.ts:
// a clock within the drift bound, a disk that loses unsynced writes and may tear the last
// one, pauses), over a network that delays, drops, duplicates and reorders, with partial
// partitions, crashes, snapshots, membership changes and transfers, while clients write and
// read through the driver at every consistency level. After every event the safety checks
// run (observer.ts); at the end the history is checked for linearizability and, after the
// faults stop, liveness (liveness.ts). One seed replays exactly: all time is virtual and the
// only source of randomness is the seed.
import { setImmediate as turn } from 'node:timers/promises';
import { describeCommand, printShopCodec } from '../../src/fsm/index.js';
import type { PrintShop, ShopCommand, ShopResult } from '../../src/fsm/index.js';
import { RaftNode } from '../../src/node/index.js';
import type { CoreFactory } from '../../src/node/index.js';
import { RaftCore, SeededPrng } from '../../src/raft/index.js';
import type { ConfChange, Entry, Message, NodeId } from '../../src/raft/index.js';
import { EventQueue } from './event-queue.js';
import { faultHandlers } from './faults.js';
import type { FaultKind, FaultTarget } from './faults.js';
import { Host } from './host.js';
import { Violation } from './invariants.js';
import { Liveness } from './liveness.js';
import { Network } from './network.js';
import type { NetworkProfile } from './network.js';
import { ObservedShop } from './observed-shop.js';
import { Observer } from './observer.js';
import { SimTransport } from './sim-transport.js';
import { Trace } from './trace.js';
import { Workload, commandText } from './workload.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Builds each core (mutation tests pass a subclass's factory). */
  readonly core?: CoreFactory;
  /** The driver class (mutation tests pass a subclass that breaks one rule). */
  readonly driver?: typeof RaftNode;
  /** Virtual milliseconds of the fault phase. */
  readonly chaosTime?: number;
  /** After the heal, a leader must commit a probe everyone applies within this time. */
  readonly livenessBound?: number;
  /** Force (or forbid) the hostile fault schedule; by default half of the seeds get it. */
  readonly hostile?: boolean;
  /** Force (or forbid) a still partial partition before the heal (PreVote and CheckQuorum seeds only). */
  readonly partialPhase?: boolean;
  /** Boot the spare node with only itself as the initial configuration (a driver-use bug the checks must catch). */
  readonly joinerBootsAlone?: boolean;
  /** Serve linearizable reads from local state at once (a bug the linearizability check must catch). */
  readonly localReads?: boolean;
  readonly traceLines?: number;
  /** Also trace every message delivered (for replaying one seed). */
  readonly traceMessages?: boolean;
}

export interface SimStats {
  readonly virtualTime: number;
  readonly events: number;
  readonly messages: number;
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>;
  readonly leaders: number;
  readonly committed: number;
  readonly opsOk: number;
  readonly opsUnknown: number;
  readonly refusals: number;
  readonly reads: Readonly<Record<string, number>>;
  /** Virtual time from the heal to a committed probe applied by every member (-1: not reached). */
  readonly recoveredIn: number;
  /** Partial-partition phase: its topology, and the time from the stable layout to a committing leader (-1: none needed or reached). */
  readonly partial: {
    readonly topology: string;
    readonly electable: boolean;
    readonly recoveredIn: number;
  } | null;
  readonly linearizabilitySteps: number;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly violation: Violation | null;
  readonly trace: readonly string[];
  readonly stats: SimStats;
}

/** Virtual milliseconds per tick and ticks per election timeout: E = 100 ms. */
const TICK_MS = 10;
const ELECTION_TICKS = 10;
const ELECTION_MS = TICK_MS * ELECTION_TICKS;
/** The drift bound the nodes are configured with; their clocks run within half of it either way. */
const MAX_CLOCK_DRIFT = 0.1;

/** Runs one seed; never throws for a property violation (it is returned), only for bugs in the simulator itself. */
export function runSimulation(options: SimOptions): Promise<SimResult> {
  return new Simulation(options).run();
}

class Simulation {
  private readonly prng: SeededPrng;
  private readonly queue = new EventQueue();
  private readonly trace: Trace;
  private readonly network: Network;
  private readonly hosts: Host[];
  private readonly initialIds: readonly NodeId[];
  private readonly observer: Observer;
  private readonly workload: Workload;
  private readonly config: {
    readonly preVote: boolean;
    readonly checkQuorum: boolean;
    readonly maxEntriesPerAppend: number;
    readonly maxInflightAppends: number;
    readonly snapshotEvery: number;
  };
  private readonly chaos: {
    readonly hostile: boolean;
    readonly faultEvery: number;
    readonly weights: readonly (readonly [FaultKind, number])[];
    readonly leaderBias: number;
    readonly maxDowntime: number;
    readonly strikeOnElected: number;
    readonly strikeOnCommit: number;
    readonly strikeOnOldCommit: number;
    readonly strikeOnPropose: number;
    readonly tearRate: number;
    readonly diskMax: number;
    readonly profile: NetworkProfile;
  };
  private readonly chaosTime: number;
  private readonly livenessBound: number;
  private readonly partialPhase: boolean;
  private readonly faults: Partial<Record<FaultKind, number>> = {};
  private violation: Violation | null = null;
  private faulting = true;
  private events = 0;
  private readonly liveness: Liveness;
  private done = false;

  constructor(private readonly options: SimOptions) {
    const p = (this.prng = new SeededPrng(options.seed));
    this.trace = new Trace(() => this.queue.now, options.traceLines ?? 40);
    this.chaosTime = options.chaosTime ?? 5000;
    this.livenessBound = options.livenessBound ?? 4000;
    this.initialIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    // Half of the runs have a spare node that is not a member at first: it may join as a
    // learner (catching up from the log or a snapshot) and be promoted.
    const ids = p.next() < 0.5 ? [...this.initialIds, `n${options.nodes + 1}`] : [...this.initialIds];
    const pick = <T>(xs: readonly T[]): T => xs[p.int(xs.length)]!;
    const hostile = options.hostile ?? p.next() < 0.5;
    this.config = {
      preVote: p.next() < 0.75,
      checkQuorum: p.next() < 0.75,
      maxEntriesPerAppend: hostile ? pick([1, 1, 2]) : pick([1, 2, 3, 8, 512]),
      maxInflightAppends: pick([1, 2, 4, 64]),
      snapshotEvery: pick([0, 5, 20, 100]),
    };
    const maxDelay = pick([3, 8, 15, 30, 60]);
    this.chaos = {
      hostile,
      faultEvery: hostile ? 100 + p.int(150) : 40 + p.int(120),
      weights: [
        ['crash', 1 + p.int(4)],
        ['pause', 1 + p.int(2)],
        ['partition', 1 + p.int(3)],
        ['partial-partition', 1 + p.int(3)],
        ['one-way', p.int(2)],
        ['heal', 2],
        ['transfer', 1],
        ['snapshot', 2],
        ['membership', 1],
        ['network', 1],
      ],
      leaderBias: hostile ? 0.8 : 0.5,
      maxDowntime: hostile ? pick([30, 100, 300]) : pick([60, 600]),
      strikeOnElected: hostile ? pick([0.3, 0.5, 0.7]) : 0,
      strikeOnCommit: hostile ? pick([0.02, 0.05, 0.1]) : 0,
      strikeOnOldCommit: hostile ? pick([0.5, 0.8]) : 0,
      strikeOnPropose: hostile ? pick([0.05, 0.1, 0.2]) : 0,
      tearRate: pick([0, 0.3, 0.7]),
      diskMax: pick([0, 1, 3, 10, 30]),
      profile: {
        minDelay: 1 + p.int(3),
        maxDelay,
        dropRate: pick([0, 0.01, 0.05, 0.15]),
        duplicateRate: pick([0, 0.02, 0.1]),
        straggleRate: pick([0, 0.01, 0.05]),
      },
    };
    const rolled = p.next() < 0.5;
    this.partialPhase = this.config.preVote && this.config.checkQuorum && (options.partialPhase ?? rolled);
    // Clock rates within the drift bound: the fastest over the slowest stays under 1 / (1 - drift).
    const spread = MAX_CLOCK_DRIFT / 2.1;
    this.hosts = ids.map((id) => new Host(id, this.queue, 1 - spread + 2 * spread * p.next()));
    this.network = new Network(this.queue, new SeededPrng(p.int(2 ** 31)), this.chaos.profile, (m) =>
      this.deliver(m),
    );
    this.observer = new Observer(this.initialIds);
    this.workload = new Workload(
      this.queue,
      new SeededPrng(p.int(2 ** 31)),
      () => this.hosts,
      options.nodes >= 5 ? 6 : 5,
      options.nodes >= 5 ? 4 : 3,
      (host, index, term) => this.observer.checks.recordAcked(index, term, host.core?.status().term ?? term),
      (host) => this.maybeStrike(host, this.chaos.strikeOnPropose),
      options.localReads ?? false,
    );
    this.trace.note(
      `config ${JSON.stringify(this.config)} chaos ${JSON.stringify(this.chaos)} partial ${this.partialPhase}`,
    );
    this.liveness = new Liveness({
      queue: this.queue,
      prng: this.prng,
      network: this.network,
      hosts: this.hosts,
      initialIds: this.initialIds,
      trace: this.trace,
      tickMs: TICK_MS,
      electionMs: ELECTION_MS,
      bound: this.livenessBound,
      retireRemoved: !this.config.checkQuorum && !this.config.preVote,
      leader: () => this.leader(),
      start: (host) => this.start(host),
      crash: (host, why) => this.crash(host, why),
      stopFaults: () => {
        this.faulting = false;
      },
      faultTarget: () => this.faultTarget(),
      idleClients: (since) => this.workload.idleSince(since),
      done: () => {
        this.done = true;
      },
    });
  }

  async run(): Promise<SimResult> {
    try {
      for (const host of this.hosts) this.start(host);
      this.workload.start();
      this.queue.after(this.chaos.faultEvery, () => this.fault());
      this.queue.at(this.chaosTime, () =>
        this.partialPhase ? this.liveness.stillPartition() : this.liveness.heal(),
      );
      const end = this.chaosTime + (this.partialPhase ? 65 * ELECTION_MS : 0) + this.livenessBound;
      while (!this.done && this.queue.runNext(end)) {
        this.events++;
        await turn(); // the driver's promises settle: every microtask runs before the next event
        this.afterEvent();
      }
      if (!this.done) this.liveness.failed();
      if (this.violation === null) {
        this.assertLogsMatch();
        this.workload.checkLinearizable();
      }
    } catch (error) {
      this.fail(error);
    }
    const w = this.workload.stats();
    return {
      seed: this.options.seed,
      nodes: this.options.nodes,
      violation: this.violation,
      trace: this.trace.lines(),
      stats: {
        virtualTime: this.queue.now,
        events: this.events,
        messages: this.network.sent,
        faults: { ...this.faults },
        leaders: this.observer.checks.leaderCount,
        committed: this.observer.checks.committedCount,
        opsOk: w.ok,
        opsUnknown: w.unknown,
        refusals: w.refusals,
        reads: w.reads,
        recoveredIn: this.liveness.recoveredIn,
        partial: this.liveness.partialOutcome,
        linearizabilitySteps: w.checkSteps,
      },
    };
  }

  /** Keeps the first violation, wherever it was thrown (inside the driver too: it would only log it). */
  private fail(error: unknown): void {
    if (this.violation !== null) return;
    this.violation =
      error instanceof Violation
        ? error
        : new Violation(
            'simulatorThrew',
            error instanceof Error ? (error.stack ?? error.message) : String(error),
          );
    this.trace.note(`VIOLATION ${this.violation.message}`);
    this.done = true;
  }

  /** Runs an observation: a Violation thrown inside the driver's own code path must still end the run. */
  private watch(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  // ---- machines and nodes --------------------------------------------------------------------

  private start(host: Host): void {
    host.up = true;
    const life = host.life;
    const disk = host.disk;
    disk.hooks = {
      delay: () => (this.chaos.diskMax === 0 ? 0 : this.prng.int(this.chaos.diskMax + 1)),
      schedule: (delay, done) => this.queue.after(delay, () => host.run(life, done)),
      onIssue: (write) => this.watch(() => this.observer.issued(host, write)),
      onDurable: (write, before) => this.watch(() => this.observer.durable(host, write, before)),
    };
    const bootAlone = this.options.joinerBootsAlone === true && !this.initialIds.includes(host.id);
    const factory =
      this.options.core ??
      ((config, persisted) => (persisted ? new RaftCore(config, persisted) : new RaftCore(config)));
    const driver = this.options.driver ?? RaftNode;
    this.observer.started(host);
    this.trace.note(
      `${host.id} starts (life ${life}) from ${disk.isEmpty() ? 'nothing' : `hs=${JSON.stringify(disk.hardState)} snap=${disk.snapshot?.meta.index ?? 0} last=${disk.lastIndex}`}`,
    );
    void driver
      .start<ShopCommand, ShopResult, PrintShop>({
        id: host.id,
        initialVoters: bootAlone ? [host.id] : this.initialIds,
        storage: disk,
        transport: new SimTransport(host, life, (_from, messages) => this.send(host, messages)),
        clock: host.clock(),
        tickMs: TICK_MS,
        electionTicks: ELECTION_TICKS,
        heartbeatTicks: 1,
        preVote: this.config.preVote,
        checkQuorum: this.config.checkQuorum,
        maxClockDrift: this.config.checkQuorum ? MAX_CLOCK_DRIFT : null,
        maxEntriesPerAppend: this.config.maxEntriesPerAppend,
        maxInflightAppends: this.config.maxInflightAppends,
        snapshotEvery: this.config.snapshotEvery,
        proposalTimeoutMs: 400,
        readTimeoutMs: 400,
        seed: this.prng.int(2 ** 31),
        core: (config, persisted) => {
          const core = factory(
            { ...config, logger: (event, fields) => this.trace.core(host.id, event, fields) },
            persisted,
          );
          host.core = core;
          if (persisted) this.observer.restoredLog(host, persisted.entries);
          return core;
        },
        stateMachine: () =>
          new ObservedShop((command, meta, result) =>
            this.watch(() => {
              this.observer.applied(host, meta, `cmd ${commandText(command)}`);
              this.workload.appliedCommand(command, meta.index, meta.term, result);
            }),
          ),
        codec: printShopCodec,
        describe: describeCommand,
        listeners: {
          applied: (e) => {
            if (e.type !== 'config') return;
            const change = e.payload as ConfChange;
            this.watch(() => this.observer.applied(host, e, `config ${change.kind} ${change.node}`, change));
          },
          role: (c) =>
            this.trace.note(`${host.id} is ${c.role} of term ${c.term} (leader ${c.leader ?? '-'})`),
        },
      })
      .then(
        (node) => {
          if (host.life !== life || !host.up) return;
          host.node = node;
          host.dirty = true;
        },
        (error: unknown) => this.fail(error),
      );
  }

  private crash(host: Host, why: string): void {
    if (!host.up) return;
    const life = host.life;
    this.trace.note(`${host.id} CRASHES (${why})`);
    host.crash((entries) => (this.prng.next() < this.chaos.tearRate ? this.prng.int(entries) : null));
    this.workload.crashed(host, life);
  }

  private send(host: Host, messages: readonly Message[]): void {
    this.watch(() => this.observer.sent(host, messages));
    if (this.options.traceMessages) for (const m of messages) this.trace.message(m);
    this.network.send(messages);
  }

  private deliver(m: Message): boolean {
    const host = this.hosts.find((h) => h.id === m.to);
    if (!host?.up) return false;
    host.run(host.life, () => host.inbox?.(m));
    return true;
  }

  private afterEvent(): void {
    for (const host of this.hosts) {
      if (!host.dirty) continue;
      host.dirty = false;
      const failure = host.node?.failure();
      if (failure)
        throw new Violation('nodeFailed', `${host.id} stopped: ${failure.stack ?? failure.message}`);
      const step = this.observer.afterStep(host);
      if (step.elected) this.maybeStrike(host, this.chaos.strikeOnElected);
      if (step.committed === 'earlier-term') this.maybeStrike(host, this.chaos.strikeOnOldCommit);
      else if (step.committed === 'current') this.maybeStrike(host, this.chaos.strikeOnCommit);
    }
  }

  private leader(): Host | null {
    const leaders = this.hosts.filter((h) => h.up && h.node?.isLeader());
    return leaders[this.prng.int(leaders.length)] ?? null;
  }

  // ---- faults ----------------------------------------------------------------------------------

  private fault(): void {
    if (!this.faulting) return;
    const weights = this.chaos.weights;
    let r = this.prng.next() * weights.reduce((s, [, w]) => s + w, 0);
    let kind: FaultKind = 'crash';
    for (const [k, w] of weights) {
      r -= w;
      if (r < 0) {
        kind = k;
        break;
      }
    }
    faultHandlers[kind](this.faultTarget());
    this.queue.after(this.chaos.faultEvery / 2 + this.prng.int(this.chaos.faultEvery), () => this.fault());
  }

  private faultTarget(): FaultTarget {
    return {
      prng: this.prng,
      network: this.network,
      hosts: this.hosts,
      initialIds: this.initialIds,
      leaderBias: this.chaos.leaderBias,
      maxDowntime: this.chaos.maxDowntime,
      profile: () => this.chaos.profile,
      leader: () => this.leader(),
      crash: (host, why) => this.crash(host, why),
      restartLater: (host, delay) => {
        const life = host.life;
        this.queue.after(delay, () => {
          if (this.faulting && host.life === life && !host.up) this.start(host);
        });
      },
      pause: (host, duration) => {
        const life = host.life;
        host.pause();
        this.trace.note(`${host.id} PAUSED for ${duration}`);
        this.queue.after(duration, () => {
          if (host.life === life && host.paused) {
            host.resume();
            this.trace.note(`${host.id} resumes`);
          }
        });
      },
      note: (text) => this.trace.note(text),
      count: (kind) => {
        this.faults[kind] = (this.faults[kind] ?? 0) + 1;
      },
    };
  }

  /**
   * Faults aimed at the dangerous moments (hostile runs only): just after a node won an election,
   * just after a leader accepted a proposal, just after its commit index moved (above all over
   * entries of earlier terms). Mostly an isolation, which also drops what is in flight.
   */
  private maybeStrike(host: Host, chance: number): void {
    if (!this.faulting || chance === 0 || this.prng.next() >= chance) return;
    const life = host.life;
    const isolate = this.prng.next() < 0.75;
    this.queue.after(this.prng.int(3), () => {
      if (!this.faulting || host.life !== life || !host.up) return;
      if (isolate) {
        this.network.healAll();
        this.network.partition([[host.id], this.hosts.map((h) => h.id).filter((id) => id !== host.id)]);
        this.trace.note(`strike: ${host.id} isolated`);
        const epoch = this.network.epoch;
        this.queue.after(100 + this.prng.int(300), () => {
          if (this.faulting && this.network.epoch === epoch) this.network.healAll();
        });
      } else {
        this.crash(host, 'strike');
        this.queue.after(5 + this.prng.int(this.chaos.maxDowntime), () => {
          if (this.faulting && host.life === life + 1 && !host.up) this.start(host);
        });
      }
    });
  }

  /** Log Matching between every pair of whole logs, at the end. */
  private assertLogsMatch(): void {
    const logs = new Map<NodeId, { first: number; entries: readonly Entry[] }>();
    for (const h of this.hosts) {
      const s = h.core?.status();
      if (!s) continue;
      const got = h.core!.entriesAfter(s.snapshotIndex, s.lastIndex - s.snapshotIndex);
      if (got !== 'compacted') logs.set(h.id, { first: s.snapshotIndex + 1, entries: got });
    }
    this.observer.checks.assertLogMatchingFull(logs);
  }
}
