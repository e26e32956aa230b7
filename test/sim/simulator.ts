// A deterministic, seeded, single-threaded simulation of a Raft3D cluster: N real RaftCores
// driven the way src/node drives them (ready → persist → send → apply → serve reads →
// advance), over a virtual clock and a network that delays, drops, duplicates and reorders
// messages, with partitions, crashes that lose unpersisted writes, restarts from the
// simulated disk, log compaction, membership changes and leadership transfers, while
// clients write and read. Every step is followed by the safety checks in invariants.ts; the
// client history is checked for linearizability at the end; after the faults heal, a leader
// must be elected and a proposal must commit within a bounded virtual time.
import { NotLeaderError, ProposalDroppedError, RaftCore } from '../../src/raft/index.js';
import type { PersistedState, RaftConfig } from '../../src/raft/index.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  LogIndex,
  Message,
  NodeId,
  Ready,
  Snapshot,
  Term,
} from '../../src/raft/messages.js';
import { SeededPrng } from '../../src/raft/prng.js';
import { EventQueue } from './event-queue.js';
import { SimFsm, decodeCommand, encodeCommand } from './fsm.js';
import type { SimCommand } from './fsm.js';
import { Invariants, Violation } from './invariants.js';
import type { TermAt } from './invariants.js';
import { checkLinearizable, counterModel, describeHistory, registerModel } from './linearizability.js';
import type { CounterInput, Operation, RegisterInput } from './linearizability.js';
import { Network, reliableNetwork } from './network.js';
import type { NetworkProfile } from './network.js';
import { SimStorage } from './storage.js';

export type CoreFactory = (config: RaftConfig, persisted?: PersistedState) => RaftCore;

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Builds each core (mutation tests pass a subclass). */
  readonly factory?: CoreFactory;
  /** Virtual time of the fault phase (one tick = 10 units). */
  readonly chaosTime?: number;
  /** After the faults heal, a leader must be elected and a proposal commit within this time. */
  readonly livenessBound?: number;
  /** Force (or forbid) the hostile fault schedule; by default half of the seeds get it. */
  readonly hostile?: boolean;
  /**
   * Boot the spare node with an empty configuration instead of the initial members (a driver
   * bug the simulation must catch: replaying the log from index 1, the joiner misses the
   * initial voters and may elect itself).
   */
  readonly joinerBootsEmpty?: boolean;
  /** Serve reads from the local state machine at once, skipping ReadIndex (a driver bug the linearizability check must catch). */
  readonly localReads?: boolean;
  /** Lines of trace kept for the report. */
  readonly traceLines?: number;
  /** Also trace every message delivered (for replaying one seed). */
  readonly traceMessages?: boolean;
}

export interface SimStats {
  readonly virtualTime: number;
  readonly events: number;
  readonly messages: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly compactions: number;
  /** Snapshots a leader sent that a node installed. */
  readonly snapshotsInstalled: number;
  readonly confChanges: number;
  readonly transfers: number;
  readonly leaders: number;
  readonly committed: number;
  readonly opsOk: number;
  readonly opsUnknown: number;
  /** Virtual time from the heal to a committed probe applied by every member. */
  readonly recoveredIn: number;
  /** Search steps of the linearizability check (all keys). */
  readonly linearizabilitySteps: number;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly violation: Violation | null;
  readonly trace: readonly string[];
  readonly stats: SimStats;
}

const TICK = 10;
const CLIENT_TIMEOUT = 400;
const KEYS = ['x', 'y', 'c'] as const;
type Key = (typeof KEYS)[number];

type OpStatus = 'pending' | 'ok' | 'unknown' | 'failed';
interface ClientOp {
  readonly id: number;
  readonly client: number;
  readonly key: Key;
  readonly kind: 'write' | 'add' | 'read';
  readonly value: number;
  readonly call: number;
  ret: number;
  output: number | null;
  status: OpStatus;
}

interface Client {
  readonly id: number;
  op: ClientOp | null;
  lastOk: number;
}

interface SimNode {
  readonly id: NodeId;
  up: boolean;
  /** Bumped on every crash, so events of a previous life are ignored. */
  life: number;
  core: RaftCore | null;
  readonly storage: SimStorage;
  fsm: SimFsm;
  appliedTerm: Term;
  /** Configuration at the applied index (what a local snapshot must record). */
  config: ConfState;
  configContext: Record<NodeId, string>;
  /** The Ready being persisted (the driver takes no other until it advances). */
  busy: Ready | null;
  /** The node's log as handed out in Readies: for the log matching check. */
  logBase: LogIndex;
  logBaseTerm: Term;
  log: Entry[];
  /** Highest commit index seen in this life (floor for assertCommitMonotonic). */
  commitSeen: LogIndex;
  readonly proposals: Map<LogIndex, { term: Term; op: ClientOp | null }>;
  readonly reads: Map<string, { op: ClientOp; index: LogIndex | null }>;
  tickPeriod: number;
}

/** Runs one seed; never throws for a property violation (it is returned), only for bugs in the simulator itself. */
export function runSimulation(options: SimOptions): SimResult {
  const sim = new Simulation(options);
  return sim.run();
}

