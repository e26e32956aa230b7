// Where the simulation watches the real driver: what it writes to its disk (entries entering
// its log, hard states becoming durable, local snapshots), what it sends, what its state
// machine applies, and its core's state after every event. Each observation feeds the
// safety properties of invariants.ts, which throw a Violation at once.
import type {
  ConfChange,
  ConfState,
  Entry,
  LogIndex,
  Message,
  NodeId,
  Snapshot,
  Term,
} from '../../src/raft/index.js';
import type { DiskWrite } from './disk.js';
import type { Host } from './host.js';
import { Invariants, Violation } from './invariants.js';
import type { TermAt } from './invariants.js';

interface Watch {
  /** The node's log as handed to its disk (for the log matching check). */
  logBase: LogIndex;
  logBaseTerm: Term;
  log: Entry[];
  /** Highest commit index seen in this life (floor for assertCommitMonotonic). */
  commitSeen: LogIndex;
  role: string;
  /** Configuration after each applied config entry, from the one the node started with. */
  configs: { index: LogIndex; conf: ConfState }[];
}

export interface StepEvents {
  /** The node became leader in this step. */
  readonly elected: boolean;
  /** Its commit index moved, over entries of an earlier term (Figure 8's moment) or not. */
  readonly committed: 'none' | 'current' | 'earlier-term';
}

export class Observer {
  readonly checks = new Invariants();
  private readonly watches = new Map<NodeId, Watch>();

  constructor(private readonly initialVoters: readonly NodeId[]) {}

  /** A new life of `host` starts from what its disk holds. */
  started(host: Host): void {
    const snap = host.disk.snapshot;
    const persisted = host.disk.hardState;
    this.watches.set(host.id, {
      logBase: snap?.meta.index ?? 0,
      logBaseTerm: snap?.meta.term ?? 0,
      log: [],
      commitSeen: persisted?.commit ?? 0,
      role: 'follower',
      configs: [
        {
          index: snap?.meta.index ?? 0,
          conf: snap?.meta.config ?? { voters: this.initialVoters, learners: [] },
        },
      ],
    });
  }

  /** Fills the log view from the entries the node restarted with (after started()). */
  restoredLog(host: Host, entries: readonly Entry[]): void {
    this.watch(host).log = entries.filter((e) => e.index > this.watch(host).logBase);
  }

  /** The driver issued a write: entries enter the node's log here (Log Matching, incrementally). */
  issued(host: Host, write: DiskWrite): void {
    if (write.kind !== 'save') return;
    const w = this.watch(host);
    const { batch } = write;
    if (batch.snapshot) {
      w.logBase = batch.snapshot.meta.index;
      w.logBaseTerm = batch.snapshot.meta.term;
      w.log = [];
      w.configs = [{ index: batch.snapshot.meta.index, conf: batch.snapshot.meta.config }];
    }
    const first = batch.entries.find((e) => e.index > w.logBase);
    if (!first) return;
    const last = w.logBase + w.log.length;
    if (first.index > last + 1)
      throw new Violation(
        'assertLogMatching',
        `${host.id} writes entries from ${first.index} but its log ends at ${last}`,
      );
    w.log.length = first.index - w.logBase - 1;
    for (const e of batch.entries) {
      if (e.index <= w.logBase) continue;
      const prevIndex = e.index - 1;
      const prevTerm = prevIndex === w.logBase ? w.logBaseTerm : w.log[prevIndex - w.logBase - 1]?.term;
      this.checks.assertLogMatching(host.id, e, prevTerm);
      w.log.push(e);
    }
  }

  /** A write became durable: terms and votes never go back; snapshots agree with what was committed and applied. */
  durable(
    host: Host,
    write: DiskWrite,
    before: { term: Term; vote: NodeId | null; commit: LogIndex } | null,
  ): void {
    const term = host.core?.status().term ?? 0;
    if (write.kind === 'save') {
      const hs = write.batch.hardState;
      if (hs) {
        this.checks.assertCommitMonotonic(host.id, hs.commit, before?.commit ?? 0, 'persisted hard state');
        this.checks.assertDurableVote(host.id, before, hs);
      }
      if (write.batch.snapshot) this.recordSnapshot(host, write.batch.snapshot, term);
      return;
    }
    // A snapshot the node took of its own state machine: the core's idea of the configuration
    // at that index must be what the applied entries say.
    const meta = write.snapshot.meta;
    const applied = this.configAt(host, meta.index);
    if (applied !== null && !sameConf(applied, meta.config))
      throw new Violation(
        'assertStateMachineSafety',
        `${host.id} stored a snapshot at ${meta.index} with config ${JSON.stringify(meta.config)}, but its applied entries say ${JSON.stringify(applied)}`,
      );
    this.recordSnapshot(host, write.snapshot, term);
  }

