import test from 'ava';
import { NotLeaderError, ProposalDroppedError } from '../../src/raft/index.js';
import { Cluster } from './helpers.js';

test('transferLeadership: only on the leader, only to a voter; to itself it is a no-op', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], {}, ['n4']);
  c.elect('n1');
  t.throws(() => c.node('n2').transferLeadership('n3'), { instanceOf: NotLeaderError });
  t.throws(() => c.node('n1').transferLeadership('n4'), { instanceOf: ProposalDroppedError });
  c.node('n1').transferLeadership('n1');
  t.is(c.node('n1').status().leadTransferee, null);
});

test('an up-to-date target gets TimeoutNow at once and wins the next term', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.node('n1').transferLeadership('n2');
  c.processAll();
  t.deepEqual(
    c.inflight.map((m) => [m.type, m.to]),
    [['timeout-now', 'n2']],
  );
  c.deliverAll();
  t.deepEqual(c.view('n2'), { role: 'leader', term: 2, leader: 'n2' });
  t.deepEqual(c.view('n1'), { role: 'follower', term: 2, leader: 'n2' });
  c.propose('n2', 'after');
  c.deliverAll();
  t.deepEqual(c.commands('n1'), ['after']);
});
