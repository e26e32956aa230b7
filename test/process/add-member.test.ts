// A member added by hand to a running cluster (`--initial-cluster-state existing`, the first
// configuration as `--initial-cluster`) must end with the same configuration as everyone
// else. Before, a new member had to list itself in `--initial-cluster` to have an address, so
// it started believing its bare id had been a voter from the start: n4~x counted n4, a voter
// that never answers, in its own quorum (the leader's view: four voters; n4~x's: five).

import test from 'ava';
import { baseOf } from '../../src/membership/index.js';
import { ProcessCluster, sleep } from '../helpers/process-cluster.js';
import type { NodeStatusView } from '../helpers/process-cluster.js';

test('a member added to a running cluster ends with the configuration every other member has', async (t) => {
  t.timeout(90_000);
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader(30_000);
  const res = await fetch(`${leader.url}/api/v1/printers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ company: 'Prusa', model: 'MK4' }),
  });
  t.is(res.status, 201);

  const added = await cluster.addMember('n4');
  const deadline = Date.now() + 60_000;
  let views: (NodeStatusView | null)[] = [];
  for (;;) {
    views = await Promise.all(cluster.nodes.map((n) => cluster.status(n.id)));
    const leaderView = views.find((v) => v?.role === 'leader') ?? undefined;
    const joined = leaderView?.config.voters.find((v) => baseOf(v) === 'n4');
    const caughtUp = views.every(
      (v) => v !== null && leaderView !== undefined && v.applied >= leaderView.commit,
    );
    if (joined !== undefined && caughtUp) break;
    if (Date.now() > deadline)
      t.fail(`n4 never became a voter:\n${JSON.stringify(views)}\n${cluster.dump()}`);
    await sleep(100);
  }
  const sorted = (v: NodeStatusView | null): string => JSON.stringify([...(v?.config.voters ?? [])].sort());
  const addedView = views[cluster.nodes.indexOf(added)] ?? null;
  t.is(addedView?.config.voters.length, 4, sorted(addedView));
  for (const view of views) t.is(sorted(view), sorted(addedView), `${view?.id}'s configuration`);
  t.deepEqual(addedView?.config.learners, []);
});
