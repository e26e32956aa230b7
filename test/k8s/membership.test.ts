import test from 'ava';
import { AppsV1Api } from '@kubernetes/client-node';
import { MembershipReconciler } from '../../src/k8s/membership-reconciler.js';
import { planMembershipStep, refuseJoin } from '../../src/k8s/membership-plan.js';
import type {
  KubeNode,
  KubeNodeStatus,
  MembershipChange,
  MemberProgress,
  RoleEvent,
} from '../../src/k8s/node-port.js';
import type { RaftNode } from '../../src/node/raft-node.js';
import { FakeApiServer, eventually } from './fake-api-server.js';

// Compile-time check: the real driver fits the port the k8s layer is written against.
export const realNodeFits = (node: RaftNode<unknown, unknown>): KubeNode => node;

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `raft3d-${from + i}`);

/** A leader whose membership changes apply at once; learners catch up when the test says so. */
class FakeNode implements KubeNode {
  role = 'leader';
  term = 2;
  voters: string[];
  learners: string[] = [];
  progress = new Map<string, { match: number; lag: number }>();
  changes: MembershipChange[] = [];
  transfers: (string | undefined)[] = [];
  private listeners = new Set<(c: RoleEvent) => void>();

  constructor(
    readonly id: string,
    voters: string[],
  ) {
    this.voters = [...voters];
    for (const v of voters) if (v !== id) this.progress.set(v, { match: 10, lag: 0 });
  }

