// The public surface of the consensus core: what the node driver, storage, transport and
// the simulator need. Nothing else in src/raft is part of the contract.

export { RaftCore } from './core.js';
export type { PersistedState, ProgressStatus, RaftConfig, RaftStatus } from './core.js';
export { InvariantError, NotLeaderError, ProposalDroppedError, RaftError, invariant } from './errors.js';
export type { RaftErrorCode } from './errors.js';
export { leaseTicks } from './lease.js';
export type { LeaseConfig } from './lease.js';
export { mustSync } from './ready.js';
export { SeededPrng } from './prng.js';
export type { Prng } from './prng.js';
export type { ProgressState } from './progress.js';
export type * from './messages.js';
