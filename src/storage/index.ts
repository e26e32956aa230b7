// Public surface of the storage layer: the RaftStorage contract and its implementations.
export type { PersistedState, RaftStorage, SaveBatch } from './types.js';
export { MemoryStorage } from './memory-storage.js';
export { LevelStorage } from './level-storage.js';
export type { FsyncKind, LevelStorageOptions } from './level-storage.js';
export { SegmentStorage } from './segment-storage.js';
export type { SegmentStorageOptions } from './segment-storage.js';
export type { StorageLogger } from './snapshot-files.js';
export { StorageCorruptionError, StorageInvariantError } from './errors.js';
export { measureFsync, measureFsyncRate } from './fsync-bench.js';
export type { FsyncRate } from './fsync-bench.js';
