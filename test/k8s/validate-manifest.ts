// Offline schema check of rendered Kubernetes manifests, without a cluster: every object is
// walked against the model classes @kubernetes/client-node generates from the Kubernetes
// OpenAPI spec. `attributeTypeMap` gives each field's name and type; the `.d.ts` beside each
// model tells required fields (`'name':`) from optional ones (`'name'?:`). Unknown fields,
// wrong types, missing required fields, a kind under the wrong apiVersion, bad names/labels
// and a few enum-valued fields are reported with the path of the offending value.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';

interface Attribute {
  readonly name: string;
  readonly baseName: string;
  readonly type: string;
}

type Model = { getAttributeTypeMap(): Attribute[] };

/** Kinds this project renders, by apiVersion (a kind under another apiVersion is an error). */
const KINDS: Record<string, readonly string[]> = {
  v1: ['Pod', 'Service', 'Secret', 'ServiceAccount', 'ConfigMap', 'PersistentVolumeClaim'],
  'apps/v1': ['StatefulSet', 'Deployment'],
  'policy/v1': ['PodDisruptionBudget'],
  'rbac.authorization.k8s.io/v1': ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
  'networking.k8s.io/v1': ['NetworkPolicy', 'Ingress'],
};

/** Custom resources: not in the core models; checked for shape by the tests instead. */
export const CUSTOM_KINDS = new Set([
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
  'cert-manager.io/v1/Certificate',
]);

/** Enum-valued string fields, keyed by `Model.field`. */
const ENUMS: Record<string, readonly string[]> = {
  'V1StatefulSetSpec.podManagementPolicy': ['OrderedReady', 'Parallel'],
  'V1StatefulSetUpdateStrategy.type': ['RollingUpdate', 'OnDelete'],
  'V1StatefulSetPersistentVolumeClaimRetentionPolicy.whenDeleted': ['Retain', 'Delete'],
  'V1StatefulSetPersistentVolumeClaimRetentionPolicy.whenScaled': ['Retain', 'Delete'],
  'V1ContainerPort.protocol': ['TCP', 'UDP', 'SCTP'],
  'V1ServicePort.protocol': ['TCP', 'UDP', 'SCTP'],
  'V1NetworkPolicyPort.protocol': ['TCP', 'UDP', 'SCTP'],
  'V1Container.imagePullPolicy': ['Always', 'IfNotPresent', 'Never'],
  'V1PodSpec.restartPolicy': ['Always', 'OnFailure', 'Never'],
  'V1ServiceSpec.type': ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'],
  'V1SeccompProfile.type': ['RuntimeDefault', 'Localhost', 'Unconfined'],
  'V1PodSecurityContext.fsGroupChangePolicy': ['OnRootMismatch', 'Always'],
  'V1PodDisruptionBudgetSpec.unhealthyPodEvictionPolicy': ['IfHealthyBudget', 'AlwaysAllow'],
  'V1HTTPGetAction.scheme': ['HTTP', 'HTTPS'],
  'V1NetworkPolicySpec.policyTypes[]': ['Ingress', 'Egress'],
  'V1PersistentVolumeClaimSpec.accessModes[]': [
    'ReadWriteOnce',
    'ReadOnlyMany',
    'ReadWriteMany',
    'ReadWriteOncePod',
  ],
};

/** String maps whose values are resource quantities (YAML may give a number). */
const QUANTITY_MAPS = new Set(['limits', 'requests', 'capacity', 'hard']);

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const models = k8s as unknown as Record<string, Model | undefined>;
const modelDir = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')),
  'gen',
  'models',
);
const requiredCache = new Map<string, Set<string>>();

function requiredFields(model: string): Set<string> {
  let set = requiredCache.get(model);
  if (!set) {
    set = new Set();
    const dts = readFileSync(path.join(modelDir, `${model}.d.ts`), 'utf8');
    for (const match of dts.matchAll(/^\s+'([^']+)'(\?)?:/gm)) if (!match[2]) set.add(match[1]!);
    requiredCache.set(model, set);
  }
  return set;
}

