// A stand-in Kubernetes API server on 127.0.0.1:0 for the node's Kubernetes code: pods (GET,
// LIST with labelSelector, PATCH with merge-patch and resourceVersion preconditions),
// statefulsets (GET, WATCH with fieldSelector), configmaps and secrets (GET, merge-PATCH
// with resourceVersion preconditions). Every request is recorded so tests can check exactly
// what the node sent; faults can be injected. It also answers the discovery requests helm
// makes for `helm template --dry-run=server` (version, API groups, resource lists), so the
// chart's lookup of the running StatefulSet can be tested offline.

import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

interface Pod {
  name: string;
  labels: Record<string, string>;
  resourceVersion: number;
  /** A new one each time the pod is (re)created, as on a real API server. */
  uid: string;
}

/** A ConfigMap or Secret: just its data (Secret values base64, as the API stores them). */
export interface DataObject {
  data: Record<string, string> | undefined;
  resourceVersion: number;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly pods = new Map<string, Pod>();
  readonly statefulSets = new Map<
    string,
    { replicas: number; resourceVersion: number; helmRelease?: string }
  >();
  readonly configMaps = new Map<string, DataObject>();
  readonly secrets = new Map<string, DataObject>();
  /** Next N matching requests answer with this status. */
  private faults: { count: number; status: number; method: string | null }[] = [];
  private watchers = new Set<{ name: string; res: http.ServerResponse }>();
  private server = http.createServer((req, res) => this.handle(req, res));
  private rv = 100;
  private uids = 0;
  private readonly forbidden = new Set<string>();
  port = 0;

