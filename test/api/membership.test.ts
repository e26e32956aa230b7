// POST /cluster/join and the joining member's loop, in one process: a new member is admitted
// as a learner and promoted; a member that lost its data comes back as a new incarnation that
// replaces the old one; the admin routes and the join route check their tokens, also when a
// follower forwards them.

import test from 'ava';
import pino from 'pino';
import { Joiner, newIncarnation } from '../../src/membership/index.js';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';
import type { ClusterMember } from '../helpers/in-process-cluster.js';
import { assertProblem, get, post } from './client.js';

const SECRET = 'members-only';
const ADMIN = 'admin-token';
const access = { adminToken: ADMIN, clusterSecret: SECRET, requireAdminToken: false };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function joinerFor(cluster: InProcessCluster, member: ClusterMember): Joiner {
  return new Joiner({
    request: { id: member.id, peer: '127.0.0.1:1', api: member.url },
    endpoints: () => cluster.members.filter((m) => m.running && m !== member).map((m) => m.url),
    authorization: `Bearer ${SECRET}`,
    logger: pino({ enabled: false }),
    intervalMs: 20,
  });
}

async function until(what: string, predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test.serial(
  'a new member asks to join and becomes a voter: learner first, promoted once caught up',
  async (t) => {
    const cluster = await InProcessCluster.start({ size: 3, access });
    t.teardown(() => cluster.stop());
    const leader = await cluster.waitForLeader();
    for (let i = 0; i < 20; i++)
      t.is(
        (await post(leader.url, '/api/v1/printers', { id: `p${i}`, company: 'C', model: 'M' })).status,
        201,
      );

    const n4 = await cluster.addMember('n4');
    const seen: string[] = [];
    const off = leader.node.on('applied', (e) => {
      if (e.type === 'config')
        seen.push(`${(e.payload as { kind: string }).kind} ${(e.payload as { node: string }).node}`);
    });
    t.teardown(off);
    const joiner = joinerFor(cluster, n4);
    joiner.start();
    await joiner.done();
    t.true(joiner.isAdmitted());
    t.deepEqual(seen, ['add-learner n4', 'promote n4']);
    t.deepEqual([...leader.node.status().config.voters].sort(), ['n1', 'n2', 'n3', 'n4']);
    await until('n4 applied the printers', () => n4.node.fsm.listPrinters().length === 20);
  },
);

test.serial(
  'a member that lost its data returns as a new incarnation, which replaces the old one',
  async (t) => {
    const cluster = await InProcessCluster.start({ size: 3, access });
    t.teardown(() => cluster.stop());
    const leader = await cluster.waitForLeader();
    t.is((await post(leader.url, '/api/v1/printers', { id: 'kept', company: 'C', model: 'M' })).status, 201);
    const victim = cluster.followers(leader.id)[0]!;
    await cluster.stopNode(victim.id); // its storage is thrown away: the new incarnation starts empty

    const reborn = await cluster.addMember(newIncarnation(victim.id));
    const seen: string[] = [];
    leader.node.on('applied', (e) => {
      if (e.type === 'config')
        seen.push(`${(e.payload as { kind: string }).kind} ${(e.payload as { node: string }).node}`);
    });
    const joiner = joinerFor(cluster, reborn);
    joiner.start();
    await joiner.done();
    t.deepEqual(seen, [`add-learner ${reborn.id}`, `remove ${victim.id}`, `promote ${reborn.id}`]);
    const voters = [...leader.node.status().config.voters].sort();
    t.deepEqual(
      voters,
      cluster.ids
        .filter((id) => id !== victim.id)
        .concat(reborn.id)
        .sort(),
    );
    await until('the new incarnation caught up', () => reborn.node.fsm.getPrinter('kept') !== undefined);
  },
);

test.serial(
  'admin routes need the admin token and the join route the cluster secret, also through a follower',
  async (t) => {
    const cluster = await InProcessCluster.start({ size: 3, access });
    t.teardown(() => cluster.stop());
    const leader = await cluster.waitForLeader();
    const follower = cluster.followers(leader.id)[0]!;
    for (const url of [leader.url, follower.url]) {
      const refused = await post(url, '/cluster/snapshot');
      assertProblem(t, refused, 401);
      t.is(refused.headers.get('www-authenticate'), 'Bearer realm="raft3d"');
      assertProblem(t, await post(url, '/cluster/snapshot', undefined, bearer(SECRET)), 401);
      assertProblem(t, await get(url, '/cluster/backup'), 401);
      assertProblem(t, await get(url, '/cluster/backup', bearer('wrong')), 401);
      t.is((await get(url, '/cluster/backup', bearer(ADMIN))).status, 200);
      t.is((await post(url, '/cluster/snapshot', undefined, bearer(ADMIN))).status, 200);
      assertProblem(t, await post(url, '/cluster/transfer-leadership', {}), 401);
      const join = { id: 'n1', peer: '127.0.0.1:1', api: 'http://127.0.0.1:1' };
      assertProblem(t, await post(url, '/cluster/join', join), 401);
      for (const token of [SECRET, ADMIN]) {
        const answer = await post(url, '/cluster/join', join, bearer(token));
        t.is(answer.status, 200, answer.text);
        t.deepEqual(answer.body, { state: 'voter', id: 'n1' });
      }
    }
    // Reads, writes and status stay open: the token guards administration only.
    t.is((await get(follower.url, '/cluster/status')).status, 200);
    t.is((await post(follower.url, '/api/v1/printers', { company: 'C', model: 'M' })).status, 201);
    // A transfer asked through a follower carries the token to the leader.
    const moved = await post(
      follower.url,
      '/cluster/transfer-leadership',
      { to: follower.id },
      bearer(ADMIN),
    );
    t.is(moved.status, 200, moved.text);
  },
);

test.serial('a malformed join request is refused with 400', async (t) => {
  const cluster = await InProcessCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  assertProblem(t, await post(leader.url, '/cluster/join', { id: 'n 2', peer: 'x', api: 'y' }), 400);
  assertProblem(t, await post(leader.url, '/cluster/join', { id: 'n2', peer: 'h:1', api: 'h:1', x: 1 }), 400);
});
