// Seed 000's curl walkthrough, end to end against a real 3-node in-process cluster:
// once on the leader, once through a follower (writes forwarded to the leader).

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { get, post } from './client.js';

let cluster: InProcessCluster;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 3 });
  await cluster.waitForLeader();
});
test.after.always(async () => {
  await cluster.stop();
});

async function walkthrough(
  t: ExecutionContext,
  base: string,
  suffix: string,
  expectLeader: string,
): Promise<void> {
  const p = `p${suffix}`;
  const f = `f${suffix}`;
  const j = `j${suffix}`;
  const printer = await post(base, '/api/v1/printers', { id: p, company: 'Creality', model: 'Ender 3' });
  t.is(printer.status, 201, printer.text);
  t.like(printer.body, { id: p, company: 'Creality', model: 'Ender 3' });
  t.is(printer.headers.get('location'), `/api/v1/printers/${p}`);
  t.is(printer.headers.get('x-raft3d-leader'), expectLeader);

  const filament = await post(base, '/api/v1/filaments', {
    id: f,
    type: 'PLA',
    color: 'Blue',
    total_weight_in_grams: 1000,
    remaining_weight_in_grams: 1000,
  });
  t.is(filament.status, 201, filament.text);
  t.like(filament.body, {
    id: f,
    type: 'PLA',
    remaining_weight_in_grams: 1000,
    reserved_weight_in_grams: 0,
    available_weight_in_grams: 1000,
  });

  const job = await post(base, '/api/v1/print_jobs', {
    id: j,
    printer_id: p,
    filament_id: f,
    filepath: 'prints/sword/hilt.gcode',
    print_weight_in_grams: 100,
    status: 'Queued',
  });
  t.is(job.status, 201, job.text);
  t.like(job.body, { id: j, status: 'Queued', print_weight_in_grams: 100 });
  const created = job.body as { created_at: string; updated_at: string };
  t.regex(created.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const reserved = await get(base, `/api/v1/filaments/${f}`);
  t.like(reserved.body, {
    remaining_weight_in_grams: 1000,
    reserved_weight_in_grams: 100,
    available_weight_in_grams: 900,
  });

  const running = await post(base, `/api/v1/print_jobs/${j}/status?status=Running`);
  t.is(running.status, 200, running.text);
  t.like(running.body, { id: j, status: 'Running' });
  const done = await post(base, `/api/v1/print_jobs/${j}/status?status=Done`);
  t.is(done.status, 200, done.text);
  t.like(done.body, { id: j, status: 'Done' });
  t.is((done.body as { created_at: string }).created_at, created.created_at);

  const filaments = await get(base, '/api/v1/filaments');
  t.is(filaments.status, 200);
  const mine = (filaments.body as { id: string }[]).find((x) => x.id === f);
  t.like(mine, {
    remaining_weight_in_grams: 900,
    reserved_weight_in_grams: 0,
    available_weight_in_grams: 900,
  });

  const printers = await get(base, '/api/v1/printers');
  t.true((printers.body as { id: string }[]).some((x) => x.id === p));
  const jobs = await get(base, '/api/v1/print_jobs?status=Done');
  t.deepEqual(
    (jobs.body as { id: string }[]).filter((x) => x.id === j).map((x) => x.id),
    [j],
  );
  const byPrinter = await get(base, `/api/v1/printers/${p}/print_jobs`);
  t.deepEqual(
    (byPrinter.body as { id: string }[]).map((x) => x.id),
    [j],
  );
  t.deepEqual((await get(base, `/api/v1/printers/${p}/print_jobs?status=done`)).body, byPrinter.body);
  t.deepEqual((await get(base, `/api/v1/printers/${p}/print_jobs?status=Queued`)).body, []);
  t.like((await get(base, `/api/v1/printers/${p}`)).body, { id: p });
  t.like((await get(base, `/api/v1/print_jobs/${j}`)).body, { id: j, status: 'Done' });
}

test.serial('the seed walkthrough works on the leader', async (t) => {
  const leader = await cluster.waitForLeader();
  await walkthrough(t, leader.url, '-leader', leader.id);
});

test.serial('the seed walkthrough works through a follower (writes forwarded to the leader)', async (t) => {
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  await walkthrough(t, follower.url, '-follower', leader.id);
  // Every node holds the same state once applied.
  await cluster.waitForApplied(leader.node.status().applied);
  for (const m of cluster.members) {
    const stale = await get(m.url, '/api/v1/printers?consistency=stale');
    t.deepEqual((stale.body as { id: string }[]).map((x) => x.id).sort(), ['p-follower', 'p-leader']);
  }
});

test.serial('ids are generated when absent, status accepted case-insensitively with quotes', async (t) => {
  const leader = await cluster.waitForLeader();
  const base = cluster.followers(leader.id)[0]!.url;
  const printer = await post(base, '/api/v1/printers', { company: 'Prusa', model: 'i3 MK3S+' });
  t.is(printer.status, 201, printer.text);
  const pid = (printer.body as { id: string }).id;
  t.regex(pid, /^[0-9a-f-]{36}$/);
  const filament = await post(base, '/api/v1/filaments', {
    type: 'petg',
    color: 'red',
    total_weight_in_grams: 500,
  });
  t.is(filament.status, 201, filament.text);
  t.like(filament.body, { type: 'PETG', remaining_weight_in_grams: 500 });
  const fid = (filament.body as { id: string }).id;
  const job = await post(base, '/api/v1/print_jobs', {
    printer_id: pid,
    filament_id: fid,
    filepath: 'a.gcode',
    print_weight_in_grams: 10,
  });
  t.is(job.status, 201, job.text);
  const jid = (job.body as { id: string }).id;
  const running = await post(base, `/api/v1/print_jobs/${jid}/status?status=%22running%22`);
  t.is(running.status, 200, running.text);
  t.like(running.body, { status: 'Running' });
  const canceled = await post(base, `/api/v1/print_jobs/${jid}/status?status=CANCELED`);
  t.like(canceled.body, { status: 'Canceled' });
  const list = await get(base, '/api/v1/print_jobs?status=canceled');
  t.true((list.body as { id: string }[]).some((x) => x.id === jid));
});