class Simulation {
  private readonly prng: SeededPrng;
  private readonly queue = new EventQueue();
  private readonly checks = new Invariants();
  private readonly network: Network;
  private readonly nodes = new Map<NodeId, SimNode>();
  /** The members the cluster is bootstrapped with. */
  private readonly initialIds: readonly NodeId[];
  /** All nodes, spares included. */
  private readonly ids: NodeId[];
  private readonly clients: Client[] = [];
  private readonly ops: ClientOp[] = [];
  private readonly factory: CoreFactory;
  private readonly coreConfig: Omit<RaftConfig, 'id' | 'initialVoters' | 'prng'>;
  private readonly chaosTime: number;
  private readonly livenessBound: number;
  private readonly trace: string[] = [];
  private readonly traceLines: number;
  private readonly chaos: {
    hostile: boolean;
    faultEvery: number;
    crashWeight: number;
    partitionWeight: number;
    /** Chance that a crash or an isolation picks the leader. */
    leaderBias: number;
    maxDowntime: number;
    /** Chance of crashing or isolating a node soon after it becomes leader / after its commit index moves. */
    strikeOnElected: number;
    strikeOnCommit: number;
    strikeOnOldCommit: number;
    strikeOnPropose: number;
    diskMax: number;
    profile: NetworkProfile;
  };
  private healed = false;
  /** Client op id -> when some node first applied its command. */
  private readonly firstApplied = new Map<number, number>();
  /** Writes whose client never learnt the outcome (settled from the log at the end). */
  private unknownWrites = 0;
  private linearizabilitySteps = 0;
  /** Removed nodes shut down at the heal (see heal()). */
  private readonly retired = new Set<NodeId>();
  private healedAt = 0;
  private events = 0;
  private opSeq = 0;
  private valueSeq = 0;
  private readonly stats = {
    crashes: 0,
    partitions: 0,
    compactions: 0,
    snapshotsInstalled: 0,
    confChanges: 0,
    transfers: 0,
  };
  private readonly liveness: {
    probe: { node: NodeId; life: number; index: LogIndex; term: Term } | null;
    acked: boolean;
    doneAt: number | null;
  } = {
    probe: null,
    acked: false,
    doneAt: null,
  };

  constructor(private readonly options: SimOptions) {
    this.prng = new SeededPrng(options.seed);
    this.factory = options.factory ?? ((config, persisted) => new RaftCore(config, persisted));
    this.chaosTime = options.chaosTime ?? 5000;
    this.livenessBound = options.livenessBound ?? 4000;
    this.traceLines = options.traceLines ?? 40;
    this.initialIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    // Half of the runs have a spare node that is not a member at first: it may join as a
    // learner (catching up from the log or a snapshot) and be promoted.
    const spare = this.prng.next() < 0.5 ? [`n${options.nodes + 1}`] : [];
    this.ids = [...this.initialIds, ...spare];
    const p = this.prng;
    const pick = <T>(xs: readonly T[]): T => xs[p.int(xs.length)]!;
    // Half of the seeds are "hostile": fewer random faults, but crashes and isolations aimed at
    // the leader at the dangerous moments (just elected, just proposed, just committed entries
    // of an earlier term), short downtimes and one-entry appends, so leaders change while
    // entries are partly replicated (what Figure 8 of the paper needs).
    const rolled = p.next() < 1 / 2;
    const hostile = options.hostile ?? rolled;
    this.coreConfig = {
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: p.next() < 0.75,
      checkQuorum: p.next() < 0.75,
      maxEntriesPerAppend: hostile ? pick([1, 1, 2]) : pick([1, 2, 3, 8, 512]),
      maxInflightAppends: pick([1, 2, 4, 64]),
    };
    const maxDelay = pick([3, 8, 15, 30, 60]);
    this.chaos = {
      hostile,
      faultEvery: hostile ? 100 + p.int(150) : 40 + p.int(120),
      crashWeight: 1 + p.int(4),
      partitionWeight: 1 + p.int(3),
      leaderBias: hostile ? 0.8 : 0.5,
      maxDowntime: hostile ? pick([30, 100, 300]) : pick([60, 600]),
      strikeOnElected: hostile ? pick([0.3, 0.5, 0.7]) : 0,
      strikeOnCommit: hostile ? pick([0.02, 0.05, 0.1]) : 0,
      strikeOnOldCommit: hostile ? pick([0.5, 0.8]) : 0,
      strikeOnPropose: hostile ? pick([0.05, 0.1, 0.2]) : 0,
      diskMax: pick([0, 1, 3, 10, 30]),
      profile: {
        minDelay: 1 + p.int(3),
        maxDelay,
        dropRate: pick([0, 0.01, 0.05, 0.15]),
        duplicateRate: pick([0, 0.02, 0.1]),
        straggleRate: pick([0, 0.01, 0.05]),
      },
    };
    this.network = new Network(this.queue, new SeededPrng(p.int(2 ** 31)), this.chaos.profile, (m) =>
      this.deliver(m),
    );
    this.note(`config ${JSON.stringify(this.coreConfig)} chaos ${JSON.stringify(this.chaos)}`);
  }

  run(): SimResult {
    let violation: Violation | null = null;
    try {
      this.setup();
      const end = this.chaosTime + this.livenessBound;
      while (this.queue.runNext(end)) {
        this.events++;
        if (this.liveness.doneAt !== null) break;
      }
      if (this.liveness.doneAt === null) this.livenessFailed();
      this.finalChecks();
    } catch (error) {
      if (error instanceof Violation) violation = error;
      else
        violation = new Violation(
          'coreOrSimulatorThrew',
          error instanceof Error ? `${error.stack ?? error.message}` : String(error),
        );
      this.note(`VIOLATION ${violation.message}`);
    }
    const ok = this.ops.filter((o) => o.status === 'ok').length;
    return {
      seed: this.options.seed,
      nodes: this.options.nodes,
      violation,
      trace: this.trace.slice(),
      stats: {
        virtualTime: this.queue.now,
        events: this.events,
        messages: this.network.sent,
        ...this.stats,
        leaders: this.checks.leaderCount,
        committed: this.checks.committedCount,
        opsOk: ok,
        opsUnknown: this.unknownWrites,
        recoveredIn: this.liveness.doneAt === null ? -1 : this.liveness.doneAt - this.healedAt,
        linearizabilitySteps: this.linearizabilitySteps,
      },
    };
  }

  // ---- trace -------------------------------------------------------------------------

