// Liveness, stated precisely (README.md, "What is checked"):
//
// 1. After the heal (every link up, every node restarted, a reliable network): within
//    `bound`, a leader commits a probe proposed through its driver, every member applies it,
//    and every client completes an operation.
// 2. Under a partial partition that stays still (PreVote and CheckQuorum on): from the first
//    moment at which no node leads and some voter v has two-way links to a quorum of its
//    voters none of whom holds a log more up to date than v's, a leader commits a probe
//    within 20 election timeouts. (Without the log clause the claim is false in any Raft: a
//    voter with a longer log refuses v for ever, and may itself reach no quorum.)
import type { NodeId } from '../../src/raft/index.js';
import type { Host } from './host.js';
import type { Network } from './network.js';

/** The last (term, index) of a host's log, for "at least as up to date" (Raft §5.4.1). */
function lastOf(host: Host): { term: number; index: number } {
  const s = host.core!.status();
  return { term: s.lastTerm, index: s.lastIndex };
}

function moreUpToDate(a: { term: number; index: number }, b: { term: number; index: number }): boolean {
  return a.term > b.term || (a.term === b.term && a.index > b.index);
}

/** Whether some voter could win an election in the current, stable topology (clause of property 2). */
export function electableVoter(hosts: readonly Host[], network: Network): NodeId | null {
  const byId = new Map(hosts.map((h) => [h.id, h]));
  for (const v of hosts) {
    if (!v.up || v.paused || !v.core) continue;
    const voters = v.core.status().config.voters;
    if (!voters.includes(v.id)) continue;
    const mine = lastOf(v);
    let quorum = 1;
    for (const id of voters) {
      if (id === v.id) continue;
      const u = byId.get(id);
      if (!u?.up || u.paused || !u.core) continue;
      if (network.isBlocked(v.id, id) || network.isBlocked(id, v.id)) continue;
      if (moreUpToDate(lastOf(u), mine)) continue;
      quorum++;
    }
    if (quorum > voters.length / 2) return v.id;
  }
  return null;
}
