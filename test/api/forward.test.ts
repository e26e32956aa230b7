// Leader forwarding from followers: headers passed back, no forwarding loops, and a
// leader whose API cannot be reached gives 503 + Retry-After (never a hang or a 500).

import test from 'ava';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { FORWARDED_HEADER } from '../../src/api/index.js';
import { assertProblem, post } from './client.js';

test('a forwarded write passes back the leader header, Location and status', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  const answer = await post(follower.url, '/api/v1/printers', { id: 'fw1', company: 'C', model: 'M' });
  t.is(answer.status, 201, answer.text);
  t.is(answer.headers.get('x-raft3d-leader'), leader.id);
  t.is(answer.headers.get('location'), '/api/v1/printers/fw1');
  t.regex(answer.headers.get('content-type') ?? '', /application\/json/);
  // A request that was already forwarded once is never forwarded again.
  const looped = await post(
    follower.url,
    '/api/v1/printers',
    { id: 'fw2', company: 'C', model: 'M' },
    { [FORWARDED_HEADER]: 'n9' },
  );
  const problem = assertProblem(t, looped, 503, 'not_leader');
  t.is(problem['leader'], leader.id);
});

test('when the leader API is unreachable a follower answers 503 with Retry-After', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  const server = leader.server!;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const answer = await post(follower.url, '/api/v1/printers', { company: 'C', model: 'M' });
  const problem = assertProblem(t, answer, 503, 'forwarding_failed');
  t.is(problem['leader'], leader.id);
});
