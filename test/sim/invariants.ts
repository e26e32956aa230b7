// Safety properties of Raft (Figure 3 of the paper), checked by the simulator after every
// step. Each assert* throws a Violation naming the property. They keep their own global
// record of what every node said, so a property is checked across nodes, terms and restarts.
import type { Entry, HardState, LogIndex, Message, NodeId, Role, Term } from '../../src/raft/index.js';

/** What a node's disk holds durably, as the checks read it. */
export interface DurableView {
  readonly hardState: HardState | null;
  readonly lastIndex: LogIndex;
}

export class Violation extends Error {
  constructor(
    readonly check: string,
    message: string,
  ) {
    super(`${check}: ${message}`);
    this.name = 'Violation';
  }
}

/** A node's log as the checks read it: the term at `index`, 'compacted' below its snapshot, undefined past its end. */
export type TermAt = (index: LogIndex) => Term | 'compacted' | undefined;

const decoder = new TextDecoder();
const keyCache = new WeakMap<Entry, string>();

/** What an entry says, independent of its index and term. */
export function entryContent(entry: Entry): string {
  let key = keyCache.get(entry);
  if (key === undefined) {
    key =
      entry.type === 'command'
        ? `cmd ${decoder.decode(entry.data)}`
        : entry.type === 'config'
          ? `config ${entry.change.kind} ${entry.change.node}`
          : 'noop';
    keyCache.set(entry, key);
  }
  return key;
}

interface CommitRecord {
  readonly index: LogIndex;
  readonly term: Term;
  /**
   * The term of the node that first reported the commit, at that moment: the leader that decided
   * the commit had a term <= bound, so every leader of a term >= bound must hold the entry.
   */
  readonly bound: Term;
}

export class Invariants {
  private readonly leaders = new Map<Term, NodeId>();
  /** (index, term) -> what the entry says and the term of the entry before it. */
  private readonly entries = new Map<string, { content: string; prevTerm: Term }>();
  private readonly committed = new Map<LogIndex, { term: Term; content: string | null }>();
  private readonly commitLog: CommitRecord[] = [];
  private readonly appliedAt = new Map<LogIndex, { term: Term; content: string; node: NodeId }>();
  private readonly acked: CommitRecord[] = [];
  /** Per (leader, term): how far into commitLog / acked it was checked. */
  private readonly leaderCursors = new Map<string, { commits: number; acks: number }>();

  get leaderCount(): number {
    return this.leaders.size;
  }

  get committedCount(): number {
    return this.committed.size;
  }

  /** At most one leader per term, ever. */
  assertElectionSafety(node: NodeId, role: Role, term: Term): void {
    if (role !== 'leader') return;
    const known = this.leaders.get(term);
    if (known === undefined) this.leaders.set(term, node);
    else if (known !== node)
      throw new Violation('assertElectionSafety', `${node} and ${known} are both leaders of term ${term}`);
  }

  /** A durable term never goes back, and a durable vote is never changed within its term (a restart cannot vote twice). */
  assertDurableVote(node: NodeId, before: HardState | null, after: HardState): void {
    if (before === null) return;
    if (after.term < before.term)
      throw new Violation(
        'assertElectionSafety',
        `${node}'s persisted term went back from ${before.term} to ${after.term}`,
      );
    if (after.term === before.term && before.vote !== null && after.vote !== before.vote)
      throw new Violation(
        'assertElectionSafety',
        `${node} changed its persisted vote in term ${after.term} from ${before.vote} to ${after.vote ?? 'nobody'}`,
      );
  }

  /**
   * What a message promises is already durable when it leaves: a granted vote is in the persisted
   * hard state (or a later term is, which rules out another vote in that term), and an append acknowledged up to `index` is in the persisted log.
   */
  assertDurableBeforeSend(node: NodeId, m: Message, storage: DurableView): void {
    if (m.type === 'vote-response' && m.granted && !m.preVote) {
      const hs = storage.hardState;
      // A durable later term also does: the node can never vote in m.term again.
      if (!hs || hs.term < m.term || (hs.term === m.term && hs.vote !== m.to))
        throw new Violation(
          'assertDurableBeforeSend',
          `${node} grants its vote in term ${m.term} to ${m.to}, but its persisted hard state is ${JSON.stringify(hs)}`,
        );
    } else if (m.type === 'append-response' && m.success) {
      if (m.index > storage.lastIndex)
        throw new Violation(
          'assertDurableBeforeSend',
          `${node} acknowledges entries up to ${m.index} to ${m.to} (in term ${m.term}), but has persisted only up to ${storage.lastIndex} (durable term ${storage.hardState?.term ?? 0})`,
        );
    }
  }

  /**
   * If two logs hold an entry with the same index and term, the entries are identical and so
   * are all the entries before them. Checked inductively as entries enter any node's log: an
   * (index, term) pair always carries the same content and follows the same previous term.
   */
  assertLogMatching(node: NodeId, entry: Entry, prevTerm: Term | undefined): void {
    const k = `${entry.index}:${entry.term}`;
    const content = entryContent(entry);
    const known = this.entries.get(k);
    if (known === undefined) {
      if (prevTerm !== undefined) this.entries.set(k, { content, prevTerm });
      return;
    }
    if (known.content !== content)
      throw new Violation(
        'assertLogMatching',
        `${node} holds entry ${k} = ${content}, another node holds ${k} = ${known.content}`,
      );
    if (prevTerm !== undefined && known.prevTerm !== prevTerm)
      throw new Violation(
        'assertLogMatching',
        `${node} holds entry ${k} after an entry of term ${prevTerm}; another node holds it after term ${known.prevTerm}`,
      );
  }

