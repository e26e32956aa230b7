import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, memberAddress } from '../../src/config.js';
import { CHART, ROOT, find, helm, helmAsync, render } from './helm.js';
import type { K8sObject } from './helm.js';
import { validateManifest } from './validate-manifest.js';
import { FakeApiServer } from './fake-api-server.js';

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
  'monitoring: ServiceMonitor, PrometheusRule, Grafana dashboard': [
    '--set',
    'metrics.serviceMonitor.enabled=true',
    '--set',
    'metrics.prometheusRule.enabled=true',
    '--set',
    'metrics.grafanaDashboard.enabled=true',
  ],
  'TLS from cert-manager': [
    '--set',
    'tls.enabled=true',
    '--set',
    'tls.secretName=shop-raft3d-tls',
    '--set',
    'tls.certManager.enabled=true',
    '--set',
    'tls.certManager.issuerRef.name=shop-ca',
    '--set',
    'tls.certManager.issuerRef.kind=ClusterIssuer',
    '--set',
    'metrics.serviceMonitor.enabled=true',
  ],
  'kind e2e, canary rollout, no NetworkPolicy, one replica': [
    '--set',
    'image.repository=raft3d',
    '--set-string',
    'image.tag=e2e-1',
    '--set',
    'replicas=1',
    '--set',
    'networkPolicy.enabled=false',
    '--set',
    'updateStrategy.rollingUpdate.partition=2',
    '--set',
    'minReadySeconds=10',
  ],
};

const container = (sts: K8sObject) => sts['spec'].template.spec.containers[0];
const env = (sts: K8sObject): Map<string, any> =>
  new Map(container(sts).env.map((e: { name: string }) => [e.name, e]));

test('helm lint --strict passes for every value set', (t) => {
  for (const [name, args] of Object.entries(VALUE_SETS)) {
    const result = helm(['lint', '--strict', CHART, ...args]);
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
    secretKeyRef: { name: 'shop-raft3d-cluster', key: 'cluster-secret', optional: true },
  });
  t.deepEqual(vars.get('RAFT3D_ADMIN_TOKEN').valueFrom, {
    secretKeyRef: { name: 'shop-raft3d-cluster', key: 'admin-token', optional: true },
  });
  t.is(vars.get('RAFT3D_SECRET_NAME').value, 'shop-raft3d-cluster');
  t.is(vars.get('RAFT3D_MEMBERS_CONFIGMAP').value, 'shop-raft3d-members');
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
  t.is(config.kubernetes?.secretName, 'shop-raft3d-cluster');
  t.is(config.kubernetes?.membersConfigMap, 'shop-raft3d-members');
  t.is(config.kubernetes?.replicas, null, 'the first configuration comes from the members ConfigMap');
  t.deepEqual(memberAddress(config, 'shop-raft3d-0'), {
    peer: 'shop-raft3d-0.shop-raft3d-peers.printing.svc.cluster.local:9090',
    api: 'http://shop-raft3d-0.shop-raft3d-peers.printing.svc.cluster.local:8080',
  });
  t.deepEqual(
    memberAddress(config, 'shop-raft3d-1~k3f9a2'),
    memberAddress(config, 'shop-raft3d-1'),
    'a new incarnation lives in the same pod',
  );
});

test('scaling changes only spec.replicas: the pod template is the same, so no member restarts', (t) => {
  const template = (args: string[]) => find(render(args), 'StatefulSet')['spec'].template;
  t.deepEqual(template(['--set', 'replicas=5']), template([]));
  t.deepEqual(template(['--set', 'replicas=1']), template([]));
  t.false(env(find(render(), 'StatefulSet')).has('RAFT3D_REPLICAS'));
  // Pinning the first configuration is still possible, explicitly.
  t.is(env(find(render(['--set', 'bootstrapReplicas=3']), 'StatefulSet')).get('RAFT3D_REPLICAS').value, '3');
  const helpers = readFileSync(path.join(CHART, 'templates/_helpers.tpl'), 'utf8');
  t.is(
    helpers.match(/lookup /g)?.length,
    1,
    'what is rendered never depends on the cluster: the one lookup is the scale-down guard, which only refuses',
  );
});

