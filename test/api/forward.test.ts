// Leader forwarding from followers: headers passed back, no forwarding loops, a leader
// whose API cannot be reached gives 503 + Retry-After (never a hang or a 500), and the
// request target can never choose where a follower forwards (no open proxy).

import test from 'ava';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';
import { FORWARDED_HEADER } from '../../src/api/index.js';
import { leaderUrl } from '../../src/api/request-target.js';
import { assertProblem, get, post } from './client.js';
import { assertRawProblem, listenTrap, rawRequest } from './raw-http.js';

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

test('a follower refuses absolute-form targets and sends nothing to the host they name', async (t) => {
  const trap = await listenTrap();
  t.teardown(() => trap.close());
  const cluster = await InProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  const elsewhere = `http://127.0.0.1:${trap.port}`;
  const host = new URL(follower.url).host;
  const body = JSON.stringify({ id: 'proxied', company: 'C', model: 'M' });
  const write = await rawRequest(
    follower.url,
    `POST ${elsewhere}/api/v1/printers HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
      `Idempotency-Key: k-proxied\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  assertRawProblem(t, write, 400, 'invalid_request_target');
  const read = await rawRequest(
    follower.url,
    `GET ${elsewhere}/api/v1/printers?consistency=leader HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
  );
  assertRawProblem(t, read, 400, 'invalid_request_target');
  // The leader refuses them too (it would serve them from its own state otherwise).
  const atLeader = await rawRequest(
    leader.url,
    `POST ${elsewhere}/api/v1/printers HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
  );
  assertRawProblem(t, atLeader, 400, 'invalid_request_target');
  // Asterisk-form is for OPTIONS only.
  assertRawProblem(
    t,
    await rawRequest(follower.url, `GET * HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
    400,
    'invalid_request_target',
  );
  const options = await rawRequest(
    follower.url,
    `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
  );
  t.is(options.status, 204, options.raw);
  t.regex(options.headers['allow'] ?? '', /POST/);
  await sleep(200);
  t.deepEqual(trap.received, [], 'the listener named in the target must see nothing');
  const printers = await get(leader.url, '/api/v1/printers');
  t.is(printers.status, 200);
  t.deepEqual(printers.body, [], 'a refused target writes nothing');
});

test('the forward URL is the leader base with the request path and query, never another origin', (t) => {
  const base = 'http://10.0.0.7:8080';
  t.is(
    leaderUrl(base, '/api/v1/printers?consistency=leader').href,
    `${base}/api/v1/printers?consistency=leader`,
  );
  t.is(leaderUrl(`${base}/raft3d/`, '/api/v1/printers').href, `${base}/raft3d/api/v1/printers`);
  // Paths that a relative-URL resolution would read as another host stay paths on the leader.
  for (const target of [
    '//evil.example/api/v1/printers',
    '/\\evil.example/api/v1/printers',
    '/@evil.example/x',
  ])
    t.is(leaderUrl(base, target).origin, base, target);
  for (const target of ['http://evil.example/api/v1/printers', 'evil.example:80', '*']) {
    const error = t.throws(() => leaderUrl(base, target));
    t.is((error as { code?: string }).code, 'invalid_request_target', target);
  }
});