  /** The same check between whole logs: used at the end of a run and now and then. */
  assertLogMatchingFull(logs: ReadonlyMap<NodeId, { first: LogIndex; entries: readonly Entry[] }>): void {
    const ids = [...logs.keys()];
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) {
        const la = logs.get(ids[a]!)!;
        const lb = logs.get(ids[b]!)!;
        const lo = Math.max(la.first, lb.first);
        const hi = Math.min(la.first + la.entries.length, lb.first + lb.entries.length) - 1;
        let matchedFrom: LogIndex | null = null;
        for (let i = hi; i >= lo; i--) {
          const ea = la.entries[i - la.first]!;
          const eb = lb.entries[i - lb.first]!;
          if (ea.term === eb.term) {
            if (matchedFrom === null) matchedFrom = i;
            if (entryContent(ea) !== entryContent(eb))
              throw new Violation(
                'assertLogMatching',
                `${ids[a]} and ${ids[b]} both hold ${i}:${ea.term} but with different contents`,
              );
          } else if (matchedFrom !== null) {
            throw new Violation(
              'assertLogMatching',
              `${ids[a]} and ${ids[b]} agree on ${matchedFrom}:${la.entries[matchedFrom - la.first]!.term} but differ at ${i} (terms ${ea.term} vs ${eb.term})`,
            );
          }
        }
      }
    }
  }

  /** A node reports a commit index: the entries up to it are committed, for good. */
  recordCommitted(node: NodeId, entry: Entry, bound: Term): void {
    const known = this.committed.get(entry.index);
    const content = entryContent(entry);
    if (known === undefined) {
      this.committed.set(entry.index, { term: entry.term, content });
      this.commitLog.push({ index: entry.index, term: entry.term, bound });
    } else if (known.term !== entry.term || (known.content !== null && known.content !== content)) {
      throw new Violation(
        'assertStateMachineSafety',
        `${node} committed ${entry.index}:${entry.term} (${content}) but ${entry.index}:${known.term} (${known.content}) was committed before`,
      );
    }
  }

  /** A snapshot covers only committed entries: its last entry must agree with what was committed there. */
  recordSnapshot(node: NodeId, index: LogIndex, term: Term, bound: Term): void {
    if (index === 0) return;
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, { term, content: null });
      this.commitLog.push({ index, term, bound });
    } else if (known.term !== term) {
      throw new Violation(
        'assertStateMachineSafety',
        `${node} holds a snapshot at ${index}:${term} but ${index}:${known.term} was committed`,
      );
    }
  }

  /** No two nodes apply different entries at the same index (`content` as entryContent gives it). */
  assertStateMachineSafety(
    node: NodeId,
    at: { readonly index: LogIndex; readonly term: Term },
    content: string,
  ): void {
    const known = this.appliedAt.get(at.index);
    if (known === undefined) this.appliedAt.set(at.index, { term: at.term, content, node });
    else if (known.term !== at.term || known.content !== content)
      throw new Violation(
        'assertStateMachineSafety',
        `${node} applied ${at.index}:${at.term} (${content}) but ${known.node} applied ${at.index}:${known.term} (${known.content})`,
      );
    const committed = this.committed.get(at.index);
    if (committed !== undefined && committed.term !== at.term)
      throw new Violation(
        'assertStateMachineSafety',
        `${node} applied ${at.index}:${at.term} but ${at.index}:${committed.term} was committed`,
      );
  }

  /** A node's commit index never moves backwards, and after a restart never starts below what it had persisted. */
  assertCommitMonotonic(node: NodeId, commit: LogIndex, floor: LogIndex, what: string): void {
    if (commit < floor)
      throw new Violation(
        'assertCommitMonotonic',
        `${node}'s commit index went from ${floor} to ${commit} (${what})`,
      );
  }

  /** Leader Completeness: a leader of term T holds every entry committed by a leader of a term <= T. */
  assertLeaderCompleteness(node: NodeId, term: Term, termAt: TermAt): void {
    const cursor = this.cursor(node, term);
    for (; cursor.commits < this.commitLog.length; cursor.commits++) {
      const c = this.commitLog[cursor.commits]!;
      if (c.bound > term) continue;
      const t = termAt(c.index);
      if (t !== 'compacted' && t !== c.term)
        throw new Violation(
          'assertLeaderCompleteness',
          `${node}, leader of term ${term}, has ${t === undefined ? 'no entry' : `term ${t}`} at ${c.index}, where ${c.index}:${c.term} was committed (by term <= ${c.bound})`,
        );
    }
  }

  /** A proposal acknowledged to its client was committed: record it for assertAckedInLeaders. */
  recordAcked(index: LogIndex, term: Term, bound: Term): void {
    this.acked.push({ index, term, bound });
  }

  /** Every acknowledged proposal is in the log of every leader elected after the acknowledgement. */
  assertAckedInLeaders(node: NodeId, term: Term, termAt: TermAt): void {
    const cursor = this.cursor(node, term);
    for (; cursor.acks < this.acked.length; cursor.acks++) {
      const a = this.acked[cursor.acks]!;
      if (a.bound > term) continue;
      const t = termAt(a.index);
      if (t !== 'compacted' && t !== a.term)
        throw new Violation(
          'assertAckedInLeaders',
          `${node}, leader of term ${term}, has ${t === undefined ? 'no entry' : `term ${t}`} at ${a.index}, where the acknowledged proposal ${a.index}:${a.term} is`,
        );
    }
  }

  private cursor(node: NodeId, term: Term): { commits: number; acks: number } {
    const k = `${node}:${term}`;
    let c = this.leaderCursors.get(k);
    if (!c) {
      c = { commits: 0, acks: 0 };
      this.leaderCursors.set(k, c);
    }
    return c;
  }
}