  private note(text: string): void {
    this.trace.push(`t=${this.queue.now} ${text}`);
    if (this.trace.length > this.traceLines * 2) this.trace.splice(0, this.trace.length - this.traceLines);
  }

  // ---- setup and nodes ------------------------------------------------------------------

  private setup(): void {
    for (const id of this.ids) {
      const node: SimNode = {
        id,
        up: false,
        life: 0,
        core: null,
        storage: new SimStorage(),
        fsm: new SimFsm(),
        appliedTerm: 0,
        config: { voters: this.initialIds, learners: [] },
        configContext: {},
        busy: null,
        logBase: 0,
        logBaseTerm: 0,
        log: [],
        commitSeen: 0,
        proposals: new Map(),
        reads: new Map(),
        tickPeriod: TICK - 1 + this.prng.int(3),
      };
      this.nodes.set(id, node);
      this.start(node);
    }
    const clients = this.options.nodes >= 5 ? 6 : 5;
    for (let c = 0; c < clients; c++) {
      const client: Client = { id: c, op: null, lastOk: -1 };
      this.clients.push(client);
      this.queue.after(this.prng.int(50), () => this.clientNext(client));
    }
    this.queue.after(this.chaos.faultEvery, () => this.fault());
    this.queue.at(this.chaosTime, () => this.heal());
  }

  private start(node: SimNode): void {
    const persisted = node.storage.isEmpty() ? undefined : node.storage.load();
    const config: RaftConfig = {
      ...this.coreConfig,
      id: node.id,
      // Like etcd's --initial-cluster: every node, a joining one too, boots with the initial
      // members, so a joiner replaying the log from index 1 computes the right configuration.
      initialVoters: this.bootVoters(node.id),
      prng: new SeededPrng(this.prng.int(2 ** 31)),
    };
    node.life++;
    node.up = true;
    node.busy = null;
    node.fsm = new SimFsm();
    node.appliedTerm = 0;
    node.config = { voters: this.bootVoters(node.id), learners: [] };
    node.configContext = {};
    const snap = node.storage.snapshot;
    if (snap) {
      node.fsm.restore(snap.data, snap.meta.index);
      node.appliedTerm = snap.meta.term;
      node.config = snap.meta.config;
      node.configContext = { ...snap.meta.configContext };
    }
    node.logBase = snap?.meta.index ?? 0;
    node.logBaseTerm = snap?.meta.term ?? 0;
    node.log = node.storage.entries.slice();
    node.commitSeen = node.storage.hardState?.commit ?? 0;
    node.core = this.factory(config, persisted);
    const life = node.life;
    this.note(
      `${node.id} starts (life ${life}) from ${persisted ? `hs=${JSON.stringify(persisted.hardState)} snap=${snap?.meta.index ?? 0} entries=${persisted.entries.length}` : 'nothing'}`,
    );
    this.afterStep(node, 'restart');
    this.pump(node);
    this.queue.after(this.prng.int(node.tickPeriod) + 1, () => this.tick(node, life));
  }

  private bootVoters(id: NodeId): readonly NodeId[] {
    return this.options.joinerBootsEmpty && !this.initialIds.includes(id) ? [] : this.initialIds;
  }

  private tick(node: SimNode, life: number): void {
    if (node.life !== life || !node.up) return;
    node.core!.tick();
    this.afterStep(node, 'tick');
    this.pump(node);
    this.queue.after(node.tickPeriod, () => this.tick(node, life));
  }

  private deliver(message: Message): boolean {
    const node = this.nodes.get(message.to);
    if (!node || !node.up) return false;
    if (this.options.traceMessages) this.note(`${message.from}->${message.to} ${describeMessage(message)}`);
    node.core!.step(message);
    this.afterStep(node, message.type);
    this.pump(node);
    return true;
  }

  private crash(node: SimNode, why: string): void {
    if (!node.up) return;
    this.stats.crashes++;
    this.note(
      `${node.id} CRASHES (${why}); ${node.busy ? 'an unpersisted Ready is lost' : 'nothing in flight'}`,
    );
    node.up = false;
    node.life++;
    node.core = null;
    node.storage.crash(this.prng.next() < 0.5);
    node.busy = null;
    for (const p of node.proposals.values()) if (p.op) this.finish(p.op, 'unknown');
    node.proposals.clear();
    for (const r of node.reads.values()) this.finish(r.op, 'failed');
    node.reads.clear();
  }

  // ---- the driver loop (as src/node does it) --------------------------------------------

  private pump(node: SimNode): void {
    if (!node.up || node.busy !== null) return;
    const core = node.core!;
    if (!core.hasReady()) return;
    const ready = core.ready();
    node.busy = ready;
    if (this.options.traceMessages) this.note(`${node.id} takes a Ready: ${describeReady(ready)}`);
    this.checkReadyEntries(node, ready);
    if (ready.softState) {
      this.note(
        `${node.id} is ${ready.softState.role} of term ${ready.softState.term} (leader ${ready.softState.leader ?? '-'})`,
      );
      if (ready.softState.role === 'leader') this.maybeStrike(node, this.chaos.strikeOnElected, 3);
    }
    const life = node.life;
    const diskDelay = this.chaos.diskMax === 0 ? 0 : this.prng.int(this.chaos.diskMax + 1);
    this.queue.after(diskDelay, () => this.finishReady(node, life, ready));
  }

