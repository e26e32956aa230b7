// Losing quorum: writes are refused with 503 (+ Retry-After) or time out with 504, as
// problem+json, and once healed nothing is half-applied: every member holds the same
// state and a retry with the same Idempotency-Key gives one definite outcome.

import test from 'ava';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';
import { assertProblem, get, post } from './client.js';

test('with two of three members cut off, writes fail with 503/504 and nothing is half-applied after healing', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, proposalTimeoutMs: 1_500 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  t.is(
    (await post(leader.url, '/api/v1/printers', { id: 'q-before', company: 'C', model: 'M' })).status,
    201,
  );
  const [a, b] = cluster.followers(leader.id);
  cluster.isolate(a!.id);
  cluster.isolate(b!.id);
  const key = { 'Idempotency-Key': 'q-during' };
  const during = await post(
    leader.url,
    '/api/v1/printers',
    { id: 'q-during', company: 'C', model: 'M' },
    key,
  );
  t.true(during.status === 503 || during.status === 504, `got ${during.status}: ${during.text}`);
  assertProblem(t, during, during.status);
  t.truthy(during.headers.get('retry-after'));
  // Once the leader stepped down (CheckQuorum), new writes are refused at once with 503.
  for (let i = 0; i < 200 && leader.node.leaderId() !== null; i++) await sleep(10);
  const refused = await post(leader.url, '/api/v1/printers', { company: 'C', model: 'M' });
  assertProblem(t, refused, 503);
  t.true(['no_leader', 'not_leader'].includes((refused.body as { code: string }).code));
  // A cut-off follower refuses too, and is not ready.
  const fromFollower = await post(a!.url, '/api/v1/printers', { company: 'C', model: 'M' });
  assertProblem(t, fromFollower, 503);
  for (let i = 0; i < 200 && a!.node.leaderId() !== null; i++) await sleep(10);
  assertProblem(t, await get(a!.url, '/readyz'), 503, 'not_ready');

  cluster.heal();
  const next = await cluster.waitForLeader();
  // Retrying with the same key gives a definite answer: created once (201, maybe replayed).
  const retry = await post(next.url, '/api/v1/printers', { id: 'q-during', company: 'C', model: 'M' }, key);
  t.is(retry.status, 201, retry.text);
  await cluster.waitForApplied(next.node.status().applied);
  const states = await Promise.all(
    cluster.members.map(async (m) => (await get(m.url, '/api/v1/printers?consistency=stale')).text),
  );
  t.is(new Set(states).size, 1, `members disagree (seed ${cluster.seed}): ${states.join(' | ')}`);
  const ids = (JSON.parse(states[0]!) as { id: string }[]).map((p) => p.id);
  t.is(ids.filter((id) => id === 'q-during').length, 1);
  t.true(ids.includes('q-before'));
});

test('a leader that keeps leading without a quorum answers a write with 504 once the proposal times out', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, checkQuorum: false, proposalTimeoutMs: 300 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  for (const f of cluster.followers(leader.id)) cluster.isolate(f.id);
  const answer = await post(leader.url, '/api/v1/printers', { id: 'never', company: 'C', model: 'M' });
  assertProblem(t, answer, 504, 'timeout');
  t.truthy(answer.headers.get('retry-after'));
  cluster.heal();
  const next = await cluster.waitForLeader();
  // A write after healing orders everything before it: once every member applied it, compare.
  t.is((await post(next.url, '/api/v1/printers', { id: 'sync', company: 'C', model: 'M' })).status, 201);
  await cluster.waitForApplied(next.node.status().applied);
  const states = await Promise.all(
    cluster.members.map(async (m) => (await get(m.url, '/api/v1/printers?consistency=stale')).text),
  );
  t.is(new Set(states).size, 1, `members disagree (seed ${cluster.seed}): ${states.join(' | ')}`);
});

test('a member with no leader at all answers writes and linearizable reads with 503 + Retry-After', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();
  for (const m of cluster.members) cluster.isolate(m.id);
  const lonely = cluster.members[0]!;
  for (let i = 0; i < 300 && lonely.node.leaderId() !== null; i++) await sleep(10);
  t.is(lonely.node.leaderId(), null);
  assertProblem(
    t,
    await post(lonely.url, '/api/v1/printers', { company: 'C', model: 'M' }),
    503,
    'no_leader',
  );
  assertProblem(t, await get(lonely.url, '/api/v1/printers'), 503, 'no_leader');
  assertProblem(t, await get(lonely.url, '/api/v1/printers?consistency=leader'), 503, 'no_leader');
  t.is((await get(lonely.url, '/api/v1/printers?consistency=stale')).status, 200);
  assertProblem(t, await get(lonely.url, '/readyz'), 503, 'not_ready');
  t.is((await get(lonely.url, '/healthz')).status, 200);
});
