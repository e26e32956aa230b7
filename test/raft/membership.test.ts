import test from 'ava';
import { ProposalDroppedError } from '../../src/raft/index.js';
import type { ConfigEntry } from '../../src/raft/index.js';
import { applyChange, validateChange } from '../../src/raft/membership.js';
import { Cluster, drain, entries, solo } from './helpers.js';

const base = { index: 0, conf: { voters: ['n1', 'n2', 'n3'], learners: [] as string[] }, context: {} };

test('applyChange: add a learner, promote it, remove members; contexts follow', (t) => {
  const a = applyChange(base, { kind: 'add-learner', node: 'n4', context: 'addr4' }, 5);
  t.deepEqual(a, {
    index: 5,
    conf: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
    context: { n4: 'addr4' },
  });
  const b = applyChange(a, { kind: 'promote', node: 'n4' }, 6);
  t.deepEqual(b.conf, { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
  t.deepEqual(b.context, { n4: 'addr4' });
  const c = applyChange(b, { kind: 'remove', node: 'n4' }, 7);
  t.deepEqual(c.conf, base.conf);
  t.deepEqual(c.context, {});
});

test('validateChange refuses changes that make no sense', (t) => {
  t.regex(validateChange(base.conf, { kind: 'add-learner', node: 'n1' })!, /already a member/);
  t.regex(validateChange(base.conf, { kind: 'promote', node: 'n2' })!, /not a learner/);
  t.regex(validateChange(base.conf, { kind: 'remove', node: 'n9' })!, /not a member/);
  t.regex(validateChange({ voters: ['n1'], learners: [] }, { kind: 'remove', node: 'n1' })!, /last voter/);
  t.is(validateChange(base.conf, { kind: 'remove', node: 'n3' }), null);
});

test('the leader refuses an invalid change with ProposalDroppedError', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  t.throws(() => c.proposeConf('n1', { kind: 'promote', node: 'n9' }), { instanceOf: ProposalDroppedError });
});

test('a follower applies a configuration when the entry is appended and rolls it back if the entry is truncated', (t) => {
  const f = solo('n2', ['n1', 'n2', 'n3'], {
    hardState: { term: 1, vote: null, commit: 1 },
    entries: entries([1]),
  });
  const conf: ConfigEntry = {
    type: 'config',
    index: 2,
    term: 1,
    change: { kind: 'add-learner', node: 'n4', context: 'x' },
  };
  f.step({
    type: 'append',
    from: 'n1',
    to: 'n2',
    term: 1,
    prevIndex: 1,
    prevTerm: 1,
    entries: [conf],
    commit: 1,
  });
  t.deepEqual(
    f.status().config,
    { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
    'in force before it commits',
  );
  drain(f);
  // A new leader of term 2 overwrites index 2.
  f.step({
    type: 'append',
    from: 'n3',
    to: 'n2',
    term: 2,
    prevIndex: 1,
    prevTerm: 1,
    entries: [{ type: 'noop', index: 2, term: 2 }],
    commit: 1,
  });
  t.deepEqual(
    f.status().config,
    { voters: ['n1', 'n2', 'n3'], learners: [] },
    'the truncated change never happened',
  );
  t.deepEqual(f.status().configContext, {});
});

test('a removed follower loses its progress and the smaller quorum commits', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3']);
  c.elect('n1');
  c.proposeConf('n1', { kind: 'remove', node: 'n3' });
  c.deliverAll();
  t.deepEqual(
    c
      .node('n1')
      .status()
      .progress.map((p) => p.id),
    ['n1', 'n2'],
  );
  c.cut.add('n1->n2');
  const { index } = c.propose('n1', 'x');
  c.deliverAll();
  t.true(c.node('n1').status().commit < index, 'n1 alone is not a majority of {n1, n2}');
  c.cut.clear();
  c.tick('n1');
  c.deliverAll();
  t.is(c.node('n1').status().commit, index);
});

test('status lists learners in the progress of the leader, with their state', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], {}, ['n4']);
  c.elect('n1');
  c.proposeConf('n1', { kind: 'add-learner', node: 'n4' });
  c.deliverAll();
  c.tick('n1');
  c.deliverAll();
  const s = c.node('n1').status();
  t.deepEqual(
    s.progress.map((p) => [p.id, p.match, p.state]),
    [
      ['n1', 2, 'replicate'],
      ['n2', 2, 'replicate'],
      ['n3', 2, 'replicate'],
      ['n4', 2, 'replicate'],
    ],
  );
  t.deepEqual(c.node('n2').status().progress, [], 'followers report no progress');
});

test('a promoted learner becomes a voter that counts', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], {}, ['n4']);
  c.elect('n1');
  c.proposeConf('n1', { kind: 'add-learner', node: 'n4' });
  c.deliverAll();
  c.proposeConf('n1', { kind: 'promote', node: 'n4' });
  c.deliverAll();
  // Quorum of four is three: n1 + n4 + n2 without n3.
  c.cut.add('n1->n3');
  const { index } = c.propose('n1', 'x');
  c.deliverAll();
  t.is(c.node('n1').status().commit, index);
  c.cut.add('n1->n2');
  const second = c.propose('n1', 'y');
  c.deliverAll();
  t.true(c.node('n1').status().commit < second.index, 'n1 + n4 of four voters is not a majority');
});