  /** Log matching, as entries enter the node's log. */
  private checkReadyEntries(node: SimNode, ready: Ready): void {
    if (ready.snapshot) {
      node.logBase = ready.snapshot.meta.index;
      node.logBaseTerm = ready.snapshot.meta.term;
      node.log = [];
    }
    const first = ready.entries[0];
    if (!first) return;
    const last = node.logBase + node.log.length;
    if (first.index > last + 1)
      throw new Violation(
        'assertLogMatching',
        `${node.id}'s Ready entries start at ${first.index} but its log ends at ${last}`,
      );
    if (first.index <= node.logBase)
      throw new Violation(
        'assertLogMatching',
        `${node.id}'s Ready entries start at ${first.index}, inside its snapshot (${node.logBase})`,
      );
    node.log.length = first.index - node.logBase - 1;
    for (const e of ready.entries) {
      const prevIndex = e.index - 1;
      const prevTerm =
        prevIndex === node.logBase ? node.logBaseTerm : node.log[prevIndex - node.logBase - 1]?.term;
      if (e.index !== node.logBase + node.log.length + 1)
        throw new Violation(
          'assertLogMatching',
          `${node.id}'s Ready entries are not contiguous at ${e.index}`,
        );
      this.checks.assertLogMatching(node.id, e, prevTerm);
      node.log.push(e);
    }
  }

  private finishReady(node: SimNode, life: number, ready: Ready): void {
    if (node.life !== life || !node.up) return;
    const core = node.core!;
    // 1. persist
    const before = node.storage.hardState;
    node.storage.persist(ready);
    if (ready.hardState) {
      this.checks.assertCommitMonotonic(
        node.id,
        ready.hardState.commit,
        before?.commit ?? 0,
        'persisted hard state',
      );
      this.checks.assertDurableVote(node.id, before, ready.hardState);
    }
    // 2. send
    for (const m of ready.messages) this.checks.assertDurableBeforeSend(node.id, m, node.storage);
    this.network.send(ready.messages);
    // 3. restore, then apply
    if (ready.snapshot) this.restoreSnapshot(node, ready.snapshot);
    for (const e of ready.committedEntries) this.applyEntry(node, e);
    for (const rs of ready.readStates) {
      const r = node.reads.get(rs.context);
      if (!r) continue;
      if (rs.index < 0) {
        node.reads.delete(rs.context);
        this.finish(r.op, 'failed');
      } else r.index = rs.index;
    }
    this.serveReads(node);
    // 4. advance
    core.advance(ready);
    node.busy = null;
    this.afterStep(node, 'advance');
    this.pump(node);
  }

  private restoreSnapshot(node: SimNode, snapshot: Snapshot): void {
    const meta = snapshot.meta;
    if (meta.index < node.fsm.applied)
      throw new Violation(
        'assertStateMachineSafety',
        `${node.id} was told to restore a snapshot at ${meta.index} below its applied index ${node.fsm.applied}`,
      );
    this.checks.recordSnapshot(node.id, meta.index, meta.term, node.core!.status().term);
    node.fsm.restore(snapshot.data, meta.index);
    node.appliedTerm = meta.term;
    node.config = meta.config;
    node.configContext = { ...meta.configContext };
    for (const [index, p] of node.proposals) {
      if (index > meta.index) continue;
      node.proposals.delete(index);
      if (p.op) this.finish(p.op, 'unknown');
    }
    this.stats.snapshotsInstalled++;
    this.note(`${node.id} restores a snapshot at ${meta.index}:${meta.term}`);
  }

  private applyEntry(node: SimNode, e: Entry): void {
    this.checks.assertStateMachineSafety(node.id, e);
    let command: SimCommand | null = null;
    if (e.type === 'command') {
      command = decodeCommand(e.data);
      if (!this.firstApplied.has(command.id)) this.firstApplied.set(command.id, this.queue.now);
    } else if (e.type === 'config') this.applyConfig(node, e.change);
    try {
      node.fsm.apply(e.index, command);
    } catch (error) {
      throw new Violation('assertStateMachineSafety', `${node.id}: ${(error as Error).message}`);
    }
    node.appliedTerm = e.term;
    const p = node.proposals.get(e.index);
    if (p) {
      node.proposals.delete(e.index);
      if (p.term === e.term) {
        const status = node.core!.status();
        this.checks.recordAcked(e.index, e.term, status.term);
        if (p.op) {
          if (command && command.op !== 'probe' && command.id !== p.op.id)
            throw new Violation(
              'assertStateMachineSafety',
              `${node.id} applied op ${command.id} where it proposed op ${p.op.id} at ${e.index}:${e.term}`,
            );
          this.finish(p.op, 'ok');
        } else if (this.isProbe(node, e)) {
          this.liveness.acked = true;
          this.note(`liveness probe ${e.index}:${e.term} committed on ${node.id}`);
        }
      } else if (p.op) {
        this.finish(p.op, 'failed');
      }
    }
  }

  private applyConfig(node: SimNode, change: ConfChange): void {
    const voters = node.config.voters.filter((id) => id !== change.node);
    const learners = node.config.learners.filter((id) => id !== change.node);
    const wasVoter = node.config.voters.includes(change.node);
    const wasLearner = node.config.learners.includes(change.node);
    if (change.kind === 'add-learner') (wasVoter ? voters : learners).push(change.node);
    else if (change.kind === 'promote') {
      if (wasVoter || wasLearner) voters.push(change.node);
    }
    node.config = { voters, learners };
    if (change.kind === 'remove') delete node.configContext[change.node];
    else if (change.context !== undefined) node.configContext[change.node] = change.context;
  }

  private serveReads(node: SimNode): void {
    for (const [ctx, r] of node.reads) {
      if (r.index === null || r.index > node.fsm.applied) continue;
      node.reads.delete(ctx);
      r.op.output = node.fsm.read(r.op.key);
      this.finish(r.op, 'ok');
    }
  }

  // ---- checks after every step ----------------------------------------------------------

