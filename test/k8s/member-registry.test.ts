// The members ConfigMap against the stand-in API server: a first install bootstraps every
// pod under its own name, a pod whose volume was wiped comes back as a new incarnation, and a
// volume of a replaced incarnation is refused.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import {
  ConfigMapRegistry,
  MEMBERS_KEY,
  MemberRegistryError,
  StaleIncarnationError,
} from '../../src/k8s/index.js';
import type { MemberRecord } from '../../src/k8s/index.js';
import { baseOf, isIncarnation } from '../../src/membership/index.js';
import { FakeApiServer } from './fake-api-server.js';

const CM = 'raft3d-members';

async function setup(t: ExecutionContext, replicas = 3) {
  const api = await new FakeApiServer('shop').start();
  t.teardown(() => api.close());
  api.setReplicas('raft3d', replicas);
  api.addConfigMap(CM);
  const kc = api.kubeConfig();
  const registry = (): ConfigMapRegistry =>
    new ConfigMapRegistry({
      core: kc.makeApiClient(CoreV1Api),
      apps: kc.makeApiClient(AppsV1Api),
      namespace: 'shop',
      configMap: CM,
      statefulSet: 'raft3d',
      replicas: null,
      backoff: { initialMs: 5, maxMs: 20 },
    });
  const record = (): MemberRecord => JSON.parse(api.configMaps.get(CM)!.data![MEMBERS_KEY]!) as MemberRecord;
  return { api, kc, registry, record };
}

test('a first install: every pod claims its own name, the first configuration comes from spec.replicas', async (t) => {
  const { api, registry, record } = await setup(t, 3);
  // Three pods start at once (Parallel pod management): conditional patches, 409s retried.
  const claims = await Promise.all(['raft3d-0', 'raft3d-1', 'raft3d-2'].map((pod) => registry().claim(pod)));
  t.deepEqual(
    claims.map((c) => c.id),
    ['raft3d-0', 'raft3d-1', 'raft3d-2'],
  );
  for (const c of claims) t.deepEqual(c.initialVoters, ['raft3d-0', 'raft3d-1', 'raft3d-2']);
  t.deepEqual(record(), {
    version: 1,
    initialVoters: ['raft3d-0', 'raft3d-1', 'raft3d-2'],
    members: { 'raft3d-0': 'raft3d-0', 'raft3d-1': 'raft3d-1', 'raft3d-2': 'raft3d-2' },
  });
  const patches = api.patches().filter((p) => p.path.endsWith(`/configmaps/${CM}`));
  t.true(
    patches.every((p) => (p.body as { metadata: { resourceVersion?: string } }).metadata.resourceVersion),
    'every write is conditional on the resourceVersion it read',
  );
  // Scaling later does not change the recorded first configuration.
  api.setReplicas('raft3d', 5);
  const scaled = await registry().claim('raft3d-3');
  t.is(scaled.id, 'raft3d-3', 'a pod added by scaling starts under its own name ...');
  t.deepEqual(scaled.initialVoters, ['raft3d-0', 'raft3d-1', 'raft3d-2'], '... on the first configuration');
});

test('a pod that ran before and comes back with an empty volume gets a new incarnation, recorded first', async (t) => {
  const { registry, record } = await setup(t);
  for (const pod of ['raft3d-0', 'raft3d-1', 'raft3d-2']) await registry().claim(pod);
  const again = await registry().claim('raft3d-1');
  t.true(isIncarnation(again.id), again.id);
  t.is(baseOf(again.id), 'raft3d-1');
  t.is(record().members['raft3d-1'], again.id);
  const third = await registry().claim('raft3d-1');
  t.not(third.id, again.id, 'each wipe is a new incarnation');
  t.is(record().members['raft3d-1'], third.id);
});

test('a member with data confirms itself; one the cluster replaced since is refused', async (t) => {
  const { api, registry, record } = await setup(t);
  for (const pod of ['raft3d-0', 'raft3d-1', 'raft3d-2']) await registry().claim(pod);
  const writes = api.patches().length;
  await registry().confirm('raft3d-0', 'raft3d-0', ['raft3d-0', 'raft3d-1', 'raft3d-2']);
  t.is(api.patches().length, writes, 'nothing to write when it matches');
  const replaced = await registry().claim('raft3d-2');
  await t.throwsAsync(registry().confirm('raft3d-2', 'raft3d-2', []), {
    instanceOf: StaleIncarnationError,
    message: new RegExp(`replaced raft3d-2 with ${replaced.id.replace('~', '\\~')}`),
  });
  // A member that predates the ConfigMap (an upgrade) records itself and its first configuration.
  api.addConfigMap(CM);
  await registry().confirm('raft3d-1', 'raft3d-1', ['raft3d-0', 'raft3d-1', 'raft3d-2']);
  t.deepEqual(record(), {
    version: 1,
    initialVoters: ['raft3d-0', 'raft3d-1', 'raft3d-2'],
    members: { 'raft3d-1': 'raft3d-1' },
  });
});

test('without the ConfigMap an empty pod refuses to start; API errors are retried', async (t) => {
  const { api, registry } = await setup(t);
  api.configMaps.delete(CM);
  await t.throwsAsync(registry().claim('raft3d-0'), {
    instanceOf: MemberRegistryError,
    message:
      /ConfigMap raft3d-members is missing .* cannot tell a first install from a member that lost its data/,
  });
  api.addConfigMap(CM);
  api.fail(3, 503);
  t.is((await registry().claim('raft3d-0')).id, 'raft3d-0');
  // An unreadable API server does not stop a member that has data from starting.
  api.fail(10, 503);
  await t.notThrowsAsync(registry().confirm('raft3d-1', 'raft3d-1', ['raft3d-0']));
});
