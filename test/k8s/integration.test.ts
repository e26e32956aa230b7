import test from 'ava';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { startKubernetesIntegration } from '../../src/k8s/index.js';
import type { KubeNode, KubeNodeStatus, MembershipChange, RoleEvent } from '../../src/k8s/index.js';
import { FakeApiServer, eventually } from './fake-api-server.js';

const APP = { 'app.kubernetes.io/name': 'raft3d', 'app.kubernetes.io/instance': 'raft3d' };

class Node implements KubeNode {
  role = 'follower';
  term = 4;
  changes: MembershipChange[] = [];
  private listeners = new Set<(c: RoleEvent) => void>();
  status(): KubeNodeStatus {
    return {
      id: 'raft3d-1',
      role: this.role,
      term: this.term,
      leader: null,
      config: { voters: ['raft3d-0', 'raft3d-1', 'raft3d-2'], learners: [] },
      peers: this.role === 'leader' ? ['raft3d-0', 'raft3d-2'].map((id) => ({ id, match: 9, lag: 0 })) : [],
    };
  }
  async changeMembership(change: MembershipChange): Promise<void> {
    this.changes.push(change);
  }
  async transferLeadership(): Promise<void> {}
  on(_event: 'role', listener: (c: RoleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  become(role: string, term: number): void {
    this.role = role;
    this.term = term;
    for (const l of this.listeners) l({ role, term, leader: role === 'leader' ? 'raft3d-1' : null });
  }
}

test('the integration labels the pod follower at start, leader on election, follower on stop; the leader reconciles', async (t) => {
  t.timeout(15_000);
  const api = await new FakeApiServer('shop').start();
  t.teardown(() => api.close());
  for (const i of [0, 1, 2])
    api.addPod(`raft3d-${i}`, {
      ...APP,
      'raft3d.io/role': i === 1 ? 'leader' : 'follower',
      'raft3d.io/term': '2',
    });
  api.setReplicas('raft3d', 2);
  const config = loadConfig(['--peer=0.0.0.0:9090', '--api=0.0.0.0:8080'], {
    RAFT3D_K8S: 'true',
    POD_NAME: 'raft3d-1',
    POD_NAMESPACE: 'shop',
  });
  const node = new Node();
  let failures = 0;
  const k8s = startKubernetesIntegration(node, config, pino({ level: 'silent' }), () => (failures += 1), {
    kubeConfig: api.kubeConfig(),
    pollMs: 50,
    backoff: { initialMs: 5, maxMs: 20 },
  });

  await eventually(
    () => api.pods.get('raft3d-1')!.labels['raft3d.io/role'] === 'follower',
    5_000,
    'follower label at start',
  );
  t.deepEqual(api.patches()[0]!.body, {
    metadata: { labels: { 'raft3d.io/role': 'follower', 'raft3d.io/term': '4' } },
  });
  t.deepEqual(node.changes, [], 'a follower does not reconcile');

  node.become('leader', 5);
  await eventually(
    () => api.pods.get('raft3d-1')!.labels['raft3d.io/role'] === 'leader',
    5_000,
    'leader label',
  );
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/term'], '5');
  await eventually(() => node.changes.length > 0, 5_000, 'the leader removes raft3d-2');
  t.deepEqual(node.changes[0], { kind: 'remove', node: 'raft3d-2' });
  t.is(
    k8s.admitJoin('raft3d-2~k3f9a2'),
    'raft3d-2~k3f9a2 is being scaled away (StatefulSet raft3d has 2 replicas)',
  );
  t.is(k8s.admitJoin('raft3d-1'), null);

  await k8s.stop();
  t.is(api.pods.get('raft3d-1')!.labels['raft3d.io/role'], 'follower', 'the label is dropped on stop');
  const seen = api.requests.length;
  node.become('leader', 6);
  await new Promise((r) => setTimeout(r, 150));
  t.is(api.requests.length, seen, 'nothing is sent after stop');
  t.is(failures, 0);
});
