// A tiny in-test cluster for scripting Raft scenarios message by message: each node is a
// RaftCore with an in-memory "disk" that follows the Ready contract (persist, then queue the
// messages, then apply, then advance). Messages sit in `inflight` until a test delivers,
// drops, reorders or duplicates them.

import { RaftCore, SeededPrng } from '../../src/raft/index.js';
import type {
  ConfChange,
  Entry,
  HardState,
  LeaseConfig,
  Message,
  MessageType,
  NodeId,
  PersistedState,
  RaftConfig,
  Ready,
  Snapshot,
} from '../../src/raft/index.js';

export interface Disk {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export interface ClusterOptions {
  seed?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTicks?: number;
  heartbeatTicks?: number;
  maxEntriesPerAppend?: number;
  maxInflightAppends?: number;
  /** Leader leases for reads (off unless given). */
  leaseReads?: LeaseConfig;
  /** Build the core (e.g. a subclass); defaults to RaftCore. */
  make?: (config: RaftConfig, persisted?: PersistedState) => RaftCore;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (e: Entry): string =>
  e.type === 'command'
    ? new TextDecoder().decode(e.data)
    : e.type === 'noop'
      ? '<noop>'
      : `<config ${e.change.kind} ${e.change.node}>`;

export class Cluster {
  readonly nodes = new Map<NodeId, RaftCore>();
  readonly disks = new Map<NodeId, Disk>();
  /** Applied command payloads per node (noops and config entries as <...> markers), restored snapshots as '<snapshot N>'. */
  readonly applied = new Map<NodeId, string[]>();
  readonly appliedIndex = new Map<NodeId, number>();
  readonly readStates = new Map<NodeId, { context: string; index: number }[]>();
  readonly readies = new Map<NodeId, Ready[]>();
  inflight: Message[] = [];
  /** Nodes cut off from everyone: their messages are dropped both ways. */
  readonly isolated = new Set<NodeId>();
  /** Directed links that drop messages: `${from}->${to}`. */
  readonly cut = new Set<string>();
  readonly prngs = new Map<NodeId, SeededPrng>();
  readonly options: ClusterOptions;
  private readonly initialVoters: readonly NodeId[];

