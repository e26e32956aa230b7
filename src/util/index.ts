// Helpers every layer may use: they import nothing of ours, and hold no Raft or shop logic.
export { Coalescer } from './coalescer.js';
export type { CoalescerOptions, Timer } from './coalescer.js';