  constructor(readonly namespace = 'shop') {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  kubeConfig(): KubeConfig {
    return kubeConfigFor(`http://127.0.0.1:${this.port}`);
  }

  /** Writes a kubeconfig file pointing at this server, or at `server` (for node processes: KUBECONFIG=<file>). */
  writeKubeconfig(file: string, server = `http://127.0.0.1:${this.port}`): string {
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: stand-in, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
        'users: [{name: node, user: {token: test-token}}]',
        `contexts: [{name: stand-in, context: {cluster: stand-in, user: node, namespace: ${this.namespace}}}]`,
        'current-context: stand-in',
      ].join('\n'),
    );
    return file;
  }

  addPod(name: string, labels: Record<string, string>): void {
    this.pods.set(name, {
      name,
      labels: { ...labels },
      resourceVersion: ++this.rv,
      uid: `uid-${++this.uids}`,
    });
  }

  /** Called on DELETE of a pod (after it is gone from the API): a test plays kubelet and StatefulSet. */
  onPodDeleted: ((name: string) => void) | null = null;

  setLabels(name: string, labels: Record<string, string>): void {
    const pod = this.pods.get(name)!;
    Object.assign(pod.labels, labels);
    pod.resourceVersion = ++this.rv;
  }

  /** Creates or scales a StatefulSet; `helmRelease` marks it as installed by that release (ownership metadata). */
  setReplicas(name: string, replicas: number, helmRelease?: string): void {
    const previous = this.statefulSets.get(name)?.helmRelease;
    const release = helmRelease ?? previous;
    const sts = {
      replicas,
      resourceVersion: ++this.rv,
      ...(release === undefined ? {} : { helmRelease: release }),
    };
    this.statefulSets.set(name, sts);
    for (const w of this.watchers) {
      if (w.name === name)
        w.res.write(JSON.stringify({ type: 'MODIFIED', object: this.stsObject(name) }) + '\n');
    }
  }

  /** A ConfigMap as the chart renders it (no data unless given). */
  addConfigMap(name: string, data?: Record<string, string>): void {
    this.configMaps.set(name, { data: data && { ...data }, resourceVersion: ++this.rv });
  }

  /** A Secret; `data` values are plain text here and stored base64-encoded. */
  addSecret(name: string, data?: Record<string, string>): void {
    const encoded =
      data &&
      Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    this.secrets.set(name, { data: encoded, resourceVersion: ++this.rv });
  }

  /** A Secret value, decoded, or undefined. */
  secretValue(name: string, key: string): string | undefined {
    const value = this.secrets.get(name)?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  }

  /** Requests for this pod answer 403, as RBAC does for a pod name the Role does not list. */
  forbid(pod: string): void {
    this.forbidden.add(pod);
  }

  fail(count: number, status: number, method: string | null = null): void {
    this.faults.push({ count, status, method });
  }

  watcherCount(): number {
    return this.watchers.size;
  }

  patches(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'PATCH');
  }

  private podObject(pod: Pod): object {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name,
        namespace: this.namespace,
        labels: pod.labels,
        resourceVersion: String(pod.resourceVersion),
        uid: pod.uid,
      },
    };
  }

  private stsObject(name: string): object {
    const sts = this.statefulSets.get(name)!;
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {
        name,
        namespace: this.namespace,
        resourceVersion: String(sts.resourceVersion),
        ...(sts.helmRelease === undefined
          ? {}
          : {
              labels: { 'app.kubernetes.io/managed-by': 'Helm' },
              annotations: {
                'meta.helm.sh/release-name': sts.helmRelease,
                'meta.helm.sh/release-namespace': this.namespace,
              },
            }),
      },
      spec: { replicas: sts.replicas, selector: { matchLabels: {} }, template: {}, serviceName: 'x' },
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = raw === '' ? null : JSON.parse(raw);
      } catch {
        body = raw;
      }
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
        body,
      };
      this.requests.push(record);
      const fault = this.faults.find((f) => f.count > 0 && (f.method === null || f.method === record.method));
      if (fault) {
        fault.count -= 1;
        return this.send(res, fault.status, { kind: 'Status', status: 'Failure', code: fault.status });
      }
      this.route(record, res);
    });
  }

  private route(r: RecordedRequest, res: http.ServerResponse): void {
    const ns = this.namespace;
    const podMatch = new RegExp(`^/api/v1/namespaces/${ns}/pods/([^/]+)$`).exec(r.path);
    const stsMatch = new RegExp(`^/apis/apps/v1/namespaces/${ns}/statefulsets/([^/]+)$`).exec(r.path);
    const discovery = this.discovery(r.path);
    if (discovery !== null && r.method === 'GET') return this.send(res, 200, discovery);
    const dataMatch = new RegExp(`^/api/v1/namespaces/${ns}/(configmaps|secrets)/([^/]+)$`).exec(r.path);
    if (dataMatch) return this.dataObject(r, res, dataMatch[1] as 'configmaps' | 'secrets', dataMatch[2]!);
    if (r.path === `/api/v1/namespaces/${ns}/pods` && r.method === 'GET') {
      const wanted = (r.query['labelSelector'] ?? '')
        .split(',')
        .filter((s) => s !== '')
        .map((s) => s.split('='));
      const items = [...this.pods.values()]
        .filter((p) => wanted.every(([k, v]) => p.labels[k!] === v))
        .map((p) => this.podObject(p));
      return this.send(res, 200, {
        apiVersion: 'v1',
        kind: 'PodList',
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
    }
    if (podMatch) {
      if (this.forbidden.has(decodeURIComponent(podMatch[1]!)))
        return this.send(res, 403, { kind: 'Status', code: 403, reason: 'Forbidden' });
      const pod = this.pods.get(decodeURIComponent(podMatch[1]!));
      if (!pod) return this.send(res, 404, { kind: 'Status', code: 404 });
      if (r.method === 'GET') return this.send(res, 200, this.podObject(pod));
      if (r.method === 'DELETE') {
        this.pods.delete(pod.name);
        this.send(res, 200, this.podObject(pod));
        this.onPodDeleted?.(pod.name);
        return;
      }
      if (r.method === 'PATCH') {
        if (r.contentType !== 'application/merge-patch+json')
          return this.send(res, 415, { kind: 'Status', code: 415 });
        const meta =
          (r.body as { metadata?: { labels?: Record<string, string | null>; resourceVersion?: string } })
            .metadata ?? {};
        if (meta.resourceVersion !== undefined && meta.resourceVersion !== String(pod.resourceVersion)) {
          return this.send(res, 409, { kind: 'Status', code: 409, reason: 'Conflict' });
        }
        for (const [k, v] of Object.entries(meta.labels ?? {})) {
          if (v === null) delete pod.labels[k];
          else pod.labels[k] = v;
        }
        pod.resourceVersion = ++this.rv;
        return this.send(res, 200, this.podObject(pod));
      }
    }
    if (
      r.path === `/apis/apps/v1/namespaces/${ns}/statefulsets` &&
      r.method === 'GET' &&
      r.query['watch'] === 'true'
    ) {
      const name = (r.query['fieldSelector'] ?? '').replace(/^metadata\.name=/, '');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (this.statefulSets.has(name))
        res.write(JSON.stringify({ type: 'ADDED', object: this.stsObject(name) }) + '\n');
      const watcher = { name, res };
      this.watchers.add(watcher);
      res.on('close', () => this.watchers.delete(watcher));
      return;
    }
    if (stsMatch && r.method === 'GET') {
      const name = decodeURIComponent(stsMatch[1]!);
      if (!this.statefulSets.has(name)) return this.send(res, 404, { kind: 'Status', code: 404 });
      return this.send(res, 200, this.stsObject(name));
    }
    this.send(res, 404, { kind: 'Status', code: 404, message: `no route ${r.method} ${r.path}` });
  }

  /** What helm's discovery client asks before it can look anything up. */
  private discovery(path: string): object | null {
    const resource = (name: string, kind: string) => ({
      name,
      singularName: kind.toLowerCase(),
      namespaced: true,
      kind,
      verbs: ['get', 'list', 'watch', 'create', 'patch'],
    });
    const groups: Record<string, [string, string][]> = {
      v1: [
        ['pods', 'Pod'],
        ['services', 'Service'],
        ['serviceaccounts', 'ServiceAccount'],
        ['configmaps', 'ConfigMap'],
        ['secrets', 'Secret'],
      ],
      'apps/v1': [['statefulsets', 'StatefulSet']],
      'policy/v1': [['poddisruptionbudgets', 'PodDisruptionBudget']],
      'rbac.authorization.k8s.io/v1': [
        ['roles', 'Role'],
        ['rolebindings', 'RoleBinding'],
      ],
      'networking.k8s.io/v1': [['networkpolicies', 'NetworkPolicy']],
      'monitoring.coreos.com/v1': [
        ['servicemonitors', 'ServiceMonitor'],
        ['prometheusrules', 'PrometheusRule'],
      ],
    };
    if (path === '/version')
      return { major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' };
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path === '/apis') {
      const named = Object.keys(groups).filter((g) => g.includes('/'));
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: named.map((gv) => {
          const version = { groupVersion: gv, version: gv.split('/')[1] };
          return { name: gv.split('/')[0], versions: [version], preferredVersion: version };
        }),
      };
    }
    const gv = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : null;
    const list = gv === null ? undefined : groups[gv];
    if (gv === null || list === undefined) return null;
    return { kind: 'APIResourceList', groupVersion: gv, resources: list.map(([n, k]) => resource(n, k)) };
  }

  private dataObject(
    r: RecordedRequest,
    res: http.ServerResponse,
    plural: 'configmaps' | 'secrets',
    rawName: string,
  ): void {
    const name = decodeURIComponent(rawName);
    const store = plural === 'configmaps' ? this.configMaps : this.secrets;
    const object = store.get(name);
    if (!object) return this.send(res, 404, { kind: 'Status', code: 404, reason: 'NotFound' });
    const render = (): object => ({
      apiVersion: 'v1',
      kind: plural === 'configmaps' ? 'ConfigMap' : 'Secret',
      metadata: { name, namespace: this.namespace, resourceVersion: String(object.resourceVersion) },
      ...(object.data === undefined ? {} : { data: object.data }),
    });
    if (r.method === 'GET') return this.send(res, 200, render());
    if (r.method === 'PATCH') {
      if (r.contentType !== 'application/merge-patch+json')
        return this.send(res, 415, { kind: 'Status', code: 415 });
      const body = r.body as {
        metadata?: { resourceVersion?: string };
        data?: Record<string, string | null>;
      };
      const expected = body.metadata?.resourceVersion;
      if (expected !== undefined && expected !== String(object.resourceVersion))
        return this.send(res, 409, { kind: 'Status', code: 409, reason: 'Conflict' });
      const data = { ...object.data };
      for (const [k, v] of Object.entries(body.data ?? {})) {
        if (v === null) delete data[k];
        else data[k] = v;
      }
      object.data = data;
      object.resourceVersion = ++this.rv;
      return this.send(res, 200, render());
    }
    this.send(res, 405, { kind: 'Status', code: 405 });
  }

  private send(res: http.ServerResponse, status: number, body: object): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

export function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'stand-in', server, skipTLSVerify: true }],
    users: [{ name: 'node', token: 'test-token' }],
    contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'node', namespace: 'shop' }],
    currentContext: 'stand-in',
  });
  return kc;
}

/** Polls `predicate` every 10 ms until it holds or `ms` pass. */
export async function eventually(predicate: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
