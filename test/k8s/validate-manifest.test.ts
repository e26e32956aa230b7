import test from 'ava';
import { validateManifest } from './validate-manifest.js';

const statefulSet = () => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'raft3d', labels: { 'app.kubernetes.io/name': 'raft3d' } },
  spec: {
    serviceName: 'raft3d-peers',
    replicas: 3,
    podManagementPolicy: 'Parallel',
    selector: { matchLabels: { app: 'raft3d' } },
    template: {
      metadata: { labels: { app: 'raft3d' } },
      spec: {
        containers: [
          {
            name: 'raft3d',
            image: 'raft3d:1',
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            resources: { requests: { cpu: '100m', memory: 1 } },
          },
        ],
      },
    },
  },
});

test('a valid StatefulSet passes', (t) => {
  t.deepEqual(validateManifest(statefulSet()), []);
});

test('a typo in a field name is an unknown field', (t) => {
  const s = statefulSet() as any;
  s.spec.template.spec.containers[0].porst = s.spec.template.spec.containers[0].ports;
  delete s.spec.template.spec.containers[0].ports;
  t.deepEqual(validateManifest(s), [
    'StatefulSet/raft3d: spec.template.spec.containers[0].porst: unknown field in V1Container',
  ]);
});

test('wrong types, missing required fields and bad enum values are reported with their path', (t) => {
  const s = statefulSet() as any;
  s.spec.replicas = '3';
  delete s.spec.selector;
  s.spec.podManagementPolicy = 'parallel';
  s.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  const errors = validateManifest(s);
  t.true(errors.includes('StatefulSet/raft3d: spec.replicas: expected number, got "3"'), errors.join('\n'));
  t.true(
    errors.includes('StatefulSet/raft3d: spec.selector: required field missing in V1StatefulSetSpec'),
    errors.join('\n'),
  );
  t.true(
    errors.some((e) => e.includes('spec.podManagementPolicy: "parallel" is not one of')),
    errors.join('\n'),
  );
  t.true(
    errors.some((e) => e.includes('containerPort: expected number')),
    errors.join('\n'),
  );
});

test('a kind under the wrong apiVersion, a bad name and a bad label are rejected', (t) => {
  t.deepEqual(
    validateManifest({
      apiVersion: 'apps/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'x' },
      spec: {},
    }),
    ['PodDisruptionBudget/x: kind PodDisruptionBudget is not served under apiVersion apps/v1'],
  );
  const s = statefulSet() as any;
  s.metadata.name = 'Raft3D';
  s.metadata.labels['raft3d.io/role'] = 'a leader!';
  const errors = validateManifest(s);
  t.true(
    errors.some((e) => e.includes('metadata.name must be a DNS subdomain')),
    errors.join('\n'),
  );
  t.true(
    errors.some((e) => e.includes('invalid label value "a leader!"')),
    errors.join('\n'),
  );
});

test('services, RBAC and PDBs are checked too', (t) => {
  t.deepEqual(
    validateManifest({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 80, targetPort: 'http' }], selector: { a: 'b' } },
    }),
    [],
  );
  t.deepEqual(
    validateManifest({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 80, targetPort: 1.5 }] },
    }),
    ['Service/s: spec.ports[0].targetPort: expected integer or string, got 1.5'],
  );
  t.deepEqual(
    validateManifest({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'r' },
      subjects: [],
    }),
    ['RoleBinding/r: roleRef: required field missing in V1RoleBinding'],
  );
  t.deepEqual(
    validateManifest({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'p' },
      spec: { minAvailable: 2, maxUnavalable: 1 },
    }),
    ['PodDisruptionBudget/p: spec.maxUnavalable: unknown field in V1PodDisruptionBudgetSpec'],
  );
});
