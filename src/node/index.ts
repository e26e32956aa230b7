// Public surface of the node driver: RaftNode, its options/status/event types, and the
// errors its proposals and reads fail with (each with a stable `code` the API maps).
export { RaftNode } from './raft-node.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export { DEFAULT_NODE_TUNING } from './options.js';
export type { NodeOptions } from './options.js';
export type {
  CommandCodec,
  CoreFactory,
  DecodedEvent,
  EventsPage,
  NodeEvents,
  NodeStatus,
  PeerStatus,
  RoleChange,
  StateMachine,
} from './types.js';
export {
  NodeError,
  NoLeaderError,
  NodeStoppedError,
  NoQuorumError,
  ProposalLostError,
  TimeoutError,
} from './errors.js';
export type { NodeErrorCode } from './errors.js';
export { NotLeaderError, ProposalDroppedError } from '../raft/index.js';