  private afterStep(node: SimNode, what: string): void {
    const core = node.core!;
    const s = core.status();
    this.checks.assertElectionSafety(node.id, s.role, s.term);
    this.checks.assertCommitMonotonic(node.id, s.commit, node.commitSeen, what);
    if (s.commit > node.commitSeen) {
      const from = Math.max(node.commitSeen, s.snapshotIndex);
      if (from < s.commit) {
        const entries = core.entriesAfter(from, s.commit - from);
        if (entries === 'compacted')
          throw new Violation(
            'assertCommitMonotonic',
            `${node.id} cannot show its committed entries after ${from} (compacted)`,
          );
        if (entries.length !== s.commit - from || entries[0]?.index !== from + 1)
          throw new Violation(
            'assertCommitMonotonic',
            `${node.id} has commit ${s.commit} but holds entries ${entries[0]?.index ?? '-'}..${entries[entries.length - 1]?.index ?? '-'} after ${from}`,
          );
        for (const e of entries) this.checks.recordCommitted(node.id, e, s.term);
        if (s.role === 'leader') {
          // A leader committing entries of earlier terms is the moment of Figure 8.
          const old = entries.some((e) => e.term < s.term);
          this.maybeStrike(node, old ? this.chaos.strikeOnOldCommit : this.chaos.strikeOnCommit, 3);
        }
      }
      node.commitSeen = s.commit;
    }
    if (s.role === 'leader') {
      const termAt = this.termReader(core, s.snapshotIndex, s.lastIndex);
      this.checks.assertLeaderCompleteness(node.id, s.term, termAt);
      this.checks.assertAckedInLeaders(node.id, s.term, termAt);
    }
  }

  private termReader(core: RaftCore, snapshotIndex: LogIndex, lastIndex: LogIndex): TermAt {
    let entries: readonly Entry[] | null = null;
    return (index) => {
      if (index <= snapshotIndex) return 'compacted';
      if (index > lastIndex) return undefined;
      if (entries === null) {
        const got = core.entriesAfter(snapshotIndex, lastIndex - snapshotIndex);
        entries = got === 'compacted' ? [] : got;
      }
      return entries[index - snapshotIndex - 1]?.term;
    };
  }

  // ---- clients ---------------------------------------------------------------------------

  private clientNext(client: Client): void {
    if (client.op !== null) return;
    const roll = this.prng.next();
    const key = KEYS[this.prng.int(KEYS.length)]!;
    const kind: ClientOp['kind'] = roll < 0.4 ? 'read' : key === 'c' ? 'add' : 'write';
    const op: ClientOp = {
      id: ++this.opSeq,
      client: client.id,
      key,
      kind,
      value: kind === 'write' ? ++this.valueSeq : 1,
      call: this.queue.now,
      ret: Infinity,
      output: null,
      status: 'pending',
    };
    const node = this.chooseNode();
    if (!node) {
      this.retryLater(client);
      return;
    }
    const core = node.core!;
    try {
      if (kind === 'read' && this.options.localReads) {
        // The driver bug: answer from local state at once (no ReadIndex round, no leader check).
        client.op = op;
        this.ops.push(op);
        op.output = node.fsm.read(key);
        this.finish(op, 'ok');
        return;
      } else if (kind === 'read') {
        const ctx = `r${op.id}`;
        core.readIndex(ctx);
        node.reads.set(ctx, { op, index: null });
      } else {
        const command: SimCommand =
          kind === 'write'
            ? { op: 'write', key, value: op.value, id: op.id }
            : { op: 'add', key, delta: 1, id: op.id };
        const { index, term } = core.propose(encodeCommand(command));
        this.track(node, index, term, op);
        // An entry only its leader holds, when the leader goes away: step one of Figure 8.
        this.maybeStrike(node, this.chaos.strikeOnPropose, 3);
      }
    } catch (error) {
      if (error instanceof NotLeaderError || error instanceof ProposalDroppedError) {
        this.afterStep(node, 'refused');
        this.retryLater(client);
        return;
      }
      throw error;
    }
    client.op = op;
    this.ops.push(op);
    this.afterStep(node, `client ${kind}`);
    this.pump(node);
    this.queue.after(CLIENT_TIMEOUT, () => {
      if (op.status === 'pending') {
        for (const n of this.nodes.values()) {
          const ctx = `r${op.id}`;
          n.reads.delete(ctx);
        }
        this.finish(op, op.kind === 'read' ? 'failed' : 'unknown');
      }
    });
  }

  /**
   * A proposal awaits its entry's apply. An earlier proposal at the same index was truncated
   * from this node's log, but another node may still hold it and commit it: its outcome is unknown.
   */
  private track(node: SimNode, index: LogIndex, term: Term, op: ClientOp | null): void {
    const earlier = node.proposals.get(index);
    if (earlier?.op) this.finish(earlier.op, 'unknown');
    node.proposals.set(index, { term, op });
  }

  private chooseNode(): SimNode | null {
    const up = [...this.nodes.values()].filter((n) => n.up);
    if (up.length === 0) return null;
    if (this.prng.next() < 0.75) {
      const leaders = up.filter((n) => n.core!.status().role === 'leader');
      if (leaders.length > 0) return leaders[this.prng.int(leaders.length)]!;
    }
    return up[this.prng.int(up.length)]!;
  }

  private retryLater(client: Client): void {
    this.queue.after(10 + this.prng.int(40), () => this.clientNext(client));
  }

  private isProbe(node: SimNode, e: Entry): boolean {
    const probe = this.liveness.probe;
    return (
      probe !== null &&
      probe.node === node.id &&
      probe.life === node.life &&
      probe.index === e.index &&
      probe.term === e.term
    );
  }

  private finish(op: ClientOp, status: Exclude<OpStatus, 'pending'>): void {
    if (op.status !== 'pending') return;
    op.status = status;
    if (status === 'ok') op.ret = this.queue.now;
    const client = this.clients[op.client]!;
    if (status === 'ok') client.lastOk = this.queue.now;
    if (client.op === op) {
      client.op = null;
      this.queue.after(this.prng.int(30), () => this.clientNext(client));
    }
  }

  // ---- faults ----------------------------------------------------------------------------

