import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { CHART, ROOT, find, helm, render } from './helm.js';
import type { K8sObject } from './helm.js';
import { validateManifest } from './validate-manifest.js';

const VALUE_SETS: Record<string, string[]> = {
  default: [],
  'five replicas': ['--set', 'replicas=5'],
  'networkPolicy and serviceMonitor': [
    '--set',
    'networkPolicy.enabled=true',
    '--set',
    'metrics.serviceMonitor.enabled=true',
    '--set',
    'metrics.serviceMonitor.labels.release=prom',
  ],
  existingSecret: [
    '--set',
    'clusterSecret.existingSecret=shop-peer-secret',
    '--set',
    'clusterSecret.key=token',
  ],
  'hard anti-affinity, maxUnavailable, no leader service': [
    '--set',
    'podAntiAffinity=hard',
    '--set',
    'podDisruptionBudget.maxUnavailable=1',
    '--set',
    'service.leader.enabled=false',
    '--set',
    'persistence.storageClassName=standard',
  ],
};

const container = (sts: K8sObject) => sts['spec'].template.spec.containers[0];
const env = (sts: K8sObject): Map<string, any> =>
  new Map(container(sts).env.map((e: { name: string }) => [e.name, e]));

test('helm lint passes for every value set', (t) => {
  for (const [name, args] of Object.entries(VALUE_SETS)) {
    const result = helm(['lint', CHART, ...args]);
    t.is(result.status, 0, `${name}: ${result.stdout}${result.stderr}`);
  }
});

test('every rendered manifest matches the Kubernetes API schema', (t) => {
  for (const [name, args] of Object.entries(VALUE_SETS)) {
    const objects = render(args);
    t.true(objects.length >= 9, name);
    for (const object of objects)
      t.deepEqual(validateManifest(object), [], `${name}: ${object.kind}/${object.metadata.name}`);
  }
});

