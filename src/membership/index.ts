// Membership beyond the first boot: member incarnations, the identity a data dir starts
// with, the leader's admission plan and the joining member's side of it.

export { baseOf, isIncarnation, newIncarnation } from './incarnation.js';
export {
  CATCH_UP_ENTRIES,
  caughtUp,
  compareIds,
  memberContext,
  planJoin,
  removalBlocked,
  transferTarget,
} from './plan.js';
export type { JoinRequest, JoinStep, MembershipView } from './plan.js';
export { IdentityError, InitialClusterStateRegistry, resolveIdentity } from './identity.js';
export type { Claim, Identity, IdentityRegistry, InitialClusterState } from './identity.js';
export { JOIN_PATH, Joiner } from './joiner.js';
export type { JoinerOptions } from './joiner.js';