  private fault(): void {
    if (this.healed) return;
    const p = this.prng;
    const all = [...this.nodes.values()];
    const up = all.filter((n) => n.up);
    const leader = up.find((n) => n.core!.status().role === 'leader') ?? null;
    const c = this.chaos;
    const weights: [string, number][] = [
      ['crash', c.crashWeight],
      ['partition', c.partitionWeight],
      ['heal', 1],
      ['transfer', 1],
      ['compact', 2],
      ['membership', 1],
      ['network', 1],
    ];
    let r = p.next() * weights.reduce((s, [, w]) => s + w, 0);
    let action = 'crash';
    for (const [name, w] of weights) {
      r -= w;
      if (r < 0) {
        action = name;
        break;
      }
    }
    switch (action) {
      case 'crash': {
        const victim = leader && p.next() < c.leaderBias ? leader : up[p.int(up.length)];
        if (victim) {
          this.crash(victim, 'fault');
          const life = victim.life;
          this.queue.after(5 + p.int(c.maxDowntime), () => {
            if (!this.healed && victim.life === life && !victim.up) this.start(victim);
          });
        }
        break;
      }
      case 'partition': {
        this.stats.partitions++;
        this.network.healAll();
        const kind = p.next() < c.leaderBias / 2 ? 0 : 1 + p.int(2);
        if (kind === 0 && leader) {
          const others = this.ids.filter((id) => id !== leader.id);
          this.network.partition([[leader.id], others]);
        } else if (kind === 1) {
          const shuffled = this.shuffle(this.ids);
          const cut = 1 + p.int(shuffled.length - 1);
          this.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        } else {
          for (let i = 0; i < 1 + p.int(3); i++) {
            const a = this.ids[p.int(this.ids.length)]!;
            const b = this.ids[p.int(this.ids.length)]!;
            if (a !== b) this.network.block(a, b);
          }
        }
        this.note(`partition: ${this.network.describePartitions()}`);
        break;
      }
      case 'heal':
        this.network.healAll();
        for (const n of all) {
          if (!n.up && p.next() < 0.5) this.start(n);
        }
        this.note('network healed');
        break;
      case 'transfer':
        if (leader) {
          const voters = leader.core!.status().config.voters.filter((id) => id !== leader.id);
          const target = voters[p.int(voters.length)];
          if (target) {
            this.stats.transfers++;
            this.note(`${leader.id} transfers leadership to ${target}`);
            this.call(leader, 'transfer', (core) => core.transferLeadership(target));
          }
        }
        break;
      case 'compact': {
        const n = up[p.int(up.length)];
        if (n) this.compact(n);
        break;
      }
      case 'membership':
        if (leader) this.changeMembership(leader);
        break;
      case 'network': {
        const calm = p.next() < 0.5;
        this.network.profile = calm
          ? reliableNetwork
          : {
              ...c.profile,
              dropRate: Math.min(0.5, c.profile.dropRate * 3 + 0.05),
              maxDelay: c.profile.maxDelay * 2,
            };
        this.note(`network ${calm ? 'calm' : 'storm'}`);
        this.queue.after(100 + p.int(400), () => {
          if (!this.healed) this.network.profile = c.profile;
        });
        break;
      }
    }
    this.queue.after(Math.max(1, c.faultEvery / 2 + p.int(c.faultEvery)), () => this.fault());
  }

  /**
   * Faults aimed at the dangerous moments (hostile runs only): just after a node won an election
   * (its no-op not yet replicated), just after a leader accepted a proposal (only it holds the
   * entry), and just after a leader's commit index moved, above all over entries of earlier terms
   * (followers not yet told). Mostly an isolation, which also drops what is in flight.
   */
  private maybeStrike(node: SimNode, chance: number, within: number): void {
    if (this.healed || chance === 0 || this.prng.next() >= chance) return;
    const life = node.life;
    const isolate = this.prng.next() < 0.75;
    this.queue.after(this.prng.int(within), () => {
      if (this.healed || node.life !== life || !node.up) return;
      if (isolate) {
        this.network.healAll();
        this.network.partition([[node.id], this.ids.filter((id) => id !== node.id)]);
        this.stats.partitions++;
        this.note(`strike: ${node.id} isolated`);
        const epoch = this.network.epoch;
        this.queue.after(100 + this.prng.int(300), () => {
          if (!this.healed && this.network.epoch === epoch) {
            this.network.healAll();
            this.note(`strike: ${node.id} reconnected`);
          }
        });
      } else {
        this.crash(node, 'strike');
        this.queue.after(5 + this.prng.int(this.chaos.maxDowntime), () => {
          if (!this.healed && node.life === life + 1 && !node.up) this.start(node);
        });
      }
    });
  }

  private call(node: SimNode, what: string, fn: (core: RaftCore) => void): void {
    try {
      fn(node.core!);
    } catch (error) {
      if (!(error instanceof NotLeaderError || error instanceof ProposalDroppedError)) throw error;
      this.note(`${node.id} refused ${what}: ${error.message}`);
    }
    this.afterStep(node, what);
    this.pump(node);
  }

  private compact(node: SimNode): void {
    const index = node.fsm.applied;
    if (node.busy !== null || index <= (node.storage.snapshot?.meta.index ?? 0)) return;
    const data = node.fsm.snapshot();
    const meta = node.core!.compact(index, data);
    if (meta === null) return; // the core's log already starts after `index`
    // The core's idea of the configuration at `index` must be what the applied entries say.
    if (meta.index !== index || meta.term !== node.appliedTerm || !sameConf(meta.config, node.config))
      throw new Violation(
        'assertStateMachineSafety',
        `${node.id} compacted at ${index}:${node.appliedTerm} with config ${JSON.stringify(node.config)}, but the core's snapshot is ${meta.index}:${meta.term} with ${JSON.stringify(meta.config)}`,
      );
    const snapshot: Snapshot = { meta, data };
    this.checks.recordSnapshot(node.id, index, meta.term, node.core!.status().term);
    node.storage.saveSnapshot(snapshot);
    this.stats.compactions++;
    this.note(`${node.id} compacts its log up to ${index}:${node.appliedTerm}`);
    this.afterStep(node, 'compact');
    this.pump(node);
  }

