import test from 'ava';
import type { ExecutionContext } from 'ava';
import { CoreV1Api } from '@kubernetes/client-node';
import { PodLabeller } from '../../src/k8s/pod-labeller.js';
import { FakeApiServer, eventually, kubeConfigFor } from './fake-api-server.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const APP = { 'app.kubernetes.io/name': 'raft3d', 'app.kubernetes.io/instance': 'shop' };
const fast = { initialMs: 5, maxMs: 40 };

async function setup(t: ExecutionContext) {
  t.timeout(10_000); // a labeller that never settles fails fast instead of hanging the run
  const api = await new FakeApiServer('shop').start();
  t.teardown(() => api.close());
  for (const i of [0, 1, 2])
    api.addPod(`raft3d-${i}`, { ...APP, 'raft3d.io/role': 'follower', 'raft3d.io/term': '1' });
  let failures = 0;
  const labeller = new PodLabeller({
    core: api.kubeConfig().makeApiClient(CoreV1Api),
    namespace: 'shop',
    podName: 'raft3d-1',
    peers: () => ['raft3d-0', 'raft3d-2'],
    onFailure: () => (failures += 1),
    backoff: fast,
  });
  t.teardown(() => labeller.stop());
  return { api, labeller, failures: () => failures };
}

test('a role change is one merge-patch of the own pod with role and term labels', async (t) => {
  const { api, labeller } = await setup(t);
  labeller.set('leader', 4);
  await labeller.idle();
  const patch = api.patches()[0]!;
  t.is(patch.path, '/api/v1/namespaces/shop/pods/raft3d-1');
  t.is(patch.contentType, 'application/merge-patch+json');
  t.deepEqual(patch.body, { metadata: { labels: { 'raft3d.io/role': 'leader', 'raft3d.io/term': '4' } } });
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/role'], 'leader');
});

test('candidates and pre-candidates are labelled follower', async (t) => {
  const { api, labeller } = await setup(t);
  labeller.set('candidate', 2);
  await labeller.idle();
  t.deepEqual(api.patches()[0]!.body, {
    metadata: { labels: { 'raft3d.io/role': 'follower', 'raft3d.io/term': '2' } },
  });
});

test('updates coalesce: the latest wanted label wins and stale ones are never sent after it', async (t) => {
  const { api, labeller } = await setup(t);
  labeller.set('follower', 2);
  labeller.set('leader', 3);
  labeller.set('follower', 4);
  labeller.set('leader', 5);
  await labeller.idle();
  const bodies = api
    .patches()
    .filter((p) => p.path.endsWith('/raft3d-1'))
    .map((p) => (p.body as { metadata: { labels: Record<string, string> } }).metadata.labels);
  t.true(bodies.length <= 2, `sent ${bodies.length} own-pod patches`);
  t.deepEqual(bodies.at(-1), { 'raft3d.io/role': 'leader', 'raft3d.io/term': '5' });
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/term'], '5');
});

test('a failing API server is retried with backoff and every failure is counted', async (t) => {
  const { api, labeller, failures } = await setup(t);
  api.fail(3, 500, 'PATCH');
  labeller.set('follower', 2);
  await labeller.idle();
  t.is(api.patches().length, 4);
  t.is(failures(), 3);
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/term'], '2');
});

test('an unreachable API server never throws: the labeller keeps counting failures and stops cleanly', async (t) => {
  // A port that was just free: connection refused.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  let failures = 0;
  const labeller = new PodLabeller({
    core: kubeConfigFor(`http://127.0.0.1:${port}`).makeApiClient(CoreV1Api),
    namespace: 'shop',
    podName: 'raft3d-0',
    peers: () => [],
    onFailure: () => (failures += 1),
    backoff: fast,
  });
  labeller.set('leader', 1);
  await eventually(() => failures >= 3, 5_000, 'three failures');
  await labeller.stop();
  const after = failures;
  t.true(after >= 4, 'the final follower label attempt is counted too');
  await new Promise((r) => setTimeout(r, 100));
  t.is(failures, after, 'no retries after stop');
});