  constructor(voters: readonly NodeId[], options: ClusterOptions = {}, extra: readonly NodeId[] = []) {
    this.options = options;
    this.initialVoters = voters;
    let seed = options.seed ?? 1;
    for (const id of [...voters, ...extra]) {
      this.prngs.set(id, new SeededPrng(seed++));
      this.disks.set(id, { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
      this.applied.set(id, []);
      this.appliedIndex.set(id, 0);
      this.readStates.set(id, []);
      this.readies.set(id, []);
      this.nodes.set(id, this.build(id, undefined));
    }
  }

  config(id: NodeId): RaftConfig {
    const o = this.options;
    return {
      id,
      initialVoters: this.initialVoters,
      electionTicks: o.electionTicks ?? 10,
      heartbeatTicks: o.heartbeatTicks ?? 1,
      preVote: o.preVote ?? true,
      checkQuorum: o.checkQuorum ?? true,
      maxEntriesPerAppend: o.maxEntriesPerAppend ?? 64,
      maxInflightAppends: o.maxInflightAppends ?? 8,
      prng: this.prngs.get(id)!,
      ...(o.leaseReads ? { leaseReads: o.leaseReads } : {}),
    };
  }

  private build(id: NodeId, persisted: PersistedState | undefined): RaftCore {
    const make = this.options.make ?? ((c, p) => (p ? new RaftCore(c, p) : new RaftCore(c)));
    return make(this.config(id), persisted);
  }

  node(id: NodeId): RaftCore {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  disk(id: NodeId): Disk {
    return this.disks.get(id)!;
  }

  /** Runs one Ready of `id` through the contract. Returns whether there was one. */
  process(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.hasReady()) return false;
    const rd = n.ready();
    this.readies.get(id)!.push(rd);
    const disk = this.disk(id);
    if (rd.snapshot) {
      disk.snapshot = rd.snapshot;
      disk.entries = disk.entries.filter((e) => e.index > rd.snapshot!.meta.index);
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      disk.entries = disk.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) disk.hardState = rd.hardState;
    for (const m of rd.messages) this.inflight.push(m);
    if (rd.snapshot) {
      this.applied.get(id)!.push(`<snapshot ${rd.snapshot.meta.index}>`);
      this.appliedIndex.set(id, rd.snapshot.meta.index);
    }
    for (const e of rd.committedEntries) {
      const at = this.appliedIndex.get(id)!;
      if (e.index <= at) continue;
      if (e.index !== at + 1) throw new Error(`${id} applies ${e.index} after ${at}`);
      if (e.index > disk.entries[disk.entries.length - 1]!.index)
        throw new Error(`${id} applies unpersisted ${e.index}`);
      this.applied.get(id)!.push(dec(e));
      this.appliedIndex.set(id, e.index);
    }
    this.readStates.get(id)!.push(...rd.readStates);
    n.advance(rd);
    return true;
  }

  /** Processes Readies on every node until none has work. */
  processAll(): void {
    for (let guard = 0; guard < 1000; guard++) {
      let any = false;
      for (const id of this.nodes.keys()) any = this.process(id) || any;
      if (!any) return;
    }
    throw new Error('processAll did not settle');
  }

  private blocked(m: Message): boolean {
    return (
      this.isolated.has(m.from) ||
      this.isolated.has(m.to) ||
      this.cut.has(`${m.from}->${m.to}`) ||
      !this.nodes.has(m.to)
    );
  }

  /** Takes in-flight messages matching `filter` (all by default) out of the network. */
  take(filter: (m: Message) => boolean = () => true): Message[] {
    const out = this.inflight.filter(filter);
    this.inflight = this.inflight.filter((m) => !filter(m));
    return out;
  }

  /** Delivers one message now (dropped if the link is cut). */
  deliver(m: Message): void {
    if (this.blocked(m)) return;
    this.node(m.to).step(m);
  }

  /** Delivers everything until the network is quiet (no ticks); `lose` picks messages to drop on the way. */
  deliverAll(maxRounds = 200, lose: (m: Message) => boolean = () => false): void {
    for (let round = 0; round < maxRounds; round++) {
      this.processAll();
      if (this.inflight.length === 0) return;
      const batch = this.inflight;
      this.inflight = [];
      for (const m of batch) if (!lose(m)) this.deliver(m);
    }
    throw new Error('deliverAll did not settle');
  }

  /** Drops in-flight messages of the given types (or all). */
  drop(types?: readonly MessageType[]): Message[] {
    return this.take((m) => types === undefined || types.includes(m.type));
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) for (const id of this.nodes.keys()) this.node(id).tick();
  }

  /** Ticks `id` alone until it starts campaigning, then runs the network until quiet. */
  elect(id: NodeId): void {
    const n = this.node(id);
    const start = n.status().term;
    for (let i = 0; i < 100 && n.status().role === 'follower' && n.status().term === start; i++) n.tick();
    this.deliverAll();
    const s = n.status();
    if (s.role !== 'leader') throw new Error(`${id} did not win: ${s.role} in term ${s.term}`);
  }

  /**
   * Runs an election for `id` delivering only vote traffic (other in-flight messages stay
   * queued): the new leader's no-op is appended but not yet replicated.
   */
  electVotesOnly(id: NodeId): void {
    const n = this.node(id);
    const start = n.status().term;
    for (let i = 0; i < 100 && n.status().role === 'follower' && n.status().term === start; i++) n.tick();
    for (let round = 0; round < 10 && n.status().role !== 'leader'; round++) {
      this.processAll();
      for (const m of this.take((m) => m.type === 'vote-request' || m.type === 'vote-response'))
        this.deliver(m);
    }
    if (n.status().role !== 'leader') throw new Error(`${id} did not win: ${n.status().role}`);
  }

  /** Ticks every node once and runs the network until quiet, up to `ticks` times, until `done()`. Returns the ticks it took, or null. */
  runUntil(done: () => boolean, ticks: number): number | null {
    for (let i = 1; i <= ticks; i++) {
      this.tickAll();
      this.deliverAll();
      if (done()) return i;
    }
    return null;
  }

  /** Who leads, by the leaders' own account (null when nobody or more than one claims it). */
  leader(): NodeId | null {
    const leaders = [...this.nodes.keys()].filter(
      (id) => !this.isolated.has(id) && this.view(id).role === 'leader',
    );
    return leaders.length === 1 ? leaders[0]! : null;
  }

  /** The node's role, term and leader, for quick asserts. */
  view(id: NodeId): { role: string; term: number; leader: NodeId | null } {
    const s = this.node(id).status();
    return { role: s.role, term: s.term, leader: s.leader };
  }

  propose(id: NodeId, data: string): { index: number; term: number } {
    return this.node(id).propose(enc(data));
  }

  proposeConf(id: NodeId, change: ConfChange): { index: number; term: number } {
    return this.node(id).proposeConfChange(change);
  }

  /** Crash and restart `id` from its disk (unsynced state is lost by construction: only Readies reach the disk). */
  restart(id: NodeId): RaftCore {
    const disk = this.disk(id);
    this.inflight = this.inflight.filter((m) => m.to !== id);
    const persisted: PersistedState = {
      hardState: disk.hardState,
      snapshot: disk.snapshot,
      entries: [...disk.entries],
    };
    const n = this.build(id, persisted);
    this.nodes.set(id, n);
    this.applied.set(id, disk.snapshot ? [`<snapshot ${disk.snapshot.meta.index}>`] : []);
    this.appliedIndex.set(id, disk.snapshot?.meta.index ?? 0);
    return n;
  }

  /** Adds a fresh node (for membership tests): empty disk, same initial voters. */
  addNode(id: NodeId): RaftCore {
    this.prngs.set(id, new SeededPrng(100 + this.nodes.size));
    this.disks.set(id, { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
    this.applied.set(id, []);
    this.appliedIndex.set(id, 0);
    this.readStates.set(id, []);
    this.readies.set(id, []);
    const n = this.build(id, undefined);
    this.nodes.set(id, n);
    return n;
  }

  /** Payloads applied by `id`, commands only. */
  commands(id: NodeId): string[] {
    return this.applied.get(id)!.filter((s) => !s.startsWith('<'));
  }

  /** Log of `id` as [index, term] pairs, from its core. */
  logOf(id: NodeId): [number, number][] {
    const n = this.node(id);
    const s = n.status();
    const entries = n.entriesAfter(s.snapshotIndex, 1_000_000);
    if (entries === 'compacted') throw new Error('unexpected compacted');
    return entries.map((e) => [e.index, e.term]);
  }
}

export function msg<T extends MessageType>(m: Extract<Message, { type: T }>): Message {
  return m;
}

/** Entries with the given terms at indexes from+1, from+2, ... (commands named `e<index>`). */
export function entries(terms: readonly number[], from = 0): Entry[] {
  return terms.map((term, i) => ({
    type: 'command',
    index: from + i + 1,
    term,
    data: enc(`e${from + i + 1}`),
  }));
}

export function testConfig(
  id: NodeId,
  voters: readonly NodeId[],
  options: Partial<RaftConfig> = {},
  seed = 1,
): RaftConfig {
  return {
    id,
    initialVoters: voters,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    maxEntriesPerAppend: 64,
    maxInflightAppends: 8,
    prng: new SeededPrng(seed),
    ...options,
  };
}

/** A lone core, optionally restarted from a persisted state. */
export function solo(
  id: NodeId,
  voters: readonly NodeId[],
  persisted?: Partial<PersistedState>,
  options: Partial<RaftConfig> = {},
): RaftCore {
  const p: PersistedState | undefined = persisted
    ? {
        hardState: persisted.hardState ?? { term: 0, vote: null, commit: 0 },
        snapshot: persisted.snapshot ?? null,
        entries: persisted.entries ?? [],
      }
    : undefined;
  return p ? new RaftCore(testConfig(id, voters, options), p) : new RaftCore(testConfig(id, voters, options));
}

/** Takes and acknowledges one Ready (or returns an empty one when there is none). */
export function drain(core: RaftCore): Ready {
  if (!core.hasReady()) return { entries: [], messages: [], committedEntries: [], readStates: [] };
  const rd = core.ready();
  core.advance(rd);
  return rd;
}

/** Drains Readies until none is left; returns all their messages. */
export function drainAll(core: RaftCore): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < 100 && core.hasReady(); i++) out.push(...drain(core).messages);
  return out;
}
