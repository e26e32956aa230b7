// The scale-down decision as a pure function: given the leader's view of the cluster and
// the StatefulSet's spec.replicas, the one next removal to make (or why to wait). Members
// are the pods `<sts>-<ordinal>` and their incarnations `<sts>-<ordinal>~<suffix>`; ids of
// any other shape are never touched. Adding and promoting is the joining member's business
// (it asks, src/membership/joiner.ts; admitJoin below refuses ordinals being scaled away).
// Only `replicas` counts: a deleted pod is still a member, it just comes back.

import { baseOf, compareIds, removalBlocked, transferTarget } from '../membership/index.js';
import type { KubeNodeStatus, MemberId } from './node-port.js';

export type MembershipStep =
  | { readonly kind: 'remove'; readonly node: MemberId }
  | { readonly kind: 'transfer'; readonly to: MemberId }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'idle' };

export interface PlanInput {
  readonly status: KubeNodeStatus;
  readonly replicas: number;
  readonly statefulSet: string;
  /** A voter counts as healthy when within this many entries of the leader. */
  readonly catchUpEntries: number;
}

/** The StatefulSet ordinal of a member id (`raft3d-4`, `raft3d-4~k3f9a2`), or null for other ids. */
export function memberOrdinal(statefulSet: string, id: MemberId): number | null {
  const base = baseOf(id);
  if (!base.startsWith(`${statefulSet}-`)) return null;
  const rest = base.slice(statefulSet.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : null;
}

/** Why member `id` may not join a StatefulSet of `replicas` pods, or null when it may. */
export function refuseJoin(statefulSet: string, replicas: number | null, id: MemberId): string | null {
  const ordinal = memberOrdinal(statefulSet, id);
  if (ordinal === null) return `${id} is not a pod of StatefulSet ${statefulSet}`;
  if (replicas !== null && ordinal >= replicas)
    return `${id} is being scaled away (StatefulSet ${statefulSet} has ${replicas} replicas)`;
  return null;
}

export function planMembershipStep(input: PlanInput): MembershipStep {
  const { status, replicas, statefulSet, catchUpEntries } = input;
  if (status.role !== 'leader') return { kind: 'idle' };
  const self = status.id;
  const excess = (id: MemberId): boolean => {
    const ordinal = memberOrdinal(statefulSet, id);
    return ordinal !== null && ordinal >= replicas;
  };
  const highestFirst = (ids: readonly MemberId[]): MemberId[] => [...ids].sort((a, b) => compareIds(b, a));

  // 1. Learners that are no longer wanted go first: they count for nothing.
  const extraLearner = highestFirst(status.config.learners.filter(excess))[0];
  if (extraLearner !== undefined) return { kind: 'remove', node: extraLearner };

  // 2. Voters beyond replicas leave one at a time, highest ordinal first, never costing quorum.
  const extraVoter = highestFirst(status.config.voters.filter(excess))[0];
  if (extraVoter === undefined) return { kind: 'idle' };
  if (extraVoter === self) {
    const to = transferTarget(status, (id) => !excess(id), catchUpEntries);
    return to === null
      ? { kind: 'wait', reason: `no caught-up voter to hand leadership to before removing ${self}` }
      : { kind: 'transfer', to };
  }
  const blocked = removalBlocked(status, extraVoter, catchUpEntries);
  return blocked === null ? { kind: 'remove', node: extraVoter } : { kind: 'wait', reason: blocked };
}