  private changeMembership(leader: SimNode): void {
    const p = this.prng;
    const conf = leader.core!.status().config;
    const outside = this.ids.filter((id) => !conf.voters.includes(id) && !conf.learners.includes(id));
    const minVoters = this.options.nodes >= 5 ? 3 : 2;
    let change: ConfChange | null = null;
    if (conf.learners.length > 0 && p.next() < 0.7)
      change = { kind: 'promote', node: conf.learners[p.int(conf.learners.length)]! };
    else if (outside.length > 0 && p.next() < 0.6)
      change = { kind: 'add-learner', node: outside[p.int(outside.length)]!, context: `addr-${p.int(1000)}` };
    else if (conf.voters.length > minVoters)
      change = { kind: 'remove', node: conf.voters[p.int(conf.voters.length)]! };
    else if (conf.learners.length > 0)
      change = { kind: 'remove', node: conf.learners[p.int(conf.learners.length)]! };
    if (!change) return;
    this.stats.confChanges++;
    const c = change;
    this.note(`${leader.id} proposes ${c.kind} ${c.node}`);
    this.call(leader, `conf change ${c.kind} ${c.node}`, (core) => {
      const { index, term } = core.proposeConfChange(c);
      this.track(leader, index, term, null);
    });
  }

  private shuffle<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.prng.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  // ---- liveness ----------------------------------------------------------------------------

  private heal(): void {
    this.healed = true;
    this.healedAt = this.queue.now;
    this.network.healAll();
    this.network.profile = reliableNetwork;
    for (const n of this.nodes.values()) if (!n.up) this.start(n);
    if (!this.coreConfig.checkQuorum && !this.coreConfig.preVote) {
      // Without PreVote or CheckQuorum's leader lease nothing stops a removed member that never
      // learnt of its removal from deposing leaders forever (dissertation §4.2.3): shut such
      // nodes down, as an operator scaling down would. A node counts as removed when the latest
      // configuration (appended, maybe not yet committed: it takes effect at once) of most of the
      // other nodes leaves it out.
      const all = [...this.nodes.values()];
      const configs = new Map(all.map((n) => [n.id, n.core!.status().config]));
      for (const n of all) {
        const others = all.filter((m) => m !== n);
        const excluding = others.filter((m) => {
          const conf = configs.get(m.id)!;
          return !conf.voters.includes(n.id) && !conf.learners.includes(n.id);
        });
        if (excluding.length * 2 > others.length) {
          this.crash(n, 'removed from the cluster; shut down');
          this.retired.add(n.id);
        }
      }
    }
    this.note('ALL FAULTS HEALED; liveness clock starts');
    this.queue.after(TICK, () => this.checkLiveness());
  }

  private checkLiveness(): void {
    const up = [...this.nodes.values()].filter((n) => n.up);
    // A leader of the current configuration that no member has overtaken (a removed node that
    // never learnt of its removal may campaign on with ever higher terms; it must not matter).
    const leader = up.find((n) => {
      const s = n.core!.status();
      if (s.role !== 'leader' || !s.config.voters.includes(n.id)) return false;
      return up.every(
        (m) =>
          (!s.config.voters.includes(m.id) && !s.config.learners.includes(m.id)) ||
          m.core!.status().term <= s.term,
      );
    });
    const probe = this.liveness.probe;
    const pending =
      probe !== null &&
      probe.node === leader?.id &&
      probe.life === leader.life &&
      leader.proposals.get(probe.index)?.term === probe.term;
    if (leader && !this.liveness.acked && !pending) {
      // No probe yet, or its proposer lost leadership, crashed or lost the entry: propose (again) on the leader.
      try {
        const { index, term } = leader.core!.propose(encodeCommand({ op: 'probe', id: ++this.opSeq }));
        this.track(leader, index, term, null);
        this.liveness.probe = { node: leader.id, life: leader.life, index, term };
        this.note(`liveness probe proposed on ${leader.id} at ${index}:${term}`);
      } catch (error) {
        if (!(error instanceof NotLeaderError || error instanceof ProposalDroppedError)) throw error;
      }
      this.afterStep(leader, 'probe');
      this.pump(leader);
    }
    const current = this.liveness.probe;
    if (leader && current && this.liveness.acked) {
      const conf = leader.core!.status().config;
      const members = [...conf.voters, ...conf.learners];
      const lagging = members.filter(
        (id) => !this.retired.has(id) && (this.nodes.get(id)?.fsm.applied ?? 0) < current.index,
      );
      const idleClients = this.clients.filter((c) => c.lastOk < this.healedAt);
      if (lagging.length === 0 && idleClients.length === 0) {
        this.liveness.doneAt = this.queue.now;
        this.note(
          `liveness: leader ${leader.id}; probe committed and applied by every member ${this.queue.now - this.healedAt} after the heal`,
        );
        return;
      }
    }
    this.queue.after(TICK, () => this.checkLiveness());
  }

  private livenessFailed(): never {
    const lines = [...this.nodes.values()].map((n) => {
      if (!n.up) return `${n.id} down`;
      const s = n.core!.status();
      const progress = s.progress.map((p) => `${p.id}:${p.state} match ${p.match} next ${p.next}`).join('; ');
      return `${n.id} ${s.role} term ${s.term} leader ${s.leader ?? '-'} commit ${s.commit} applied ${n.fsm.applied} last ${s.lastIndex} voters [${s.config.voters.join(',')}] learners [${s.config.learners.join(',')}]${progress ? ` progress ${progress}` : ''}`;
    });
    const idle = this.clients.filter((c) => c.lastOk < this.healedAt).map((c) => c.id);
    throw new Violation(
      'assertLiveness',
      `${this.livenessBound} time units after all faults healed (t=${this.healedAt}): probe ${JSON.stringify(this.liveness.probe)}, clients without a completed op since: [${idle.join(',')}]\n  ${lines.join('\n  ')}`,
    );
  }

