// Deliberately broken cores and drivers: the simulation must catch each of them within a
// bounded number of seeds, or its fault schedule is too gentle to be trusted. Each overrides
// one protected rule of the real class.
import { RaftCore } from '../../src/raft/index.js';
import type { LogIndex, Ready, VoteRequest } from '../../src/raft/index.js';
import { RaftNode } from '../../src/node/index.js';
import type { StateMachine } from '../../src/node/index.js';

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

/** The old tie-break: a pre-candidate refuses the PreVote of a higher id with its log in every round. */
export class DefersForeverCore extends RaftCore {
  protected override preVoteDeferralRounds(): number {
    return Infinity;
  }
}

/** Serves reads (ReadIndex and lease) before its term has committed an entry: its commit index may lag. */
export class ReadsBeforeTermCommitCore extends RaftCore {
  protected override readsAdmitted(): boolean {
    return true;
  }
}

/**
 * The driver bug of b8e8934: it compared a Ready's hard state with a term it had already taken
 * from the same Ready's soft state, so a change of term alone (same vote) was never written.
 */
export class SkipsTermOnlySavesNode<C, R, S extends StateMachine<C, R>> extends RaftNode<C, R, S> {
  protected override mustPersist(rd: Ready): boolean {
    const hs = rd.hardState;
    return (
      rd.entries.length > 0 || rd.snapshot !== undefined || (hs !== undefined && hs.vote !== this.saved.vote)
    );
  }
}
