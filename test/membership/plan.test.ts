// planJoin, the leader's one-step-at-a-time admission of a member, as a pure function.

import test from 'ava';
import { memberContext, planJoin, removalBlocked, transferTarget } from '../../src/membership/index.js';
import type { MembershipView } from '../../src/membership/index.js';

function leader(
  voters: string[],
  learners: string[] = [],
  progress: Record<string, { match: number; lag: number }> = {},
): MembershipView {
  const peers = [...voters, ...learners]
    .filter((id) => id !== 'a')
    .map((id) => ({ id, ...(progress[id] ?? { match: 100, lag: 0 }) }));
  return { id: 'a', role: 'leader', config: { voters, learners }, peers };
}

const joiner = (id: string) => ({ id, peer: `${id}.peers:9090`, api: `http://${id}.peers:8080` });

test('a new member is added as a learner with its addresses, then promoted once caught up', (t) => {
  const j = joiner('d');
  t.deepEqual(planJoin(leader(['a', 'b', 'c']), j), {
    kind: 'add-learner',
    node: 'd',
    context: memberContext(j),
  });
  t.deepEqual(JSON.parse(memberContext(j)), { peer: 'd.peers:9090', api: 'http://d.peers:8080' });
  t.is(planJoin(leader(['a', 'b', 'c'], ['d'], { d: { match: 0, lag: 900 } }), j).kind, 'wait');
  t.is(planJoin(leader(['a', 'b', 'c'], ['d'], { d: { match: 10, lag: 65 } }), j).kind, 'wait');
  t.deepEqual(planJoin(leader(['a', 'b', 'c'], ['d'], { d: { match: 900, lag: 64 } }), j), {
    kind: 'promote',
    node: 'd',
  });
  t.deepEqual(planJoin(leader(['a', 'b', 'c', 'd']), j), { kind: 'done' });
});

test('a new incarnation replaces the old one: old voter removed before the new one is promoted', (t) => {
  const j = joiner('b~k3f9a2');
  // 1. the newcomer joins as a learner: it neither votes nor counts for commit.
  t.is(planJoin(leader(['a', 'b', 'c']), j).kind, 'add-learner');
  // 2. the old incarnation goes first, even while the newcomer is still catching up ...
  const caughtUpOthers = { b: { match: 0, lag: 500 }, 'b~k3f9a2': { match: 0, lag: 500 } };
  t.deepEqual(planJoin(leader(['a', 'b', 'c'], ['b~k3f9a2'], caughtUpOthers), j), {
    kind: 'remove',
    node: 'b',
  });
  // 3. ... and only then is the newcomer promoted.
  t.is(planJoin(leader(['a', 'c'], ['b~k3f9a2'], { 'b~k3f9a2': { match: 5, lag: 500 } }), j).kind, 'wait');
  t.deepEqual(planJoin(leader(['a', 'c'], ['b~k3f9a2']), j), { kind: 'promote', node: 'b~k3f9a2' });
  t.deepEqual(planJoin(leader(['a', 'c', 'b~k3f9a2']), j), { kind: 'done' });
});

test('the old incarnation is not removed while the other voters lack a caught-up quorum', (t) => {
  const j = joiner('b~k3f9a2');
  const view = leader(['a', 'b', 'c'], ['b~k3f9a2'], { c: { match: 3, lag: 400 } });
  const step = planJoin(view, j);
  t.is(step.kind, 'wait');
  t.regex((step as { reason: string }).reason, /removing b would leave 1 caught-up of 2 voters \(quorum 2\)/);
});

test('an earlier incarnation that is only a learner is removed first; several wipes in a row converge', (t) => {
  const j = joiner('b~zzzzzz');
  t.deepEqual(planJoin(leader(['a', 'b', 'c'], ['b~k3f9a2', 'b~zzzzzz']), j), {
    kind: 'remove',
    node: 'b~k3f9a2',
  });
  t.deepEqual(planJoin(leader(['a', 'b', 'c'], ['b~zzzzzz']), j), { kind: 'remove', node: 'b' });
});

test('if the old incarnation leads, it hands leadership to a caught-up voter of another base first', (t) => {
  const view: MembershipView = {
    ...leader(['a', 'b', 'c'], ['a~k3f9a2']),
    peers: [
      { id: 'b', match: 90, lag: 10 },
      { id: 'c', match: 100, lag: 0 },
      { id: 'a~k3f9a2', match: 100, lag: 0 },
    ],
  };
  t.deepEqual(planJoin(view, joiner('a~k3f9a2')), { kind: 'transfer', to: 'c' });
});

test('a follower plans nothing', (t) => {
  t.is(planJoin({ ...leader(['a', 'b', 'c']), role: 'follower' }, joiner('d')).kind, 'wait');
});

test('removalBlocked and transferTarget count only caught-up voters', (t) => {
  const view = leader(['a', 'b', 'c', 'd', 'e'], [], {
    d: { match: 0, lag: 10 },
    e: { match: 1, lag: 1000 },
  });
  // Of a, c, d, e only a (the leader) and c are caught up: 2 of 4, quorum 3.
  t.is(removalBlocked(view, 'b'), 'removing b would leave 2 caught-up of 4 voters (quorum 3)');
  t.is(removalBlocked(view, 'e'), null, 'a, b, c of a, b, c, d: 3 of 4');
  t.is(
    transferTarget(view, () => true),
    'b',
    'the least lag, then the lower id',
  );
  t.is(
    transferTarget(view, (id) => id !== 'b' && id !== 'c'),
    null,
    'd and e are behind',
  );
});