test('a slow API server hits the request deadline and is retried', async (t) => {
  const hang = http.createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    hang.closeAllConnections();
    hang.close();
  });
  let failures = 0;
  const labeller = new PodLabeller({
    core: kubeConfigFor(`http://127.0.0.1:${(hang.address() as AddressInfo).port}`).makeApiClient(CoreV1Api),
    namespace: 'shop',
    podName: 'raft3d-0',
    peers: () => [],
    onFailure: () => (failures += 1),
    backoff: fast,
    requestTimeoutMs: 50,
  });
  labeller.set('follower', 1);
  await eventually(() => failures >= 2, 5_000, 'two deadline failures');
  await labeller.stop();
  t.pass();
});

test('a new leader relabels other members still labelled leader with an older term, and only those', async (t) => {
  const { api, labeller } = await setup(t);
  api.setLabels('raft3d-0', { 'raft3d.io/role': 'leader', 'raft3d.io/term': '3' });
  api.setLabels('raft3d-2', { 'raft3d.io/role': 'leader', 'raft3d.io/term': '9' });
  api.addPod('other-0', {
    'app.kubernetes.io/name': 'raft3d',
    'app.kubernetes.io/instance': 'other',
    'raft3d.io/role': 'leader',
    'raft3d.io/term': '1',
  });
  labeller.set('leader', 5);
  await labeller.idle();
  // Each member's pod is read by name: RBAC grants get on this release's pod names, never list.
  t.false(api.requests.some((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/shop/pods'));
  t.deepEqual(
    api.requests.filter((r) => r.method === 'GET').map((r) => r.path),
    ['/api/v1/namespaces/shop/pods/raft3d-0', '/api/v1/namespaces/shop/pods/raft3d-2'],
  );
  const demote = api.patches().find((p) => p.path.endsWith('/raft3d-0'))!;
  t.is(demote.contentType, 'application/merge-patch+json');
  t.like(demote.body, { metadata: { labels: { 'raft3d.io/role': 'follower' } } });
  t.truthy(
    (demote.body as { metadata: { resourceVersion?: string } }).metadata.resourceVersion,
    'the demotion is conditional on resourceVersion',
  );
  t.is(api.pods.get('raft3d-0')!.labels['raft3d.io/role'], 'follower');
  t.is(api.pods.get('raft3d-2')!.labels['raft3d.io/role'], 'leader', 'a newer term is left alone');
  t.is(
    api.pods.get('other-0')!.labels['raft3d.io/role'],
    'leader',
    'a pod that is not a member is left alone',
  );
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/role'], 'leader');
});

test('the stale-leader sweep retries when reading a pod fails', async (t) => {
  const { api, labeller, failures } = await setup(t);
  api.setLabels('raft3d-0', { 'raft3d.io/role': 'leader', 'raft3d.io/term': '3' });
  labeller.set('follower', 4);
  await labeller.idle();
  api.fail(2, 503, 'GET');
  labeller.set('leader', 5);
  await labeller.idle();
  t.is(failures(), 2);
  t.is(api.pods.get('raft3d-0')!.labels['raft3d.io/role'], 'follower');
});

test('on stop the pod drops the leader label', async (t) => {
  const { api, labeller } = await setup(t);
  labeller.set('leader', 6);
  await labeller.idle();
  await labeller.stop();
  t.deepEqual(api.patches().at(-1)!.body, {
    metadata: { labels: { 'raft3d.io/role': 'follower', 'raft3d.io/term': '6' } },
  });
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/role'], 'follower');
  labeller.set('leader', 7);
  await labeller.idle();
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/role'], 'follower', 'no label after stop');
});

test('the stale-leader sweep skips a pod it may not read (not one of the Role’s pod names) instead of retrying', async (t) => {
  const { api, labeller, failures } = await setup(t);
  api.setLabels('raft3d-0', { 'raft3d.io/role': 'leader', 'raft3d.io/term': '3' });
  api.forbid('raft3d-2');
  labeller.set('leader', 5);
  await labeller.idle();
  t.is(failures(), 0);
  t.is(
    api.pods.get('raft3d-0')!.labels['raft3d.io/role'],
    'follower',
    'the readable stale leader is still fixed',
  );
});
