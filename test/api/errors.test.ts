// Every client error the API answers, each as RFC 9457 problem+json with the right
// status and stable code, never a stack trace, never a 500 for bad input.

import test from 'ava';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { assertProblem, call, get, post } from './client.js';

let cluster: InProcessCluster;
let base: string;
let followerBase: string;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 3 });
  const leader = await cluster.waitForLeader();
  base = leader.url;
  followerBase = cluster.followers(leader.id)[0]!.url;
  const setup = [
    post(base, '/api/v1/printers', { id: 'ep', company: 'Creality', model: 'Ender 3' }),
    post(base, '/api/v1/filaments', {
      id: 'ef',
      type: 'PLA',
      color: 'Blue',
      total_weight_in_grams: 1000,
      remaining_weight_in_grams: 300,
    }),
  ];
  for (const r of await Promise.all(setup)) if (r.status !== 201) throw new Error(`setup failed: ${r.text}`);
  const job = await post(base, '/api/v1/print_jobs', {
    id: 'ej',
    printer_id: 'ep',
    filament_id: 'ef',
    filepath: 'a.gcode',
    print_weight_in_grams: 200,
  });
  if (job.status !== 201) throw new Error(`setup failed: ${job.text}`);
});
test.after.always(async () => {
  await cluster.stop();
});

const invalidBodies: [string, string, unknown, string[]][] = [
  [
    'printer with an unknown field',
    '/api/v1/printers',
    { company: 'A', model: 'B', colour: 'x' },
    ['(body)'],
  ],
  ['printer with an empty company', '/api/v1/printers', { company: '', model: 'B' }, ['company']],
  ['printer with a blank model', '/api/v1/printers', { company: 'A', model: '   ' }, ['model']],
  ['printer with a numeric company', '/api/v1/printers', { company: 5, model: 'B' }, ['company']],
  [
    'printer with a __proto__ field',
    '/api/v1/printers',
    JSON.parse('{"__proto__": {"admin": true}, "company": "A", "model": "B"}'),
    ['(body)'],
  ],
  ['printer missing its model', '/api/v1/printers', { company: 'A' }, ['model']],
  [
    'printer with an id full of slashes',
    '/api/v1/printers',
    { id: '../x', company: 'A', model: 'B' },
    ['id'],
  ],
  [
    'filament of an unknown type',
    '/api/v1/filaments',
    { type: 'WOOD', color: 'red', total_weight_in_grams: 10 },
    ['type'],
  ],
  [
    'filament with fractional grams',
    '/api/v1/filaments',
    { type: 'PLA', color: 'red', total_weight_in_grams: 10.5 },
    ['total_weight_in_grams'],
  ],
  [
    'filament with grams as a string',
    '/api/v1/filaments',
    { type: 'PLA', color: 'red', total_weight_in_grams: '1000' },
    ['total_weight_in_grams'],
  ],
  [
    'filament with zero total',
    '/api/v1/filaments',
    { type: 'PLA', color: 'red', total_weight_in_grams: 0 },
    ['total_weight_in_grams'],
  ],
  [
    'filament with negative remaining',
    '/api/v1/filaments',
    { type: 'PLA', color: 'red', total_weight_in_grams: 10, remaining_weight_in_grams: -1 },
    ['remaining_weight_in_grams'],
  ],
  [
    'filament with remaining above total',
    '/api/v1/filaments',
    { type: 'PLA', color: 'red', total_weight_in_grams: 10, remaining_weight_in_grams: 11 },
    ['remaining_weight_in_grams'],
  ],
  [
    'job with zero weight',
    '/api/v1/print_jobs',
    { printer_id: 'ep', filament_id: 'ef', filepath: 'a.gcode', print_weight_in_grams: 0 },
    ['print_weight_in_grams'],
  ],
  [
    'job with an empty filepath',
    '/api/v1/print_jobs',
    { printer_id: 'ep', filament_id: 'ef', filepath: '', print_weight_in_grams: 1 },
    ['filepath'],
  ],
  [
    'job with an unknown field',
    '/api/v1/print_jobs',
    { printer_id: 'ep', filament_id: 'ef', filepath: 'a', print_weight_in_grams: 1, owner: 'me' },
    ['(body)'],
  ],
];

