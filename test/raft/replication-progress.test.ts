import test from 'ava';
import type { AppendRequest, Message } from '../../src/raft/index.js';
import { RaftLog } from '../../src/raft/log.js';
import { Replication } from '../../src/raft/replication.js';
import { enc, entries } from './helpers.js';

function setup(
  logTerms: number[],
  opts: { maxEntries?: number; maxInflight?: number; snapshotAt?: number } = {},
) {
  const log = new RaftLog(null, entries(logTerms));
  if (opts.snapshotAt !== undefined) {
    const at = opts.snapshotAt;
    log.compact({
      meta: {
        index: at,
        term: log.term(at)!,
        config: { voters: ['n1', 'n2'], learners: [] },
        configContext: {},
      },
      data: enc('s'),
    });
  }
  const sent: Message[] = [];
  const r = new Replication({
    id: 'n1',
    log,
    maxEntriesPerAppend: opts.maxEntries ?? 2,
    maxInflightAppends: opts.maxInflight ?? 2,
    electionTicks: 10,
    term: () => 3,
    commit: () => 1,
    send: (m) => sent.push(m),
    trace: () => {},
  });
  r.sync(['n1', 'n2']);
  return { r, sent, log, pr: r.get('n2')! };
}

test('a new follower is probed at the end of the log; a success switches it to pipelined replication', (t) => {
  const { r, sent, pr } = setup([1, 1, 2, 3, 3, 3, 3]);
  t.is(pr.next, 8);
  r.sendAppends(pr, true);
  t.deepEqual(
    sent.map((m) => [(m as AppendRequest).prevIndex, (m as AppendRequest).entries.length]),
    [[7, 0]],
  );
  r.sendAppends(pr, true);
  t.is(sent.length, 1, 'one probe at a time');
  // The follower rejects: it has only 3 entries, the last of term 2.
  r.onAppendResponse({
    type: 'append-response',
    from: 'n2',
    to: 'n1',
    term: 3,
    success: false,
    index: 7,
    rejectHint: { conflictTerm: 2, hintIndex: 3 },
  });
  const probe = sent[1] as AppendRequest;
  t.is(probe.prevIndex, 3, 'jumps straight to the last index of term <= 2');
  t.is(probe.entries.length, 2);
  const moved = r.onAppendResponse({
    type: 'append-response',
    from: 'n2',
    to: 'n1',
    term: 3,
    success: true,
    index: 5,
  });
  t.is(moved, pr);
  t.is(pr.state, 'replicate');
  r.sendAppends(pr, false);
  t.deepEqual(
    sent.slice(2).map((m) => [(m as AppendRequest).prevIndex, (m as AppendRequest).entries.length]),
    [[5, 2]],
    'the rest of the log in one batch; nothing empty after it',
  );
});

test('a follower that needs compacted entries gets the snapshot and nothing else until it answers', (t) => {
  const { r, sent, pr } = setup([1, 1, 2, 3, 3], { snapshotAt: 3 });
  pr.next = 2;
  r.sendAppends(pr, true);
  t.deepEqual(
    sent.map((m) => m.type),
    ['snapshot'],
  );
  t.is(pr.state, 'snapshot');
  r.sendAppends(pr, true);
  r.onHeartbeatResponse({ type: 'heartbeat-response', from: 'n2', to: 'n1', term: 3, context: '' });
  t.is(sent.length, 1);
  r.onAppendResponse({ type: 'append-response', from: 'n2', to: 'n1', term: 3, success: true, index: 3 });
  t.is(pr.state, 'replicate');
  t.is(pr.next, 4);
});

test('stalled appends fall back to probing after an election timeout', (t) => {
  const { r, pr } = setup([1, 1, 1, 1, 1]);
  pr.maybeUpdate(1);
  pr.becomeReplicate();
  r.sendAppends(pr, false);
  t.is(pr.inflights.count, 2);
  for (let i = 0; i < 9; i++) r.tick();
  t.is(pr.state, 'replicate');
  r.tick();
  t.is(pr.state, 'probe');
  t.is(pr.next, 2);
});

test('CheckQuorum counts only voters that spoke since the last check', (t) => {
  const { r } = setup([1]);
  r.sync(['n1', 'n2', 'n3']);
  t.false(r.quorumActive(['n1', 'n2', 'n3']));
  r.markActive('n3');
  t.true(r.quorumActive(['n1', 'n2', 'n3']));
  t.false(r.quorumActive(['n1', 'n2', 'n3']), 'marks are reset by each check');
  r.markActive('x9');
  t.false(r.quorumActive(['n1', 'n2', 'n3']));
});