  /** What each message promises is durable when it leaves. */
  sent(host: Host, messages: readonly Message[]): void {
    for (const m of messages) this.checks.assertDurableBeforeSend(host.id, m, host.disk);
  }

  /** A command or a config change was applied at (index, term). */
  applied(host: Host, entry: Pick<Entry, 'index' | 'term'>, content: string, change?: ConfChange): void {
    this.checks.assertStateMachineSafety(host.id, entry, content);
    if (!change) return;
    const w = this.watch(host);
    const prev = w.configs[w.configs.length - 1]!.conf;
    w.configs.push({ index: entry.index, conf: applyChange(prev, change) });
  }

  /** After every event that touched `host`: its core's role, term and commit index. */
  afterStep(host: Host): StepEvents {
    const core = host.core;
    if (!core) return { elected: false, committed: 'none' };
    const w = this.watch(host);
    const s = core.status();
    this.checks.assertElectionSafety(host.id, s.role, s.term);
    this.checks.assertCommitMonotonic(host.id, s.commit, w.commitSeen, 'step');
    const elected = s.role === 'leader' && w.role !== 'leader';
    w.role = s.role;
    let committed: StepEvents['committed'] = 'none';
    if (s.commit > w.commitSeen) {
      const from = Math.max(w.commitSeen, s.snapshotIndex);
      if (from < s.commit) {
        const entries = core.entriesAfter(from, s.commit - from);
        if (entries === 'compacted' || entries.length !== s.commit - from)
          throw new Violation(
            'assertCommitMonotonic',
            `${host.id} has commit ${s.commit} but cannot show its entries after ${from}`,
          );
        for (const e of entries) this.checks.recordCommitted(host.id, e, s.term);
        committed = entries.some((e) => e.term < s.term) ? 'earlier-term' : 'current';
      }
      w.commitSeen = s.commit;
    }
    if (s.role === 'leader') {
      const termAt = termReader(core, s.snapshotIndex, s.lastIndex);
      this.checks.assertLeaderCompleteness(host.id, s.term, termAt);
      this.checks.assertAckedInLeaders(host.id, s.term, termAt);
    }
    return { elected, committed };
  }

  private recordSnapshot(host: Host, snapshot: Snapshot, term: Term): void {
    this.checks.recordSnapshot(host.id, snapshot.meta.index, snapshot.meta.term, term);
  }

  private configAt(host: Host, index: LogIndex): ConfState | null {
    const configs = this.watch(host).configs;
    if (configs[0]!.index > index) return null; // older than what this life knows
    let conf = configs[0]!.conf;
    for (const c of configs) if (c.index <= index) conf = c.conf;
    return conf;
  }

  private watch(host: Host): Watch {
    const w = this.watches.get(host.id);
    if (!w) throw new Error(`no watch for ${host.id}`);
    return w;
  }
}

/** The simulator's own reading of a membership change (kept apart from src/raft on purpose). */
function applyChange(conf: ConfState, change: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== change.node);
  const learners = conf.learners.filter((id) => id !== change.node);
  const wasVoter = conf.voters.includes(change.node);
  const wasLearner = conf.learners.includes(change.node);
  if (change.kind === 'add-learner') (wasVoter ? voters : learners).push(change.node);
  else if (change.kind === 'promote' && (wasVoter || wasLearner)) voters.push(change.node);
  return { voters, learners };
}

function sameConf(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly NodeId[], y: readonly NodeId[]): boolean =>
    x.length === y.length && [...x].sort().join() === [...y].sort().join();
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}

function termReader(core: NonNullable<Host['core']>, snapshotIndex: LogIndex, lastIndex: LogIndex): TermAt {
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