test('helm upgrade refuses a shrink by more than the tolerated failures, with the next safe step', async (t) => {
  // helm template --dry-run=server looks the StatefulSet up on the stand-in API server, as helm upgrade does.
  const api = await new FakeApiServer('printing').start();
  t.teardown(() => api.close());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'raft3d-guard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = api.writeKubeconfig(path.join(dir, 'kubeconfig'));
  const upgrade = (...set: string[]) =>
    helmAsync(
      [
        'template',
        'shop',
        CHART,
        '-n',
        'printing',
        '--dry-run=server',
        '--disable-openapi-validation',
        ...set.flatMap((s) => ['--set', s]),
      ],
      { KUBECONFIG: kubeconfig },
    );
  api.setReplicas('shop-raft3d', 5, 'shop');
  const refused = await upgrade('replicas=1');
  t.not(refused.status, 0);
  t.regex(
    refused.stderr,
    /refusing to scale shop-raft3d from 5 to 1 members at once: 5 members tolerate 2 failure\(s\), so shrink by at most 2 at a time \(next step: replicas=3/,
  );
  t.true(api.requests.some((r) => r.path === '/apis/apps/v1/namespaces/printing/statefulsets/shop-raft3d'));
  t.is((await upgrade('replicas=3')).status, 0, 'by the tolerated failures: allowed');
  t.is((await upgrade('replicas=7')).status, 0, 'growing: allowed');
  t.is((await upgrade('replicas=1', 'unsafeShrink=true')).status, 0, 'explicitly accepted');
  api.setReplicas('shop-raft3d', 3);
  t.regex((await upgrade('replicas=1')).stderr, /from 3 to 1 members at once: 3 members tolerate 1 failure/);
  t.is(
    helm(['template', 'shop', CHART, '-n', 'printing', '--set', 'replicas=1']).status,
    0,
    'offline: no check',
  );
});

test('probes, grace period and the preStop hook that waits for a scaled-away member to leave', (t) => {
  const c = container(find(render(), 'StatefulSet'));
  t.is(c.readinessProbe.httpGet.path, '/readyz');
  t.is(c.livenessProbe.httpGet.path, '/healthz');
  t.is(c.startupProbe.httpGet.path, '/healthz');
  t.true(find(render(), 'StatefulSet')['spec'].template.spec.terminationGracePeriodSeconds >= 15);
  t.deepEqual(c.lifecycle.preStop.exec.command, ['node', '/app/dist/tools/pre-stop.js']);
  t.true(existsSync(path.join(ROOT, 'src/tools/pre-stop.ts')), 'the hook script is built into dist/');
  t.is(env(find(render(), 'StatefulSet')).get('RAFT3D_PRESTOP_SECONDS').value, '20', 'grace period - 10 s');
  t.false('lifecycle' in container(find(render(['--set', 'preStopTransfer=false']), 'StatefulSet')));
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

test('RBAC names only this release: its pods (get, patch), StatefulSet, members ConfigMap and Secret', (t) => {
  const objects = render();
  const role = find(objects, 'Role');
  t.deepEqual(role['rules'], [
    {
      apiGroups: [''],
      resources: ['pods'],
      resourceNames: ['shop-raft3d-0', 'shop-raft3d-1', 'shop-raft3d-2'],
      verbs: ['get', 'patch'],
    },
    {
      apiGroups: ['apps'],
      resources: ['statefulsets'],
      resourceNames: ['shop-raft3d'],
      verbs: ['get', 'watch'],
    },
    {
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['shop-raft3d-members'],
      verbs: ['get', 'patch'],
    },
    {
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['shop-raft3d-cluster'],
      verbs: ['get', 'patch'],
    },
  ]);
  for (const [name, args] of Object.entries(VALUE_SETS)) {
    const rules = find(render(args), 'Role')['rules'] as { resourceNames?: string[]; verbs: string[] }[];
    for (const rule of rules) {
      t.true((rule.resourceNames ?? []).length > 0, `${name}: every rule names its objects`);
      t.false(
        rule.verbs.some((v) => ['list', 'create', 'delete', 'update', '*'].includes(v)),
        name,
      );
    }
  }
  t.deepEqual(find(render(['--set', 'replicas=5']), 'Role')['rules'][0].resourceNames.length, 5);
  t.false(
    find(render(VALUE_SETS['existingSecret']!), 'Role')['rules'].some((r: { resources: string[] }) =>
      r.resources.includes('secrets'),
    ),
    'a Secret the operator manages is only read by the kubelet, never by the members',
  );
  const binding = find(objects, 'RoleBinding');
  t.deepEqual(binding['roleRef'], {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'Role',
    name: 'shop-raft3d',
  });
  t.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'shop-raft3d', namespace: 'printing' }]);
  t.is(find(objects, 'ServiceAccount').metadata.name, 'shop-raft3d');
});

