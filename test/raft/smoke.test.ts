import test from 'ava';
import { Cluster } from './helpers.js';

test('a three-node cluster elects a leader and commits proposals on every node', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  t.deepEqual(c.view('n2'), { role: 'follower', term: 1, leader: 'n1' });
  c.propose('n1', 'a');
  c.propose('n1', 'b');
  c.deliverAll();
  c.tickAll();
  c.deliverAll();
  for (const id of ['n1', 'n2', 'n3']) t.deepEqual(c.commands(id), ['a', 'b'], id);
  t.is(c.node('n1').status().commit, 3);
});
