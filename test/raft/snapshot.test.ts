import test from 'ava';
import { Cluster, enc } from './helpers.js';

test('a new member with an empty log gets a snapshot when index 1 is compacted', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], {}, ['n4']);
  c.elect('n1');
  for (let i = 0; i < 5; i++) c.propose('n1', `p${i}`);
  c.deliverAll();
  c.node('n1').compact(4, enc('fsm@4'));
  c.proposeConf('n1', { kind: 'add-learner', node: 'n4' });
  c.deliverAll();
  c.tick('n1');
  c.deliverAll();
  const snap = c.readies.get('n4')!.find((r) => r.snapshot)?.snapshot;
  t.is(snap?.meta.index, 4);
  t.deepEqual(
    snap?.meta.config,
    { voters: ['n1', 'n2', 'n3'], learners: [] },
    'the configuration at index 4, before n4 was added',
  );
  t.deepEqual(c.applied.get('n4'), ['<snapshot 4>', 'p3', 'p4', '<config add-learner n4>']);
  t.deepEqual(c.node('n4').status().config, { voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
});

test('a lost snapshot is re-sent after an election timeout', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.isolated.add('n3');
  for (let i = 0; i < 5; i++) c.propose('n1', `p${i}`);
  c.deliverAll();
  c.node('n1').compact(5, enc('fsm@5'));
  c.isolated.delete('n3');
  let lost = 0;
  c.tick('n1');
  c.deliverAll(200, (m) => m.type === 'snapshot' && ++lost > 0);
  t.is(lost, 1, 'the snapshot went out (and is lost)');
  t.is(
    c
      .node('n1')
      .status()
      .progress.find((p) => p.id === 'n3')!.state,
    'snapshot',
  );
  for (let i = 0; i < 12; i++) {
    c.tick('n1');
    c.deliverAll();
  }
  t.is(c.node('n3').status().snapshotIndex, 5);
  t.deepEqual(c.commands('n3'), ['p4']);
  t.is(
    c
      .node('n1')
      .status()
      .progress.find((p) => p.id === 'n3')!.state,
    'replicate',
  );
});

test('a restarted follower resumes from its snapshot and the rest of its log', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  for (let i = 0; i < 4; i++) c.propose('n1', `p${i}`);
  c.deliverAll();
  c.node('n1').compact(3, enc('fsm@3'));
  c.isolated.add('n3');
  c.propose('n1', 'more');
  c.deliverAll();
  c.isolated.delete('n3');
  c.tick('n1');
  c.deliverAll();
  t.deepEqual(
    c.commands('n3'),
    ['p0', 'p1', 'p2', 'p3', 'more'],
    'n3 still had index 3..: plain appends, no snapshot',
  );
  t.falsy(c.readies.get('n3')!.find((r) => r.snapshot));
});