test('the StatefulSet: parallel, 3 replicas by default, peer service, data volume claim', (t) => {
  const sts = find(render(), 'StatefulSet', 'shop-raft3d');
  t.is(sts['spec'].podManagementPolicy, 'Parallel');
  t.is(sts['spec'].replicas, 3);
  t.is(sts['spec'].serviceName, 'shop-raft3d-peers');
  t.deepEqual(sts['spec'].selector.matchLabels, {
    'app.kubernetes.io/name': 'raft3d',
    'app.kubernetes.io/instance': 'shop',
  });
  t.is(sts['spec'].volumeClaimTemplates[0].metadata.name, 'data');
  t.is(sts['spec'].volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi');
  t.deepEqual(
    container(sts).volumeMounts.find((m: { name: string }) => m.name === 'data'),
    { name: 'data', mountPath: '/data' },
  );
  t.is(find(render(['--set', 'replicas=5']), 'StatefulSet')['spec'].replicas, 5);
});

test('the container gets the §6 environment and a config that main.ts accepts', (t) => {
  const sts = find(render(), 'StatefulSet');
  const vars = env(sts);
  t.is(vars.get('RAFT3D_K8S').value, 'true');
  t.deepEqual(vars.get('POD_NAME').valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  t.deepEqual(vars.get('POD_NAMESPACE').valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
  t.deepEqual(vars.get('RAFT3D_CLUSTER_SECRET').valueFrom, {
    secretKeyRef: { name: 'shop-raft3d-cluster', key: 'cluster-secret' },
  });
  const contract = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
  for (const name of vars.keys())
    t.true(contract.includes(`\`${name}\``), `${name} is in docs/architecture.md §6`);

  // Resolve the downward API and the secret as the kubelet would, then load the config.
  const processEnv: Record<string, string> = {
    POD_NAME: 'shop-raft3d-2',
    POD_NAMESPACE: 'printing',
    RAFT3D_CLUSTER_SECRET: 's3cret',
  };
  for (const [name, e] of vars) if (typeof e.value === 'string') processEnv[name] = e.value;
  const config = loadConfig([], processEnv);
  t.is(config.id, 'shop-raft3d-2');
  t.deepEqual(config.api, { host: '0.0.0.0', port: 8080 });
  t.deepEqual(config.peer, { host: '0.0.0.0', port: 9090 });
  t.is(config.dataDir, '/data');
  t.is(config.clusterSecret, 's3cret');
  t.deepEqual([...config.initialCluster.keys()], ['shop-raft3d-0', 'shop-raft3d-1', 'shop-raft3d-2']);
  t.is(
    config.initialCluster.get('shop-raft3d-0'),
    'shop-raft3d-0.shop-raft3d-peers.printing.svc.cluster.local:9090',
  );
  t.is(
    config.apiAddresses.get('shop-raft3d-1'),
    'http://shop-raft3d-1.shop-raft3d-peers.printing.svc.cluster.local:8080',
  );
});

test('RAFT3D_REPLICAS is the first-boot membership: scaling does not change it, and later ordinals join', (t) => {
  const replicasEnv = (args: string[]) => env(find(render(args), 'StatefulSet')).get('RAFT3D_REPLICAS').value;
  t.is(replicasEnv([]), '3');
  t.is(replicasEnv(['--set', 'replicas=5']), '5', 'a fresh install boots with all its members');
  t.is(replicasEnv(['--set', 'replicas=5', '--set', 'bootstrapReplicas=3']), '3');
  const helpers = readFileSync(path.join(CHART, 'templates/_helpers.tpl'), 'utf8');
  t.regex(
    helpers,
    /lookup "apps\/v1" "StatefulSet"/,
    'an upgrade keeps the value of the running StatefulSet',
  );

  // A pod beyond the first-boot members (scaled 3 -> 5) starts and waits to be added.
  const vars = env(find(render(['--set', 'replicas=5', '--set', 'bootstrapReplicas=3']), 'StatefulSet'));
  const processEnv: Record<string, string> = {
    POD_NAME: 'shop-raft3d-4',
    POD_NAMESPACE: 'printing',
    RAFT3D_CLUSTER_SECRET: 's',
  };
  for (const [name, e] of vars) if (typeof e.value === 'string') processEnv[name] = e.value;
  const config = loadConfig([], processEnv);
  t.is(config.id, 'shop-raft3d-4');
  t.deepEqual([...config.initialCluster.keys()], ['shop-raft3d-0', 'shop-raft3d-1', 'shop-raft3d-2']);
});

test('probes, grace period and the preStop hand-over', (t) => {
  const c = container(find(render(), 'StatefulSet'));
  t.is(c.readinessProbe.httpGet.path, '/readyz');
  t.is(c.livenessProbe.httpGet.path, '/healthz');
  t.is(c.startupProbe.httpGet.path, '/healthz');
  t.true(find(render(), 'StatefulSet')['spec'].template.spec.terminationGracePeriodSeconds >= 15);
  const hook = c.lifecycle.preStop.exec.command as string[];
  t.is(hook[0], 'node');
  t.regex(hook.at(-1)!, /transfer-leadership/);
  t.regex(
    hook.at(-1)!,
    /role === 'leader'/,
    'only a leader hands over (a follower would forward the request to the leader)',
  );
});

test('pod and container run non-root with a read-only root filesystem', (t) => {
  const sts = find(render(), 'StatefulSet');
  const pod = sts['spec'].template.spec;
  t.like(pod.securityContext, {
    runAsNonRoot: true,
    runAsUser: 10001,
    fsGroup: 10001,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  t.like(container(sts).securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  });
  t.truthy(container(sts).resources.requests.cpu);
  t.truthy(container(sts).resources.limits.memory);
  const anti = pod.affinity.podAntiAffinity;
  t.truthy(anti.preferredDuringSchedulingIgnoredDuringExecution, 'soft anti-affinity by default');
  t.falsy(anti.requiredDuringSchedulingIgnoredDuringExecution);
  t.is(pod.serviceAccountName, 'shop-raft3d');
});

test('services: headless peers publish not-ready addresses; leader selects the leader label', (t) => {
  const objects = render();
  const peers = find(objects, 'Service', 'shop-raft3d-peers');
  t.is(peers['spec'].clusterIP, 'None');
  t.true(peers['spec'].publishNotReadyAddresses);
  t.truthy(peers['spec'].ports.find((p: { port: number }) => p.port === 9090));
  const client = find(objects, 'Service', 'shop-raft3d');
  t.deepEqual(client['spec'].selector, {
    'app.kubernetes.io/name': 'raft3d',
    'app.kubernetes.io/instance': 'shop',
  });
  t.is(client['spec'].ports[0].port, 8080);
  t.falsy(client['spec'].publishNotReadyAddresses);
  const leader = find(objects, 'Service', 'shop-raft3d-leader');
  t.deepEqual(leader['spec'].selector, {
    'app.kubernetes.io/name': 'raft3d',
    'app.kubernetes.io/instance': 'shop',
    'raft3d.io/role': 'leader',
  });
  t.throws(() => find(render(['--set', 'service.leader.enabled=false']), 'Service', 'shop-raft3d-leader'));
});

test('RBAC grants only pods get/list/watch/patch and get/watch on its own StatefulSet', (t) => {
  const objects = render();
  const role = find(objects, 'Role');
  t.deepEqual(role['rules'], [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch'] },
    {
      apiGroups: ['apps'],
      resources: ['statefulsets'],
      resourceNames: ['shop-raft3d'],
      verbs: ['get', 'watch'],
    },
  ]);
  const binding = find(objects, 'RoleBinding');
  t.deepEqual(binding['roleRef'], {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'Role',
    name: 'shop-raft3d',
  });
  t.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'shop-raft3d', namespace: 'printing' }]);
  t.is(find(objects, 'ServiceAccount').metadata.name, 'shop-raft3d');
});

test('the PodDisruptionBudget keeps a quorum', (t) => {
  t.is(find(render(), 'PodDisruptionBudget')['spec'].minAvailable, 2);
  t.is(find(render(['--set', 'replicas=5']), 'PodDisruptionBudget')['spec'].minAvailable, 3);
  t.is(find(render(['--set', 'replicas=1']), 'PodDisruptionBudget')['spec'].minAvailable, 1);
  const pdb = find(render(['--set', 'podDisruptionBudget.maxUnavailable=1']), 'PodDisruptionBudget');
  t.is(pdb['spec'].maxUnavailable, 1);
  t.false('minAvailable' in pdb['spec']);
});

test('the cluster secret is generated once and kept; an existing secret replaces it', (t) => {
  const secret = find(render(), 'Secret', 'shop-raft3d-cluster');
  t.is(secret.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  t.is(Buffer.from(secret['data']['cluster-secret'], 'base64').toString().length, 48);
  const template = readFileSync(path.join(CHART, 'templates/secret.yaml'), 'utf8');
  t.regex(template, /lookup "v1" "Secret" \.Release\.Namespace \$name/, 'an upgrade reuses the stored value');

  const objects = render(VALUE_SETS['existingSecret']!);
  t.false(objects.some((o) => o.kind === 'Secret'));
  t.deepEqual(env(find(objects, 'StatefulSet')).get('RAFT3D_CLUSTER_SECRET').valueFrom, {
    secretKeyRef: { name: 'shop-peer-secret', key: 'token' },
  });
});

test('networkPolicy opens the peer port only to the release and the API port to all; ServiceMonitor scrapes /metrics', (t) => {
  const objects = render(VALUE_SETS['networkPolicy and serviceMonitor']!);
  const np = find(objects, 'NetworkPolicy');
  const selector = { 'app.kubernetes.io/name': 'raft3d', 'app.kubernetes.io/instance': 'shop' };
  t.deepEqual(np['spec'].podSelector.matchLabels, selector);
  const [peers, api] = np['spec'].ingress;
  t.deepEqual(peers.from, [{ podSelector: { matchLabels: selector } }]);
  t.truthy(peers.ports.find((p: { port: number }) => p.port === 9090));
  t.deepEqual(api.ports, [{ port: 8080, protocol: 'TCP' }]);
  t.false('from' in api, 'API port open to every source by default');
  t.false(
    np['spec'].ingress.some(
      (rule: any) => !rule.from && rule.ports.some((p: { port: number }) => p.port === 9090),
    ),
    'peer port never open to all',
  );

  const sm = find(objects, 'ServiceMonitor');
  t.is(sm.apiVersion, 'monitoring.coreos.com/v1');
  t.is(sm.metadata.labels?.['release'], 'prom');
  t.deepEqual(sm['spec'].endpoints, [{ port: 'http', path: '/metrics', interval: '30s' }]);
  t.is(sm['spec'].selector.matchLabels['app.kubernetes.io/component'], 'client');
  t.is(find(objects, 'Service', 'shop-raft3d').metadata.labels?.['app.kubernetes.io/component'], 'client');
  t.false(
    render().some((o) => o.kind === 'NetworkPolicy' || o.kind === 'ServiceMonitor'),
    'both off by default',
  );
});

test('the helm test pod writes and reads through the client Service', (t) => {
  const pod = render().find((o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test');
  t.truthy(pod);
  const c = pod!['spec'].containers[0];
  t.is(c.env[0].value, 'http://shop-raft3d.printing.svc.cluster.local:8080');
  const script = c.command.at(-1) as string;
  t.regex(script, /'POST', '\/api\/v1\/printers'/);
  t.regex(script, /'GET', '\/api\/v1\/printers\/' \+ id/);
  t.is(pod!['spec'].restartPolicy, 'Never');
  // It must not look like a member to the Services, the PDB or the anti-affinity.
  const sts = find(render(), 'StatefulSet');
  const selector: Record<string, string> = sts['spec'].selector.matchLabels;
  t.false(Object.entries(selector).every(([k, v]) => pod!.metadata.labels?.[k] === v));
});

test('with networkPolicy.apiFrom set, the API port admits those peers and the helm test pod', (t) => {
  const np = find(
    render([
      '--set',
      'networkPolicy.enabled=true',
      '--set',
      'networkPolicy.apiFrom[0].namespaceSelector.matchLabels.team=shop',
    ]),
    'NetworkPolicy',
  );
  const api = np['spec'].ingress[1];
  t.deepEqual(api.from, [
    { namespaceSelector: { matchLabels: { team: 'shop' } } },
    {
      podSelector: {
        matchLabels: { 'app.kubernetes.io/instance': 'shop', 'app.kubernetes.io/component': 'test' },
      },
    },
  ]);
  t.deepEqual(validateManifest(np), []);
});

test('NOTES explain port-forward and failover, and warn about even replica counts', (t) => {
  const notes = (args: string[]) =>
    helm(['install', 'shop', CHART, '--dry-run=client', '--namespace', 'printing', ...args]).stdout;
  const text = notes([]);
  t.regex(text, /kubectl -n printing port-forward svc\/shop-raft3d 8080:8080/);
  t.regex(text, /delete pod "\$LEADER"/);
  t.notRegex(text, /WARNING/);
  t.regex(notes(['--set', 'replicas=4', '--set', 'allowEvenReplicas=true']), /WARNING: replicas=4 is even/);
});

test('bad values are rejected by values.schema.json at install time', (t) => {
  const bad: [string, RegExp][] = [
    ['replicas=three', /replicas/],
    ['replicas=-1', /replicas/],
    ['replicas=0', /replicas/],
    ['replicas=4', /replicas/],
    ['image.tag=2', /image\/tag/],
    ['raft.logLevel=loud', /logLevel/],
    ['ports.api=70000', /ports\/api/],
    ['persistence.size=lots', /persistence\/size/],
    ['resources.requests.cpu=fast', /resources\/requests\/cpu/],
    ['podLabels.raft3d\\.io/role=leader', /raft3d\.io\/role/],
    ['replcias=3', /replcias|additional/i],
  ];
  for (const [set, message] of bad) {
    const result = helm(['template', 'shop', CHART, '--set', set]);
    t.not(result.status, 0, `${set} must fail`);
    t.regex(result.stderr, message, set);
  }
  t.is(
    helm(['template', 'shop', CHART, '--set', 'replicas=4', '--set', 'allowEvenReplicas=true']).status,
    0,
    'even replicas only with the explicit opt-in',
  );
  t.is(helm(['template', 'shop', CHART, '--set-string', 'image.tag=2']).status, 0);
});