for (const [name, path, body, fields] of invalidBodies) {
  test(`400 for a ${name}, naming the field`, async (t) => {
    const answer = await post(base, path, body);
    const problem = assertProblem(t, answer, 400, 'invalid_request');
    t.true(Array.isArray(problem.errors));
    t.deepEqual(
      problem.errors!.map((e) => e.field),
      fields,
    );
  });
}

test('400 when a job is created with a status other than Queued; Queued itself is fine', async (t) => {
  assertProblem(
    t,
    await post(base, '/api/v1/print_jobs', {
      printer_id: 'ep',
      filament_id: 'ef',
      filepath: 'a',
      print_weight_in_grams: 1,
      status: 'Running',
    }),
    400,
    'status_not_allowed',
  );
  const ok = await post(base, '/api/v1/print_jobs', {
    printer_id: 'ep',
    filament_id: 'ef',
    filepath: 'a',
    print_weight_in_grams: 1,
    status: 'queued',
  });
  t.is(ok.status, 201, ok.text);
});

test('400 for a body that is not an object, or no body at all', async (t) => {
  assertProblem(
    t,
    await call(base, 'POST', '/api/v1/printers', {
      raw: '[1,2]',
      headers: { 'content-type': 'application/json' },
    }),
    400,
  );
  assertProblem(
    t,
    await call(base, 'POST', '/api/v1/printers', {
      raw: '"x"',
      headers: { 'content-type': 'application/json' },
    }),
    400,
  );
  assertProblem(t, await post(base, '/api/v1/printers'), 400, 'invalid_request');
});

test('400 for malformed JSON', async (t) => {
  const answer = await call(base, 'POST', '/api/v1/printers', {
    raw: '{"company": "A",',
    headers: { 'content-type': 'application/json' },
  });
  assertProblem(t, answer, 400, 'malformed_json');
});

test('413 for a body over the 64 KiB limit', async (t) => {
  const answer = await post(base, '/api/v1/printers', { company: 'x'.repeat(70_000), model: 'B' });
  assertProblem(t, answer, 413, 'payload_too_large');
});

