// Idempotency-Key on POSTs: the same key with the same request replays the first result
// (same status and body, `Idempotent-Replayed: true`), on the leader or through a
// follower; the same key with a different request is refused with 422.

import test from 'ava';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { assertProblem, get, post } from './client.js';

let cluster: InProcessCluster;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 3 });
  await cluster.waitForLeader();
});
test.after.always(async () => {
  await cluster.stop();
});

test('the same key and body replays the first result, even with a server-chosen id', async (t) => {
  const leader = await cluster.waitForLeader();
  const headers = { 'Idempotency-Key': 'create-printer-1' };
  const first = await post(leader.url, '/api/v1/printers', { company: 'Bambu', model: 'X1' }, headers);
  t.is(first.status, 201, first.text);
  t.is(first.headers.get('idempotent-replayed'), null);
  const again = await post(leader.url, '/api/v1/printers', { model: 'X1', company: 'Bambu' }, headers);
  t.is(again.status, 201, again.text);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  t.deepEqual(again.body, first.body);
  // Only one printer was created.
  const all = await get(leader.url, '/api/v1/printers');
  t.is((all.body as { company: string }[]).filter((p) => p.company === 'Bambu').length, 1);
});

test('a replay through a follower is forwarded and answered the same way', async (t) => {
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  const headers = { 'Idempotency-Key': 'filament-via-follower' };
  const body = { type: 'ABS', color: 'black', total_weight_in_grams: 750 };
  const first = await post(follower.url, '/api/v1/filaments', body, headers);
  t.is(first.status, 201, first.text);
  // The same request, spelled differently (type case, key order), is still the same request.
  const again = await post(
    follower.url,
    '/api/v1/filaments',
    { total_weight_in_grams: 750, color: 'black', type: 'abs' },
    headers,
  );
  t.is(again.status, 201);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  t.is(again.headers.get('x-raft3d-leader'), leader.id);
  t.deepEqual(again.body, first.body);
});

test('a status change replays with 200 and does not move the job twice', async (t) => {
  const leader = await cluster.waitForLeader();
  const base = leader.url;
  t.is((await post(base, '/api/v1/printers', { id: 'ip', company: 'A', model: 'B' })).status, 201);
  t.is(
    (
      await post(base, '/api/v1/filaments', {
        id: 'if',
        type: 'TPU',
        color: 'white',
        total_weight_in_grams: 100,
      })
    ).status,
    201,
  );
  t.is(
    (
      await post(base, '/api/v1/print_jobs', {
        id: 'ij',
        printer_id: 'ip',
        filament_id: 'if',
        filepath: 'x.gcode',
        print_weight_in_grams: 10,
      })
    ).status,
    201,
  );
  const key = { 'Idempotency-Key': 'ij-run' };
  const first = await post(base, '/api/v1/print_jobs/ij/status?status=Running', undefined, key);
  t.is(first.status, 200, first.text);
  const again = await post(base, '/api/v1/print_jobs/ij/status?status=%22running%22', undefined, key);
  t.is(again.status, 200, again.text);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  t.deepEqual(again.body, first.body);
  // The same key on another status is a different request.
  assertProblem(
    t,
    await post(base, '/api/v1/print_jobs/ij/status?status=Done', undefined, key),
    422,
    'idempotency_key_reused',
  );
  // Without the key the same transition is refused: it already happened once.
  assertProblem(
    t,
    await post(base, '/api/v1/print_jobs/ij/status?status=Running'),
    409,
    'invalid_transition',
  );
});

test('the same key with a different body is refused with 422', async (t) => {
  const leader = await cluster.waitForLeader();
  const headers = { 'Idempotency-Key': 'reused-key' };
  t.is((await post(leader.url, '/api/v1/printers', { company: 'A', model: 'One' }, headers)).status, 201);
  const problem = assertProblem(
    t,
    await post(leader.url, '/api/v1/printers', { company: 'A', model: 'Two' }, headers),
    422,
    'idempotency_key_reused',
  );
  t.regex(problem.detail, /reused-key/);
  // A different route with the same key is a different request too.
  assertProblem(
    t,
    await post(
      leader.url,
      '/api/v1/filaments',
      { type: 'PLA', color: 'x', total_weight_in_grams: 1 },
      headers,
    ),
    422,
    'idempotency_key_reused',
  );
  // Through a follower as well.
  const follower = cluster.followers(leader.id)[0]!;
  assertProblem(
    t,
    await post(follower.url, '/api/v1/printers', { company: 'A', model: 'Three' }, headers),
    422,
    'idempotency_key_reused',
  );
});

test('a malformed Idempotency-Key is refused with 400', async (t) => {
  const leader = await cluster.waitForLeader();
  assertProblem(
    t,
    await post(
      leader.url,
      '/api/v1/printers',
      { company: 'A', model: 'B' },
      { 'Idempotency-Key': 'x'.repeat(300) },
    ),
    400,
    'invalid_request',
  );
});