  // ---- end of run ---------------------------------------------------------------------------

  private finalChecks(): void {
    const logs = new Map<NodeId, { first: LogIndex; entries: readonly Entry[] }>();
    for (const n of this.nodes.values()) {
      if (!n.up) continue;
      const s = n.core!.status();
      const got = n.core!.entriesAfter(s.snapshotIndex, s.lastIndex - s.snapshotIndex);
      if (got !== 'compacted') logs.set(n.id, { first: s.snapshotIndex + 1, entries: got });
    }
    this.checks.assertLogMatchingFull(logs);
    this.assertLinearizable();
  }

  /**
   * Writes whose client never learnt the outcome are settled from the log: a command some node
   * applied at time t took effect by t (every read that starts later must see it), so its interval
   * ends at t; a command no node ever applied was seen by no read and is left out. A write reported
   * lost must never have been applied.
   */
  private settleUnknownWrites(): void {
    for (const op of this.ops) {
      if (op.kind === 'read') continue;
      const applied = this.firstApplied.get(op.id);
      if (op.status === 'failed' && applied !== undefined)
        throw new Violation(
          'assertStateMachineSafety',
          `client op ${op.id} (${op.kind} ${op.key}) was reported lost, yet some node applied it at t=${applied}`,
        );
      if (op.status !== 'unknown') continue;
      this.unknownWrites++;
      if (applied === undefined) op.status = 'failed';
      else {
        op.status = 'ok';
        op.ret = applied;
      }
    }
  }

  private assertLinearizable(): void {
    this.settleUnknownWrites();
    for (const key of KEYS) {
      const ops = this.ops.filter((o) => o.key === key && o.status === 'ok');
      const result =
        key === 'c'
          ? checkLinearizable(
              counterModel,
              ops.map((o): Operation<CounterInput, number | null> => ({
                client: o.client,
                input: o.kind === 'read' ? { kind: 'read' } : { kind: 'add', delta: o.value },
                output: o.kind === 'read' ? (o.output ?? 0) : null,
                call: o.call,
                ret: o.ret,
              })),
            )
          : checkLinearizable(
              registerModel,
              ops.map((o): Operation<RegisterInput, number | null> => ({
                client: o.client,
                input: o.kind === 'read' ? { kind: 'read' } : { kind: 'write', value: o.value },
                output: o.output,
                call: o.call,
                ret: o.ret,
              })),
            );
      if (!result.ok) {
        const history = ops.map((o): Operation<unknown, number | null> => ({
          client: o.client,
          input: o.kind === 'read' ? 'read' : `${o.kind} ${o.value}`,
          output: o.output,
          call: o.call,
          ret: o.ret,
        }));
        throw new Violation(
          'assertLinearizable',
          `the history of key ${key} (${ops.length} ops) is not linearizable; longest linearizable prefix: ${result.longestPrefix.length} ops\n${describeHistory(history).split('\n').slice(-30).join('\n')}`,
        );
      }
      this.linearizabilitySteps += result.steps;
      if (result.gaveUp)
        throw new Violation(
          'assertLinearizable',
          `the check of key ${key} (${ops.length} ops) gave up after ${result.steps} steps: shorten the scenario`,
        );
    }
  }
}

function sameConf(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly NodeId[], y: readonly NodeId[]): boolean =>
    x.length === y.length && [...x].sort().join() === [...y].sort().join();
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}

function describeMessage(m: Message): string {
  switch (m.type) {
    case 'append':
      return `append t${m.term} prev ${m.prevIndex}:${m.prevTerm} entries ${m.entries.length === 0 ? '-' : `${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}`} commit ${m.commit}`;
    case 'append-response':
      return `append-response t${m.term} ${m.success ? 'ok' : 'reject'} ${m.index}${m.rejectHint ? ` hint ${m.rejectHint.hintIndex}:${m.rejectHint.conflictTerm}` : ''}`;
    case 'vote-request':
      return `${m.preVote ? 'pre-' : ''}vote-request t${m.term} last ${m.lastLogIndex}:${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
      return `${m.preVote ? 'pre-' : ''}vote-response t${m.term} ${m.granted ? 'granted' : 'refused'}`;
    case 'heartbeat':
      return `heartbeat t${m.term} commit ${m.commit}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'heartbeat-response':
      return `heartbeat-response t${m.term}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'snapshot':
      return `snapshot t${m.term} at ${m.snapshot.meta.index}:${m.snapshot.meta.term} voters [${m.snapshot.meta.config.voters.join(',')}]`;
    case 'timeout-now':
      return `timeout-now t${m.term}`;
    case 'read-index':
      return `read-index t${m.term} ctx ${m.context}`;
    case 'read-index-response':
      return `read-index-response t${m.term} ctx ${m.context} index ${m.index}`;
  }
}

function describeReady(rd: Ready): string {
  const range = (es: readonly Entry[]): string =>
    es.length === 0
      ? '-'
      : `${es[0]!.index}..${es[es.length - 1]!.index} (terms ${[...new Set(es.map((e) => e.term))].join(',')})`;
  const parts = [
    `entries ${range(rd.entries)}`,
    `committed ${range(rd.committedEntries)}`,
    `${rd.messages.length} messages`,
  ];
  if (rd.hardState) parts.push(`hs ${JSON.stringify(rd.hardState)}`);
  if (rd.snapshot) parts.push(`snapshot ${rd.snapshot.meta.index}:${rd.snapshot.meta.term}`);
  if (rd.readStates.length > 0) parts.push(`${rd.readStates.length} read states`);
  return parts.join(', ');
}