function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1)!;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Validates one object; returns the problems found (empty when valid). */
export function validateManifest(doc: unknown): string[] {
  const errors: string[] = [];
  if (!isObject(doc)) return ['manifest is not an object'];
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string')
    return ['apiVersion and kind are required strings'];
  const name = isObject(doc['metadata']) ? doc['metadata']['name'] : undefined;
  const where = `${kind}/${typeof name === 'string' ? name : '?'}`;
  if (CUSTOM_KINDS.has(`${apiVersion}/${kind}`)) return [];
  if (!KINDS[apiVersion]?.includes(kind))
    return [`${where}: kind ${kind} is not served under apiVersion ${apiVersion}`];
  const model = modelName(apiVersion, kind);
  if (!models[model]) return [`${where}: no model ${model}`];
  if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name) || name.length > 253)
    errors.push(`${where}: metadata.name must be a DNS subdomain`);
  walk(doc, model, '', errors);
  return errors.map((e) => `${where}: ${e}`);
}

function walk(value: unknown, type: string, at: string, errors: string[], parentField = ''): void {
  const here = at === '' ? '(root)' : at;
  if (value === null || value === undefined) return; // null means "unset" for the API server
  if (type === 'any' || type === '{ [key: string]: any; }' || type === 'Array<any>') return;
  if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') errors.push(`${here}: expected string, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value))
      errors.push(`${here}: expected number, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === 'boolean') {
    if (typeof value !== 'boolean') errors.push(`${here}: expected boolean, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === 'IntOrString') {
    if (typeof value !== 'string' && !Number.isInteger(value))
      errors.push(`${here}: expected integer or string, got ${JSON.stringify(value)}`);
    return;
  }
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return void errors.push(`${here}: expected a list`);
    value.forEach((item, i) => walk(item, array[1]!, `${at}[${i}]`, errors, parentField));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!isObject(value)) return void errors.push(`${here}: expected a map`);
    for (const [key, item] of Object.entries(value)) {
      if (map[1] === 'string' && QUANTITY_MAPS.has(parentField) && typeof item === 'number') continue;
      walk(item, map[1]!, `${at}.${key}`, errors);
    }
    if (parentField === 'labels' || parentField === 'matchLabels' || parentField === 'selector')
      checkLabels(value, here, errors);
    return;
  }
  const model = models[type];
  if (!model) return void errors.push(`${here}: validator does not know type ${type}`);
  if (!isObject(value)) return void errors.push(`${here}: expected an object of type ${type}`);
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.get(key);
    const path = at === '' ? key : `${at}.${key}`;
    if (!attribute) {
      errors.push(`${path}: unknown field in ${type}`);
      continue;
    }
    const allowed = ENUMS[`${type}.${key}`];
    if (allowed && typeof item === 'string' && !allowed.includes(item))
      errors.push(`${path}: ${JSON.stringify(item)} is not one of ${allowed.join(', ')}`);
    const allowedItems = ENUMS[`${type}.${key}[]`];
    if (allowedItems && Array.isArray(item)) {
      for (const v of item)
        if (typeof v === 'string' && !allowedItems.includes(v))
          errors.push(`${path}: ${JSON.stringify(v)} is not one of ${allowedItems.join(', ')}`);
    }
    walk(item, attribute.type, path, errors, key);
  }
  for (const field of requiredFields(type)) {
    if (!(field in value) || value[field] === null)
      errors.push(`${at === '' ? field : `${at}.${field}`}: required field missing in ${type}`);
  }
}

function checkLabels(labels: Record<string, unknown>, at: string, errors: string[]): void {
  for (const [key, value] of Object.entries(labels)) {
    const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
    if (!LABEL_NAME.test(key) || name.length > 63)
      errors.push(`${at}: invalid label key ${JSON.stringify(key)}`);
    if (typeof value === 'string' && (value.length > 63 || !LABEL_VALUE.test(value)))
      errors.push(`${at}: invalid label value ${JSON.stringify(value)} for ${key}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
