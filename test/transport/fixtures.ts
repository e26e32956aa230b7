// Sample messages of every type, shared by the transport tests.

import type { Message } from '../../src/raft/messages.js';

export const base = { from: 'n1', to: 'n2', term: 7 };
export const everyMessage: Message[] = [
  { ...base, type: 'vote-request', preVote: true, lastLogIndex: 41, lastLogTerm: 6, transfer: false },
  { ...base, type: 'vote-request', preVote: false, lastLogIndex: 2 ** 40, lastLogTerm: 6, transfer: true },
  { ...base, type: 'vote-response', preVote: false, granted: true },
  {
    ...base,
    type: 'append',
    prevIndex: 40,
    prevTerm: 6,
    commit: 39,
    entries: [
      { index: 41, term: 7, type: 'noop' },
      { index: 42, term: 7, type: 'command', data: Uint8Array.from([0, 1, 2, 255]) },
      { index: 43, term: 7, type: 'command', data: new Uint8Array(0) },
      {
        index: 44,
        term: 7,
        type: 'config',
        change: { kind: 'add-learner', node: 'n4', context: '{"peer":"h:9090"}' },
      },
      { index: 45, term: 7, type: 'config', change: { kind: 'remove', node: 'n3' } },
    ],
  },
  { ...base, type: 'append', prevIndex: 0, prevTerm: 0, commit: 0, entries: [] },
  { ...base, type: 'append-response', success: true, index: 45 },
  {
    ...base,
    type: 'append-response',
    success: false,
    index: 40,
    rejectHint: { conflictTerm: 5, hintIndex: 33 },
  },
  { ...base, type: 'heartbeat', commit: 39, context: 'read-17' },
  { ...base, type: 'heartbeat-response', context: '' },
  {
    ...base,
    type: 'snapshot',
    snapshot: {
      meta: {
        index: 100,
        term: 6,
        config: { voters: ['n1', 'n2', 'ñ3'], learners: ['n4'] },
        configContext: { n4: 'h:1' },
      },
      data: Uint8Array.from([9, 8, 7]),
    },
  },
  { ...base, type: 'timeout-now' },
  { ...base, type: 'read-index', context: 'ctx-ü' },
  { ...base, type: 'read-index-response', context: 'ctx', index: -1 },
];
