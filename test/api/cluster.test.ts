// Cluster and operations routes: /cluster/status, leadership transfer (also through a
// follower), on-demand snapshots, /healthz, /readyz and the Prometheus /metrics page.

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

interface Status {
  id: string;
  role: string;
  term: number;
  leader: string | null;
  commit: number;
  applied: number;
  peers: { id: string; match: number; lag: number }[];
  config: { voters: string[]; learners: string[] };
}

test.serial('cluster status shows role, term, leader, indexes, peers and configuration', async (t) => {
  const leader = await cluster.waitForLeader();
  t.is((await post(leader.url, '/api/v1/printers', { company: 'C', model: 'M' })).status, 201);
  const answer = await get(leader.url, '/cluster/status');
  t.is(answer.status, 200);
  const s = answer.body as Status;
  t.is(s.id, leader.id);
  t.is(s.role, 'leader');
  t.is(s.leader, leader.id);
  t.true(s.term >= 1);
  t.true(s.commit >= 1 && s.applied >= 1);
  t.deepEqual([...s.config.voters].sort(), ['n1', 'n2', 'n3']);
  t.deepEqual(
    s.peers.map((p) => p.id).sort(),
    cluster
      .followers(leader.id)
      .map((m) => m.id)
      .sort(),
  );
  for (const p of s.peers) t.true(Number.isInteger(p.match) && Number.isInteger(p.lag) && p.lag >= 0);
  const follower = cluster.followers(leader.id)[0]!;
  const fs = (await get(follower.url, '/cluster/status')).body as Status;
  t.is(fs.role, 'follower');
  t.is(fs.leader, leader.id);
});

test.serial('leadership moves to the requested member, also when asked through a follower', async (t) => {
  const leader = await cluster.waitForLeader();
  const [a, b] = cluster.followers(leader.id);
  const moved = await post(leader.url, '/cluster/transfer-leadership', { to: a!.id });
  t.is(moved.status, 200, moved.text);
  t.deepEqual(moved.body, { from: leader.id, to: a!.id });
  t.is((await cluster.waitForLeader()).id, a!.id);
  // Asked through a follower (b), the request is forwarded to the leader (a).
  const back = await post(b!.url, '/cluster/transfer-leadership', { to: leader.id });
  t.is(back.status, 200, back.text);
  t.is((await cluster.waitForLeader()).id, leader.id);
  // Without a target the most up-to-date follower is chosen.
  const any = await post(leader.url, '/cluster/transfer-leadership');
  t.is(any.status, 200, any.text);
  t.not((await cluster.waitForLeader()).id, leader.id);
  // Bad targets are refused.
  const now = await cluster.waitForLeader();
  assertProblem(t, await post(now.url, '/cluster/transfer-leadership', { to: 'n9' }), 400);
  assertProblem(
    t,
    await post(now.url, '/cluster/transfer-leadership', { target: 'n2' }),
    400,
    'invalid_request',
  );
});

test.serial('a snapshot can be taken on any member', async (t) => {
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  t.is((await post(leader.url, '/api/v1/printers', { company: 'C', model: 'M' })).status, 201);
  await cluster.waitForApplied(leader.node.status().applied);
  for (const m of [leader, follower]) {
    const snap = await post(m.url, '/cluster/snapshot');
    t.is(snap.status, 200, snap.text);
    t.like(snap.body, { id: m.id });
    t.true((snap.body as { index: number }).index > 0);
  }
  const metrics = await get(leader.url, '/metrics');
  t.regex(metrics.text, /^raft3d_snapshots_total(\{[^}]*\})? [1-9]/m);
});

test.serial('healthz and readyz answer on every member once a leader is known', async (t) => {
  await cluster.waitForLeader();
  for (const m of cluster.members) {
    const health = await get(m.url, '/healthz');
    t.is(health.status, 200);
    let ready = await get(m.url, '/readyz');
    for (let i = 0; i < 50 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await get(m.url, '/readyz');
    }
    t.is(ready.status, 200, ready.text);
    t.like(ready.body, { status: 'ready', id: m.id });
  }
});

test.serial('metrics expose the raft3d_ series, with is_leader set on the leader only', async (t) => {
  const leader = await cluster.waitForLeader();
  t.is((await post(leader.url, '/api/v1/printers', { company: 'C', model: 'M' })).status, 201);
  const text = (await get(leader.url, '/metrics')).text;
  for (const name of [
    'raft3d_is_leader',
    'raft3d_term',
    'raft3d_commit_index',
    'raft3d_applied_index',
    'raft3d_leader_changes_total',
    'raft3d_proposals_total',
    'raft3d_proposal_latency_seconds_bucket',
    'raft3d_fsync_latency_seconds_bucket',
    'raft3d_snapshots_total',
    'raft3d_http_requests_total',
    'raft3d_http_request_duration_seconds_bucket',
    'raft3d_label_sync_failures_total',
  ]) {
    t.regex(text, new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'), name);
  }
  t.regex(text, /^raft3d_is_leader\{[^}]*\} 1$/m);
  t.regex(text, /^raft3d_proposals_total\{[^}]*result="ok"[^}]*\} [1-9]/m);
  t.regex(text, /^raft3d_http_requests_total\{[^}]*route="\/api\/v1\/printers"[^}]*code="201"[^}]*\} [1-9]/m);
  const follower = cluster.followers(leader.id)[0]!;
  t.regex((await get(follower.url, '/metrics')).text, /^raft3d_is_leader\{[^}]*\} 0$/m);
});