test('the PodDisruptionBudget allows max(1, replicas - quorum) down and never blocks on an unhealthy member', (t) => {
  const pdb = (args: string[]) => find(render(args), 'PodDisruptionBudget')['spec'];
  t.like(pdb([]), { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  t.is(pdb(['--set', 'replicas=5']).maxUnavailable, 2);
  t.is(pdb(['--set', 'replicas=7']).maxUnavailable, 3);
  t.is(pdb(['--set', 'replicas=1']).maxUnavailable, 1, 'a single member can still be drained');
  t.false('minAvailable' in pdb([]));
  t.is(pdb(['--set', 'podDisruptionBudget.maxUnavailable=2', '--set', 'replicas=5']).maxUnavailable, 2);
});

test('the rolling update is tunable: partition (canary), OnDelete, minReadySeconds', (t) => {
  const spec = (args: string[]) => find(render(args), 'StatefulSet')['spec'];
  t.deepEqual(spec([]).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  t.is(spec([]).minReadySeconds, 0);
  t.deepEqual(spec(['--set', 'updateStrategy.rollingUpdate.partition=2']).updateStrategy.rollingUpdate, {
    partition: 2,
  });
  t.is(
    spec(['--set', 'updateStrategy.type=OnDelete', '--set', 'updateStrategy.rollingUpdate=null'])
      .updateStrategy.type,
    'OnDelete',
  );
  t.is(spec(['--set', 'minReadySeconds=10']).minReadySeconds, 10);
});

test('TLS: the Secret is mounted, the node finds it, probes and the helm test speak HTTPS, cert-manager names every member', (t) => {
  const objects = render(VALUE_SETS['TLS from cert-manager']!);
  const sts = find(objects, 'StatefulSet');
  const vars = env(sts);
  t.is(vars.get('RAFT3D_TLS_CERT').value, '/etc/raft3d/tls/tls.crt');
  t.is(vars.get('RAFT3D_TLS_CA').value, '/etc/raft3d/tls/ca.crt');
  t.is(vars.get('RAFT3D_TLS_API').value, 'true');
  t.is(vars.get('RAFT3D_TLS_PEER').value, 'true');
  t.deepEqual(
    sts['spec'].template.spec.volumes.find((v: { name: string }) => v.name === 'tls'),
    { name: 'tls', secret: { secretName: 'shop-raft3d-tls' } },
  );
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'])
    t.is(container(sts)[probe].httpGet.scheme, 'HTTPS', probe);
  const processEnv: Record<string, string> = { POD_NAME: 'shop-raft3d-0', POD_NAMESPACE: 'printing' };
  for (const [name, e] of vars) if (typeof e.value === 'string') processEnv[name] = e.value;
  const config = loadConfig([], processEnv);
  t.deepEqual(config.tls, {
    cert: '/etc/raft3d/tls/tls.crt',
    key: '/etc/raft3d/tls/tls.key',
    ca: '/etc/raft3d/tls/ca.crt',
    api: true,
    peer: true,
  });
  t.regex(memberAddress(config, 'shop-raft3d-1').api ?? '', /^https:\/\/shop-raft3d-1\.shop-raft3d-peers\./);
  const cert = find(objects, 'Certificate');
  t.is(cert['spec'].secretName, 'shop-raft3d-tls');
  t.deepEqual(cert['spec'].issuerRef, { name: 'shop-ca', kind: 'ClusterIssuer' });
  for (const name of [
    'shop-raft3d.printing.svc',
    'shop-raft3d-leader.printing.svc',
    '*.shop-raft3d-peers.printing.svc.cluster.local',
  ])
    t.true(cert['spec'].dnsNames.includes(name), name);
  const pod = objects.find((o) => o.kind === 'Pod')!;
  t.regex(pod['spec'].containers[0].env[0].value, /^https:\/\//);
  t.is(pod['spec'].containers[0].env[1].name, 'NODE_EXTRA_CA_CERTS');
  const sm = find(objects, 'ServiceMonitor');
  t.is(sm['spec'].endpoints[0].scheme, 'https');
  const refused = helm(['template', 'shop', CHART, '--set', 'tls.enabled=true']);
  t.not(refused.status, 0);
  t.regex(refused.stderr, /tls.enabled needs tls.secretName/);
});

test('monitoring: a PrometheusRule with runbook links and a Grafana dashboard ConfigMap, both off by default', (t) => {
  const objects = render(VALUE_SETS['monitoring: ServiceMonitor, PrometheusRule, Grafana dashboard']!);
  const rule = find(objects, 'PrometheusRule');
  const alerts = rule['spec'].groups[0].rules as {
    alert: string;
    expr: string;
    annotations: Record<string, string>;
  }[];
  t.deepEqual(
    alerts.map((a) => a.alert),
    [
      'Raft3DNoLeader',
      'Raft3DMemberDown',
      'Raft3DFrequentLeaderChanges',
      'Raft3DApplyLag',
      'Raft3DSlowFsync',
      'Raft3DSnapshotsStalled',
      'Raft3DLabelSyncFailing',
    ],
  );
  const runbook = readFileSync(path.join(ROOT, 'docs/runbook.md'), 'utf8');
  for (const a of alerts) {
    t.regex(a.expr, /job="shop-raft3d-peers"/, a.alert);
    const anchor = a.annotations['runbook_url']!.split('#')[1]!;
    t.regex(runbook, new RegExp(`^## ${a.alert}$`, 'm'), `docs/runbook.md has a section for ${a.alert}`);
    t.is(anchor, a.alert.toLowerCase());
  }
  const dashboard = find(objects, 'ConfigMap', 'shop-raft3d-dashboard');
  t.is(dashboard.metadata.labels?.['grafana_dashboard'], '1');
  const json = JSON.parse(dashboard['data']['raft3d.json']) as { panels: { targets?: { expr: string }[] }[] };
  t.true(json.panels.length >= 10);
  const exprs = json.panels
    .flatMap((p) => p.targets ?? [])
    .map((x) => x.expr)
    .join('\n');
  for (const metric of [
    'raft3d_is_leader',
    'raft3d_commit_index',
    'raft3d_fsync_latency_seconds_bucket',
    'raft3d_snapshot_index',
  ])
    t.true(exprs.includes(metric), metric);
  t.false(
    render().some((o) => o.kind === 'PrometheusRule' || o.metadata.name === 'shop-raft3d-dashboard'),
    'off by default',
  );
});

test('the cluster Secret and members ConfigMap render without data: every render is the same', (t) => {
  const first = render();
  const secret = find(first, 'Secret', 'shop-raft3d-cluster');
  t.is(secret.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  t.false('data' in secret || 'stringData' in secret, 'the first member fills it in');
  const members = find(first, 'ConfigMap', 'shop-raft3d-members');
  t.is(members.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  t.false('data' in members);
  t.is(
    helm(['template', 'shop', CHART, '-n', 'printing']).stdout,
    helm(['template', 'shop', CHART, '-n', 'printing']).stdout,
  );
  for (const file of ['secret.yaml', 'members-configmap.yaml', 'statefulset.yaml'])
    t.notRegex(readFileSync(path.join(CHART, 'templates', file), 'utf8'), /lookup|randAlphaNum/, file);

  const objects = render(VALUE_SETS['existingSecret']!);
  t.false(objects.some((o) => o.kind === 'Secret'));
  const vars = env(find(objects, 'StatefulSet'));
  t.deepEqual(vars.get('RAFT3D_CLUSTER_SECRET').valueFrom, {
    secretKeyRef: { name: 'shop-peer-secret', key: 'token' },
  });
  t.deepEqual(vars.get('RAFT3D_ADMIN_TOKEN').valueFrom, {
    secretKeyRef: { name: 'shop-peer-secret', key: 'admin-token', optional: true },
  });
  t.false(vars.has('RAFT3D_SECRET_NAME'));
});

test('the NetworkPolicy (on by default) opens the peer port only to the release; the ServiceMonitor sees not-ready members', (t) => {
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
  t.like(sm['spec'].endpoints[0], { port: 'http', path: '/metrics', interval: '30s' });
  // The headless peer Service publishes not-ready addresses: a member catching up is scraped too.
  t.is(sm['spec'].selector.matchLabels['app.kubernetes.io/component'], 'peers');
  const peerService = find(objects, 'Service', 'shop-raft3d-peers');
  t.is(peerService.metadata.labels?.['app.kubernetes.io/component'], 'peers');
  t.true(peerService['spec'].publishNotReadyAddresses);
  t.truthy(peerService['spec'].ports.find((p: { name: string }) => p.name === 'http'));
  t.truthy(
    render().find((o) => o.kind === 'NetworkPolicy'),
    'NetworkPolicy on by default',
  );
  t.false(
    render().some((o) => o.kind === 'ServiceMonitor'),
    'ServiceMonitor off by default',
  );
  t.false(
    render(['--set', 'networkPolicy.enabled=false']).some((o) => o.kind === 'NetworkPolicy'),
    'can be turned off',
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

test('NOTES forward to a follower pod (not a Service), read labels with a jsonpath that cannot fail, warn about even counts', (t) => {
  const notes = (args: string[]) =>
    helm(['install', 'shop', CHART, '--dry-run=client', '--namespace', 'printing', ...args]).stdout;
  const text = notes([]);
  // The whole flow is walked against the emulation in test/k8s/notes-walk.test.ts.
  t.regex(text, /raft3d\.io\/role=follower -o jsonpath='\{\.items\[\*\]\.metadata\.name\}'/);
  t.regex(text, /kubectl -n printing port-forward "pod\/\$POD" 8080:8080 &/);
  t.notRegex(
    text,
    /port-forward svc\/[^ ]+ 8080/,
    'the failover demo never forwards a Service it then breaks',
  );
  t.notRegex(text, /items\[0\]/, 'no jsonpath that errors out when no pod is labelled');
  t.regex(text, /delete pod "\$LEADER"/);
  t.regex(
    text,
    /RAFT3D_TOKEN=\$\(kubectl -n printing get secret shop-raft3d-cluster -o jsonpath='\{\.data\.admin-token\}'/,
  );
  t.notRegex(text, /WARNING/);
  t.notRegex(notes(['--set', 'replicas=1']), /Failover demo/, 'one member cannot fail over');
  t.regex(
    notes(['--set', 'tls.enabled=true', '--set', 'tls.secretName=s']),
    /curl -s --cacert ca\.crt .*https:\/\/localhost:8080/,
  );
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
