// The cluster secrets against the stand-in API server: the chart renders the Secret without
// data (so every render is the same), the first member to start fills it in.

import test from 'ava';
import { CoreV1Api } from '@kubernetes/client-node';
import { ensureClusterSecrets } from '../../src/k8s/index.js';
import { FakeApiServer } from './fake-api-server.js';

test('the first member fills the empty Secret; everyone gets the same values and nothing is replaced', async (t) => {
  const api = await new FakeApiServer('shop').start();
  t.teardown(() => api.close());
  api.addSecret('raft3d-cluster');
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const ensure = () =>
    ensureClusterSecrets({
      core,
      namespace: 'shop',
      name: 'raft3d-cluster',
      backoff: { initialMs: 5, maxMs: 20 },
    });
  const all = await Promise.all([ensure(), ensure(), ensure()]);
  t.is(all[0]!.clusterSecret.length, 48);
  t.is(all[0]!.adminToken.length, 48);
  t.not(all[0]!.clusterSecret, all[0]!.adminToken);
  for (const s of all) t.deepEqual(s, all[0]);
  t.is(api.secretValue('raft3d-cluster', 'cluster-secret'), all[0]!.clusterSecret);
  t.deepEqual(await ensure(), all[0], 'a later start reads the stored values');

  // A Secret that already holds a cluster secret (e.g. an upgrade) keeps it; only the admin token is added.
  api.addSecret('raft3d-cluster', { 'cluster-secret': 'kept-from-before' });
  const upgraded = await ensure();
  t.is(upgraded.clusterSecret, 'kept-from-before');
  t.is(upgraded.adminToken.length, 48);
  api.secrets.delete('raft3d-cluster');
  await t.throwsAsync(ensure(), { message: /Secret raft3d-cluster is missing/ });
});