  status(): KubeNodeStatus {
    const peers: MemberProgress[] = [...this.voters, ...this.learners]
      .filter((p) => p !== this.id)
      .map((p) => ({ id: p, ...(this.progress.get(p) ?? { match: 0, lag: 10 }) }));
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leader: this.role === 'leader' ? this.id : null,
      config: { voters: [...this.voters], learners: [...this.learners] },
      peers: this.role === 'leader' ? peers : [],
    };
  }

  async changeMembership(change: MembershipChange): Promise<void> {
    this.changes.push(change);
    if (change.kind === 'add-learner') {
      this.learners.push(change.node);
      this.progress.set(change.node, { match: 0, lag: 500 });
    } else if (change.kind === 'promote') {
      this.learners = this.learners.filter((l) => l !== change.node);
      this.voters.push(change.node);
    } else {
      this.learners = this.learners.filter((l) => l !== change.node);
      this.voters = this.voters.filter((l) => l !== change.node);
    }
  }

  async transferLeadership(to?: string): Promise<string> {
    this.transfers.push(to);
    this.setRole('follower');
    return to ?? '';
  }

  catchUp(id: string): void {
    this.progress.set(id, { match: 100, lag: 0 });
  }

  setRole(role: string): void {
    this.role = role;
    for (const l of [...this.listeners])
      l({ role, term: this.term, leader: role === 'leader' ? this.id : null });
  }

  on(_event: 'role', listener: (c: RoleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const summary = (changes: MembershipChange[]) => changes.map((c) => `${c.kind} ${c.node}`);

async function setup(
  t: { teardown(fn: () => Promise<void> | void): void },
  node: FakeNode,
  replicas: number,
  opts: { watch?: boolean; pollMs?: number } = {},
) {
  const api = await new FakeApiServer('shop').start();
  t.teardown(() => api.close());
  api.setReplicas('raft3d', replicas);
  const kc = api.kubeConfig();
  const reconciler = new MembershipReconciler({
    node,
    apps: kc.makeApiClient(AppsV1Api),
    namespace: 'shop',
    statefulSet: 'raft3d',
    ...(opts.watch ? { kubeConfig: kc } : {}),
    pollMs: opts.pollMs ?? 30,
    waitMs: 10,
    catchUpEntries: 8,
    backoff: { initialMs: 5, maxMs: 20 },
  });
  t.teardown(() => reconciler.stop());
  return { api, reconciler };
}

// ---- the plan, as a pure function ------------------------------------------------------

const status = (over: Partial<KubeNodeStatus>): KubeNodeStatus => ({
  id: 'raft3d-0',
  role: 'leader',
  term: 3,
  leader: 'raft3d-0',
  config: { voters: ids(3), learners: [] },
  peers: [],
  ...over,
});
const healthy = (list: string[]): MemberProgress[] => list.map((id) => ({ id, match: 50, lag: 0 }));

test('plan: nothing to do when members equal the replicas', (t) => {
  t.deepEqual(
    planMembershipStep({
      status: status({ peers: healthy(ids(2, 1)) }),
      replicas: 3,
      statefulSet: 'raft3d',
      catchUpEntries: 8,
    }),
    { kind: 'idle' },
  );
});

test('plan: a follower never plans', (t) => {
  t.deepEqual(
    planMembershipStep({
      status: status({ role: 'follower' }),
      replicas: 5,
      statefulSet: 'raft3d',
      catchUpEntries: 8,
    }),
    { kind: 'idle' },
  );
});

test('plan: the reconciler never adds or promotes: members below replicas ask to join themselves', (t) => {
  const s = status({ config: { voters: ids(3), learners: ['raft3d-3'] }, peers: healthy(ids(3, 1)) });
  t.deepEqual(planMembershipStep({ status: s, replicas: 5, statefulSet: 'raft3d', catchUpEntries: 8 }), {
    kind: 'idle',
  });
});

test('plan: incarnations count as their pod: one beyond replicas is removed, learners before voters', (t) => {
  const s = status({
    config: { voters: [...ids(3), 'raft3d-3~k3f9a2'], learners: ['raft3d-4~zzzzzz'] },
    peers: healthy([...ids(2, 1), 'raft3d-3~k3f9a2', 'raft3d-4~zzzzzz']),
  });
  const plan = (st: KubeNodeStatus) =>
    planMembershipStep({ status: st, replicas: 3, statefulSet: 'raft3d', catchUpEntries: 8 });
  t.deepEqual(plan(s), { kind: 'remove', node: 'raft3d-4~zzzzzz' });
  t.deepEqual(plan({ ...s, config: { voters: s.config.voters, learners: [] } }), {
    kind: 'remove',
    node: 'raft3d-3~k3f9a2',
  });
});

test('refuseJoin admits only pods of this StatefulSet below spec.replicas', (t) => {
  t.is(refuseJoin('raft3d', 3, 'raft3d-2'), null);
  t.is(refuseJoin('raft3d', 3, 'raft3d-2~k3f9a2'), null);
  t.is(refuseJoin('raft3d', null, 'raft3d-7'), null, 'replicas not read yet: only the shape is checked');
  t.regex(refuseJoin('raft3d', 3, 'raft3d-3') ?? '', /being scaled away/);
  t.regex(refuseJoin('raft3d', 3, 'raft3d-3~k3f9a2') ?? '', /being scaled away/);
  t.regex(refuseJoin('raft3d', 3, 'other-0') ?? '', /not a pod of StatefulSet raft3d/);
});

test('plan: members that are not StatefulSet pods are never touched', (t) => {
  const s = status({
    config: { voters: [...ids(3), 'manual-1', 'raft3d-x'], learners: [] },
    peers: healthy([...ids(2, 1), 'manual-1', 'raft3d-x']),
  });
  t.deepEqual(planMembershipStep({ status: s, replicas: 3, statefulSet: 'raft3d', catchUpEntries: 8 }), {
    kind: 'idle',
  });
});

test('plan: a voter is not removed when the remaining voters would not have a caught-up quorum', (t) => {
  // 5 voters, scale to 3, but raft3d-1 and raft3d-3 are far behind (down): removing raft3d-4 leaves 2 healthy of 4.
  const s = status({
    config: { voters: ids(5), learners: [] },
    peers: [
      { id: 'raft3d-1', match: 1, lag: 900 },
      { id: 'raft3d-2', match: 50, lag: 0 },
      { id: 'raft3d-3', match: 1, lag: 900 },
      { id: 'raft3d-4', match: 50, lag: 0 },
    ],
  });
  const step = planMembershipStep({ status: s, replicas: 3, statefulSet: 'raft3d', catchUpEntries: 8 });
  t.is(step.kind, 'wait');
});

test('plan: the leader hands over before its own ordinal is removed', (t) => {
  const s = status({
    id: 'raft3d-3',
    leader: 'raft3d-3',
    config: { voters: ids(5), learners: [] },
    peers: [
      { id: 'raft3d-0', match: 50, lag: 3 },
      { id: 'raft3d-1', match: 50, lag: 0 },
      { id: 'raft3d-2', match: 1, lag: 900 },
      { id: 'raft3d-4', match: 50, lag: 0 },
    ],
  });
  t.deepEqual(planMembershipStep({ status: s, replicas: 3, statefulSet: 'raft3d', catchUpEntries: 8 }), {
    kind: 'remove',
    node: 'raft3d-4',
  });
  const s2 = status({
    ...s,
    config: { voters: ids(4), learners: [] },
    peers: s.peers.filter((p) => p.id !== 'raft3d-4'),
  });
  t.deepEqual(planMembershipStep({ status: s2, replicas: 3, statefulSet: 'raft3d', catchUpEntries: 8 }), {
    kind: 'transfer',
    to: 'raft3d-1',
  });
});

// ---- the reconciler against the stand-in API server --------------------------------------

test('the leader admits joins only from ordinals below spec.replicas, once it has read them', async (t) => {
  const node = new FakeNode('raft3d-0', ids(3));
  const { api, reconciler } = await setup(t, node, 4);
  reconciler.start();
  await eventually(() => reconciler.admit('raft3d-4') !== null, 5_000, 'replicas read');
  t.is(reconciler.admit('raft3d-3'), null);
  t.regex(
    reconciler.admit('raft3d-4~k3f9a2') ?? '',
    /being scaled away \(StatefulSet raft3d has 4 replicas\)/,
  );
  t.deepEqual(node.changes, [], 'scaling up changes nothing by itself: the new pods ask to join');
  const read = api.requests.find(
    (r) => r.method === 'GET' && r.path === '/apis/apps/v1/namespaces/shop/statefulsets/raft3d',
  );
  t.truthy(read, 'reads its own StatefulSet');
});

test('scaling down removes ordinals >= replicas one at a time, highest first', async (t) => {
  const node = new FakeNode('raft3d-0', ids(5));
  const { reconciler } = await setup(t, node, 3);
  reconciler.start();
  await eventually(() => node.voters.length === 3, 5_000, 'three voters');
  t.deepEqual(summary(node.changes), ['remove raft3d-4', 'remove raft3d-3']);
  t.deepEqual(node.voters, ids(3));
});

test('a leader whose own ordinal goes away transfers leadership first and then stops acting', async (t) => {
  const node = new FakeNode('raft3d-2', ids(3));
  const { reconciler } = await setup(t, node, 1);
  reconciler.start();
  await eventually(() => node.transfers.length === 1, 5_000, 'transfer');
  // raft3d-2 is the highest excess ordinal and the leader itself: it hands over to the only member that stays.
  t.deepEqual(node.transfers, ['raft3d-0']);
  t.deepEqual(node.changes, [], 'nothing removed before the hand-over');
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(node.changes, [], 'a follower does not change membership');
});

test('deleting a pod never shrinks the cluster: a member that is down stays a voter', async (t) => {
  const node = new FakeNode('raft3d-0', ids(3));
  node.progress.set('raft3d-2', { match: 3, lag: 10_000 }); // its pod was deleted and is restarting
  const { api, reconciler } = await setup(t, node, 3);
  reconciler.start();
  await eventually(
    () => api.requests.filter((r) => r.path.endsWith('/statefulsets/raft3d')).length >= 3,
    5_000,
    'several polls',
  );
  t.deepEqual(node.changes, []);
  t.deepEqual(node.voters, ids(3));
});

test('only the leader reconciles; it starts on becoming leader and stops on losing it', async (t) => {
  const node = new FakeNode('raft3d-0', ids(3));
  node.role = 'follower';
  const { api, reconciler } = await setup(t, node, 2);
  reconciler.start();
  await new Promise((r) => setTimeout(r, 100));
  t.is(api.requests.length, 0, 'a follower does not even read the StatefulSet');
  node.setRole('leader');
  await eventually(() => !node.voters.includes('raft3d-2'), 5_000, 'raft3d-2 removed by the new leader');
  node.setRole('follower');
  await reconciler.settled();
  const seen = api.requests.length;
  await new Promise((r) => setTimeout(r, 100));
  t.is(api.requests.length, seen, 'no polling after losing leadership');
});

test('a watch on the StatefulSet (fieldSelector metadata.name) reacts to scaling without waiting for the poll', async (t) => {
  const node = new FakeNode('raft3d-0', ids(3));
  const { api, reconciler } = await setup(t, node, 3, { watch: true, pollMs: 60_000 });
  reconciler.start();
  await eventually(() => api.watcherCount() === 1, 5_000, 'watch open');
  const watch = api.requests.find((r) => r.query['watch'] === 'true')!;
  t.is(watch.path, '/apis/apps/v1/namespaces/shop/statefulsets');
  t.is(watch.query['fieldSelector'], 'metadata.name=raft3d');
  api.setReplicas('raft3d', 2);
  await eventually(() => node.changes.length > 0, 5_000, 'removal after the watch event');
  t.deepEqual(summary(node.changes), ['remove raft3d-2']);
});

test('API errors while reading the StatefulSet are retried and change nothing', async (t) => {
  const node = new FakeNode('raft3d-0', ids(3));
  const { api, reconciler } = await setup(t, node, 2);
  api.fail(3, 500);
  reconciler.start();
  await eventually(() => node.voters.length === 2, 5_000, 'removal after errors');
  t.true(api.requests.filter((r) => r.path.endsWith('/statefulsets/raft3d')).length >= 4);
});
