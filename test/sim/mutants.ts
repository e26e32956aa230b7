// Deliberately broken cores: the simulation must catch each of them within a bounded number of
// seeds, or its fault schedule is too gentle to be trusted.
import { RaftCore } from '../../src/raft/index.js';
import type { LogIndex, VoteRequest } from '../../src/raft/index.js';
import type { CoreFactory } from './simulator.js';

/** Commits any entry a majority holds, of whatever term: the bug of the paper's Figure 8. */
export class CommitsByCountingCore extends RaftCore {
  protected override isCommittable(_index: LogIndex): boolean {
    return true;
  }
}

/** Forgets the vote it already cast in a term (still refuses candidates with a less up-to-date log). */
export class VotesTwiceCore extends RaftCore {
  protected override canGrantVote(m: VoteRequest): boolean {
    if (super.canGrantVote(m)) return true;
    const s = this.status();
    const last = this.entriesAfter(s.lastIndex - 1, 1);
    if (last === 'compacted' || last.length === 0) return false;
    const lastTerm = last[0]!.term;
    return m.lastLogTerm > lastTerm || (m.lastLogTerm === lastTerm && m.lastLogIndex >= s.lastIndex);
  }
}

export const mutants: Readonly<Record<string, CoreFactory>> = {
  'commits by counting (Figure 8)': (config, persisted) => new CommitsByCountingCore(config, persisted),
  'votes twice in a term': (config, persisted) => new VotesTwiceCore(config, persisted),
};
