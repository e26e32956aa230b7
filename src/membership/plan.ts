// The leader's membership decisions as pure functions over its own view of the cluster:
// when a voter may be removed without costing a caught-up quorum, whom to hand leadership
// to, and the next step of admitting a joining member (planJoin). Both the join route and
// the Kubernetes scale-down reconciler take their steps from here, one change at a time.

import { baseOf } from './incarnation.js';

/** A learner is promoted, and a voter counts as healthy, when within this many entries of the leader. */
export const CATCH_UP_ENTRIES = 64;

/** The part of a node's status the planners read (NodeStatus and KubeNodeStatus both fit). */
export interface MembershipView {
  readonly id: string;
  readonly role: string;
  readonly config: { readonly voters: readonly string[]; readonly learners: readonly string[] };
  /** The leader's view of every other member (empty on followers). */
  readonly peers: readonly { readonly id: string; readonly match: number; readonly lag: number }[];
}

export function caughtUp(view: MembershipView, id: string, catchUpEntries = CATCH_UP_ENTRIES): boolean {
  if (id === view.id) return true;
  const p = view.peers.find((peer) => peer.id === id);
  return p !== undefined && p.match > 0 && p.lag <= catchUpEntries;
}

/** Why removing voter `id` would cost the cluster its caught-up quorum, or null when it would not. */
export function removalBlocked(
  view: MembershipView,
  id: string,
  catchUpEntries = CATCH_UP_ENTRIES,
): string | null {
  const remaining = view.config.voters.filter((v) => v !== id);
  const healthy = remaining.filter((v) => caughtUp(view, v, catchUpEntries)).length;
  const quorum = Math.floor(remaining.length / 2) + 1;
  if (remaining.length > 0 && healthy >= quorum) return null;
  return `removing ${id} would leave ${healthy} caught-up of ${remaining.length} voters (quorum ${quorum})`;
}

/** The most caught-up other voter that `eligible` accepts (ties: the lower id), or null. */
export function transferTarget(
  view: MembershipView,
  eligible: (id: string) => boolean,
  catchUpEntries = CATCH_UP_ENTRIES,
): string | null {
  const lag = (id: string): number => view.peers.find((p) => p.id === id)?.lag ?? 0;
  return (
    view.config.voters
      .filter((id) => id !== view.id && eligible(id) && caughtUp(view, id, catchUpEntries))
      .sort((a, b) => lag(a) - lag(b) || compareIds(a, b))[0] ?? null
  );
}

/** Orders ids as people count: `raft3d-2` before `raft3d-10`. */
export function compareIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export interface JoinRequest {
  /** The joining member's id (a base id, or a new incarnation `<base>~<suffix>`). */
  readonly id: string;
  /** Its peer (Raft) address, `host:port`. */
  readonly peer: string;
  /** Its API base URL, `http://host:port`. */
  readonly api: string;
}

/** The context of an add-learner entry: how the others reach the new member (src/node learnPeer). */
export function memberContext(request: JoinRequest): string {
  return JSON.stringify({ peer: request.peer, api: request.api });
}

export type JoinStep =
  | { readonly kind: 'add-learner'; readonly node: string; readonly context: string }
  | { readonly kind: 'remove'; readonly node: string }
  | { readonly kind: 'transfer'; readonly to: string }
  | { readonly kind: 'promote'; readonly node: string }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'done' };

/**
 * The next step of admitting `request.id`, on the leader. The joiner asks again after each
 * step until the answer is `done`; the leader keeps no state between requests.
 *  1. not a member yet: add it as a learner (it neither votes nor counts for commit);
 *  2. any other member with the same base is an earlier incarnation whose data is gone
 *     (only an empty data dir makes a new incarnation): remove it, learners first, a voter
 *     only while the rest keep a caught-up quorum, and never the leader itself before it
 *     has handed leadership over. Removing a dead voter first keeps the quorum size where
 *     it was; promoting first would need the dead one's vote to reach a larger quorum;
 *  3. a learner within `catchUpEntries` of the leader becomes a voter;
 *  4. a voter with no earlier incarnation left: done.
 */
export function planJoin(
  view: MembershipView,
  request: JoinRequest,
  catchUpEntries = CATCH_UP_ENTRIES,
): JoinStep {
  if (view.role !== 'leader') return { kind: 'wait', reason: `${view.id} is not the leader` };
  const { voters, learners } = view.config;
  const id = request.id;
  if (!voters.includes(id) && !learners.includes(id))
    return { kind: 'add-learner', node: id, context: memberContext(request) };

  const base = baseOf(id);
  const earlier = (m: string): boolean => m !== id && baseOf(m) === base;
  const staleLearner = learners.find(earlier);
  if (staleLearner !== undefined) return { kind: 'remove', node: staleLearner };
  const staleVoter = voters.find(earlier);
  if (staleVoter !== undefined) {
    if (staleVoter === view.id) {
      const to = transferTarget(view, (v) => !earlier(v), catchUpEntries);
      return to === null
        ? { kind: 'wait', reason: `no caught-up voter to hand leadership to before removing ${staleVoter}` }
        : { kind: 'transfer', to };
    }
    const blocked = removalBlocked(view, staleVoter, catchUpEntries);
    return blocked === null ? { kind: 'remove', node: staleVoter } : { kind: 'wait', reason: blocked };
  }

  if (learners.includes(id)) {
    return caughtUp(view, id, catchUpEntries)
      ? { kind: 'promote', node: id }
      : { kind: 'wait', reason: `${id} is catching up` };
  }
  return { kind: 'done' };
}
