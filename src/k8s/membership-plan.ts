// The membership decision as a pure function: given the leader's view of the cluster and
// the StatefulSet's spec.replicas, the one next change to make (or why to wait). Members
// are the pods `<sts>-<ordinal>`; ids of any other shape are never touched. Only
// `replicas` counts: a deleted pod is still a member, it just comes back.

import type { KubeNodeStatus, MemberId } from './node-port.js';

export type MembershipStep =
  | { readonly kind: 'add-learner'; readonly node: MemberId; readonly ordinal: number }
  | { readonly kind: 'promote'; readonly node: MemberId }
  | { readonly kind: 'remove'; readonly node: MemberId }
  | { readonly kind: 'transfer'; readonly to: MemberId }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'idle' };

export interface PlanInput {
  readonly status: KubeNodeStatus;
  readonly replicas: number;
  readonly statefulSet: string;
  /** A learner is promoted, and a voter counts as healthy, when within this many entries of the leader. */
  readonly catchUpEntries: number;
}

export function memberOrdinal(statefulSet: string, id: MemberId): number | null {
  if (!id.startsWith(`${statefulSet}-`)) return null;
  const rest = id.slice(statefulSet.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : null;
}

export function planMembershipStep(input: PlanInput): MembershipStep {
  const { status, replicas, statefulSet, catchUpEntries } = input;
  if (status.role !== 'leader') return { kind: 'idle' };
  const self = status.id;
  const voters = status.config.voters;
  const learners = status.config.learners;
  const progress = new Map(status.peers.map((p) => [p.id, p]));
  const caughtUp = (id: MemberId): boolean => {
    if (id === self) return true;
    const p = progress.get(id);
    return p !== undefined && p.match > 0 && p.lag <= catchUpEntries;
  };
  const excess = (id: MemberId): boolean => {
    const ordinal = memberOrdinal(statefulSet, id);
    return ordinal !== null && ordinal >= replicas;
  };

  // 1. Learners that are no longer wanted go first: they count for nothing.
  const extraLearner = byOrdinalDesc(statefulSet, learners.filter(excess))[0];
  if (extraLearner !== undefined) return { kind: 'remove', node: extraLearner };

  // 2. Wanted learners that caught up become voters.
  const ready = byOrdinal(
    statefulSet,
    learners.filter((id) => !excess(id) && caughtUp(id)),
  )[0];
  if (ready !== undefined) return { kind: 'promote', node: ready };

  // 3. Wanted ordinals that are not members yet join as learners, lowest first.
  const members = new Set([...voters, ...learners]);
  for (let ordinal = 0; ordinal < replicas; ordinal++) {
    const node = `${statefulSet}-${ordinal}`;
    if (!members.has(node)) return { kind: 'add-learner', node, ordinal };
  }

  // 4. Voters beyond replicas leave one at a time, highest ordinal first, never costing quorum.
  const extraVoter = byOrdinalDesc(statefulSet, voters.filter(excess))[0];
  if (extraVoter !== undefined) {
    if (extraVoter === self) {
      const target = voters
        .filter((id) => id !== self && !excess(id) && caughtUp(id))
        .sort(
          (a, b) =>
            (progress.get(a)?.lag ?? 0) - (progress.get(b)?.lag ?? 0) || compareIds(statefulSet, a, b),
        )[0];
      return target === undefined
        ? { kind: 'wait', reason: `no caught-up voter to hand leadership to before removing ${self}` }
        : { kind: 'transfer', to: target };
    }
    const remaining = voters.filter((id) => id !== extraVoter);
    const healthy = remaining.filter(caughtUp).length;
    const quorum = Math.floor(remaining.length / 2) + 1;
    if (remaining.length === 0 || healthy < quorum) {
      return {
        kind: 'wait',
        reason: `removing ${extraVoter} would leave ${healthy} caught-up of ${remaining.length} voters (quorum ${quorum})`,
      };
    }
    return { kind: 'remove', node: extraVoter };
  }

  const behind = learners.filter((id) => !excess(id));
  if (behind.length > 0) return { kind: 'wait', reason: `learners catching up: ${behind.join(', ')}` };
  return { kind: 'idle' };
}

function compareIds(statefulSet: string, a: MemberId, b: MemberId): number {
  return (memberOrdinal(statefulSet, a) ?? 0) - (memberOrdinal(statefulSet, b) ?? 0);
}

function byOrdinal(statefulSet: string, ids: readonly MemberId[]): MemberId[] {
  return [...ids].sort((a, b) => compareIds(statefulSet, a, b));
}

function byOrdinalDesc(statefulSet: string, ids: readonly MemberId[]): MemberId[] {
  return byOrdinal(statefulSet, ids).reverse();
}
