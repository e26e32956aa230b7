// Backup and restore: GET /cluster/backup from a running cluster, `restoreMember` (what
// `npm run restore` runs) into fresh data dirs for a new 3-member cluster, and the new
// cluster serves exactly the backed-up state and takes new writes.

import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.js';
import { getJson, postJson } from '../helpers/load.js';
import { restoreMember } from '../../src/tools/restore.js';

test('a backup restores into a new cluster with the same state hash', async (t) => {
  const source = await ProcessCluster.start({ size: 3, tickMs: 50 });
  let backup: Uint8Array;
  let hash: string;
  try {
    const leader = await source.waitForLeader(20_000);
    t.is(
      (await postJson(`${leader.url}/api/v1/printers`, { id: 'p1', company: 'Prusa', model: 'MK4' })).status,
      201,
    );
    const f = {
      id: 'f1',
      type: 'PETG',
      color: 'black',
      total_weight_in_grams: 1000,
      remaining_weight_in_grams: 1000,
    };
    t.is((await postJson(`${leader.url}/api/v1/filaments`, f)).status, 201);
    const job = {
      id: 'j1',
      printer_id: 'p1',
      filament_id: 'f1',
      filepath: 'prints/a.gcode',
      print_weight_in_grams: 100,
    };
    t.is((await postJson(`${leader.url}/api/v1/print_jobs`, job)).status, 201);
    const follower = source.nodes.find((n) => n.id !== leader.id)!;
    const res = await fetch(`${follower.url}/cluster/backup`);
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'application/octet-stream');
    backup = new Uint8Array(await res.arrayBuffer());
    hash = res.headers.get('x-raft3d-state-hash') ?? '';
    t.regex(hash, /^[0-9a-f]{64}$/);
  } finally {
    await source.stop();
  }

  const restored = await ProcessCluster.start({
    size: 3,
    tickMs: 50,
    prepare: async (nodes) => {
      for (const node of nodes) {
        t.is(await restoreMember({ backup, dataDir: node.dataDir, voters: nodes.map((n) => n.id) }), hash);
      }
    },
  });
  t.teardown(() => restored.stop());
  const leader = await restored.waitForLeader(20_000);
  const jobs = await getJson<{ id: string; status: string }[]>(`${leader.url}/api/v1/print_jobs`);
  t.deepEqual(
    jobs.body.map((j) => [j.id, j.status]),
    [['j1', 'Queued']],
  );
  const filament = await getJson<{ reserved_weight_in_grams: number }>(`${leader.url}/api/v1/filaments/f1`);
  t.is(filament.body.reserved_weight_in_grams, 100);
  t.is((await postJson(`${leader.url}/api/v1/print_jobs/j1/status?status=Running`, {})).status, 200);
  await t.throwsAsync(restoreMember({ backup, dataDir: restored.nodes[0]!.dataDir, voters: ['n1'] }), {
    message: /already/,
  });
});
