// Public surface of the node driver: RaftNode, its options/status/event types, and the
// errors its proposals and reads fail with (each with a stable `code` the API maps).
export { RaftNode } from './raft-node.js';
export type {
  CommandCodec,
  DecodedEvent,
  EventsPage,
  NodeEvents,
  NodeOptions,
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
  NotLeaderError,
  ProposalDroppedError,
  ProposalLostError,
  TimeoutError,
} from './errors.js';
