import test from 'ava';
import { NotLeaderError } from '../../src/raft/index.js';
import type { ReadIndexResponse } from '../../src/raft/index.js';
import { ReadQueue } from '../../src/raft/read-index.js';
import { Cluster, drain, solo } from './helpers.js';

test('ReadQueue: held until admitted, batched into one round, a later round confirms earlier ones', (t) => {
  const q = new ReadQueue();
  q.add({ context: 'a', from: 'n1' }, false);
  t.is(q.startRound('n1:1', 5, 'n1'), null, 'held reads are not in a round');
  q.admit();
  const r1 = q.startRound('n1:1', 5, 'n1')!;
  q.add({ context: 'b', from: 'n2' }, true);
  q.add({ context: 'c', from: 'n1' }, true);
  const r2 = q.startRound('n1:1', 7, 'n1')!;
  t.not(r1, r2);
  t.is(q.latestRound(), r2);
  const voters = ['n1', 'n2', 'n3'];
  t.deepEqual(q.ack(r2, 'x9', voters), [], 'an outsider does not count');
  t.deepEqual(q.ack(r2, 'n3', voters), [
    { context: 'a', from: 'n1', index: 5 },
    { context: 'b', from: 'n2', index: 7 },
    { context: 'c', from: 'n1', index: 7 },
  ]);
  t.deepEqual(q.ack(r1, 'n2', voters), [], 'already released');
  t.is(q.pending, 0);
});

test('a follower with no leader refuses a read; a non-leader answers a forwarded read with -1', (t) => {
  const f = solo('n2', ['n1', 'n2', 'n3']);
  t.throws(() => f.readIndex('x'), { instanceOf: NotLeaderError });
  f.step({ type: 'read-index', from: 'n3', to: 'n2', term: 0, context: 'y' });
  t.like(drain(f).messages[0] as ReadIndexResponse, { type: 'read-index-response', index: -1, context: 'y' });
});

test('a lost read heartbeat is retried by the next periodic heartbeat', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.node('n1').readIndex('r');
  c.processAll();
  t.is(c.drop(['heartbeat']).length, 2, 'the round is lost');
  c.deliverAll();
  t.deepEqual(c.readStates.get('n1'), []);
  c.tick('n1');
  c.deliverAll();
  t.deepEqual(c.readStates.get('n1'), [{ context: 'r', index: 1 }]);
});

test('a follower read is forwarded and answered with the leader commit index', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.propose('n1', 'w');
  c.deliverAll();
  c.cut.add('n1->n2'); // n2 has not yet heard about commit 2
  c.propose('n1', 'w2');
  c.deliverAll();
  c.cut.clear();
  c.node('n2').readIndex('fr');
  c.deliverAll();
  t.deepEqual(
    c.readStates.get('n2'),
    [{ context: 'fr', index: 3 }],
    'the index is the leader commit, which n2 must apply before reading',
  );
});