test('415 for a body that is not JSON', async (t) => {
  assertProblem(
    t,
    await call(base, 'POST', '/api/v1/printers', {
      raw: 'company=A&model=B',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
    415,
    'unsupported_media_type',
  );
  assertProblem(
    t,
    await call(base, 'POST', '/api/v1/printers', {
      raw: '{"company":"A","model":"B"}',
      headers: { 'content-type': 'text/plain' },
    }),
    415,
  );
  const latin1 = {
    raw: '{"company":"A","model":"B"}',
    headers: { 'content-type': 'application/json; charset=iso-8859-1' },
  };
  assertProblem(t, await call(base, 'POST', '/api/v1/printers', latin1), 415, 'unsupported_media_type');
});

test('a +json media type and an explicit UTF-8 charset are accepted', async (t) => {
  const vendor = {
    raw: '{"company":"Anker","model":"M5"}',
    headers: { 'content-type': 'application/vnd.raft3d+json; charset="UTF-8"' },
  };
  const answer = await call(base, 'POST', '/api/v1/printers', vendor);
  t.is(answer.status, 201, JSON.stringify(answer.body));
});

test('400 for a missing or unknown status in a status change', async (t) => {
  assertProblem(t, await post(base, '/api/v1/print_jobs/ej/status'), 400, 'invalid_status');
  assertProblem(t, await post(base, '/api/v1/print_jobs/ej/status?status=Paused'), 400, 'invalid_status');
  assertProblem(t, await post(base, '/api/v1/print_jobs/ej/status?status=queued'), 400, 'invalid_status');
  assertProblem(t, await post(base, '/api/v1/print_jobs/ej/status?status=Running&status=Done'), 400);
  assertProblem(t, await get(base, '/api/v1/print_jobs?status=Sleeping'), 400, 'invalid_status');
});

test('400 for an unknown consistency level or bad paging', async (t) => {
  assertProblem(t, await get(base, '/api/v1/printers?consistency=eventual'), 400, 'invalid_query');
  assertProblem(t, await get(base, '/api/v1/events?limit=0'), 400, 'invalid_query');
  assertProblem(t, await get(base, '/api/v1/events?after=-1'), 400, 'invalid_query');
  assertProblem(t, await get(base, '/api/v1/events?watch=maybe'), 400, 'invalid_query');
});

test('404 for unknown ids of every kind', async (t) => {
  assertProblem(t, await get(base, '/api/v1/printers/nope'), 404, 'printer_not_found');
  assertProblem(t, await get(base, '/api/v1/printers/nope/print_jobs'), 404, 'printer_not_found');
  assertProblem(t, await get(base, '/api/v1/filaments/nope'), 404, 'filament_not_found');
  assertProblem(t, await get(base, '/api/v1/print_jobs/nope'), 404, 'print_job_not_found');
  assertProblem(
    t,
    await post(base, '/api/v1/print_jobs/nope/status?status=Running'),
    404,
    'print_job_not_found',
  );
  assertProblem(
    t,
    await post(base, '/api/v1/print_jobs', {
      printer_id: 'nope',
      filament_id: 'ef',
      filepath: 'a',
      print_weight_in_grams: 1,
    }),
    404,
    'printer_not_found',
  );
  assertProblem(
    t,
    await post(base, '/api/v1/print_jobs', {
      printer_id: 'ep',
      filament_id: 'nope',
      filepath: 'a',
      print_weight_in_grams: 1,
    }),
    404,
    'filament_not_found',
  );
  // Through a follower the forwarded answer is the same problem.
  assertProblem(
    t,
    await post(followerBase, '/api/v1/print_jobs/nope/status?status=Running'),
    404,
    'print_job_not_found',
  );
});

test('404 for an unknown route and 405 for a wrong method', async (t) => {
  assertProblem(t, await get(base, '/api/v1/spaceships'), 404, 'route_not_found');
  const wrong = await call(base, 'DELETE', '/api/v1/printers');
  assertProblem(t, wrong, 405, 'method_not_allowed');
  t.regex(wrong.headers.get('allow') ?? '', /GET/);
});

test('409 for a duplicate id', async (t) => {
  const problem = assertProblem(
    t,
    await post(base, '/api/v1/printers', { id: 'ep', company: 'X', model: 'Y' }),
    409,
    'duplicate_id',
  );
  t.is(problem['id'], 'ep');
  assertProblem(
    t,
    await post(followerBase, '/api/v1/filaments', {
      id: 'ef',
      type: 'ABS',
      color: 'red',
      total_weight_in_grams: 5,
    }),
    409,
    'duplicate_id',
  );
});

test('409 when a job weighs more than the filament has available (reservations count)', async (t) => {
  // ef: 300 g remaining, 200 g reserved by ej (and maybe 1 g by another test's job).
  const problem = assertProblem(
    t,
    await post(base, '/api/v1/print_jobs', {
      printer_id: 'ep',
      filament_id: 'ef',
      filepath: 'b.gcode',
      print_weight_in_grams: 150,
    }),
    409,
    'filament_capacity',
  );
  t.is(problem['requested'], 150);
  t.true(typeof problem['available'] === 'number' && problem['available'] <= 100);
});

test('409 for a status transition that is not allowed', async (t) => {
  const job = await post(base, '/api/v1/print_jobs', {
    printer_id: 'ep',
    filament_id: 'ef',
    filepath: 'c.gcode',
    print_weight_in_grams: 1,
  });
  t.is(job.status, 201, job.text);
  const id = (job.body as { id: string }).id;
  const problem = assertProblem(
    t,
    await post(base, `/api/v1/print_jobs/${id}/status?status=Done`),
    409,
    'invalid_transition',
  );
  t.is(problem['from'], 'Queued');
  t.is(problem['to'], 'Done');
  t.is((await post(base, `/api/v1/print_jobs/${id}/status?status=Canceled`)).status, 200);
  assertProblem(
    t,
    await post(base, `/api/v1/print_jobs/${id}/status?status=Running`),
    409,
    'invalid_transition',
  );
});

test('a request with the wrong method on an id route or odd paths never yields a 500', async (t) => {
  for (const path of [
    '/api/v1/printers/%E0%A4%A',
    '/api/v1/print_jobs/a%2Fb',
    '/api/v1/filaments/' + 'x'.repeat(300),
  ]) {
    const answer = await get(base, path);
    t.true(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status} ${answer.text}`);
    t.notRegex(answer.text, /\n\s+at /);
  }
});
