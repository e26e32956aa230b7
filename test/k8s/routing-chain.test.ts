// The Kubernetes routing chain with real node processes and no cluster: three `src/main.ts`
// processes in Kubernetes mode (POD_NAME=raft3d-i) label "their pods" on a stand-in API
// server; a tiny proxy plays the leader Service, forwarding each request to whichever pod
// is labelled raft3d.io/role=leader at that moment. Deleting the leader (SIGTERM, as
// `kubectl delete pod` does) or killing it (SIGKILL, no goodbye) must move the label, and
// writes through the "Service" must resume with nothing lost.

import test from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/process-cluster.js';
import { FakeApiServer, eventually } from './fake-api-server.js';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'main.ts');
const APP = { 'app.kubernetes.io/name': 'raft3d', 'app.kubernetes.io/instance': 'raft3d' };

interface Pod {
  readonly name: string;
  readonly apiPort: number;
  readonly peerPort: number;
  process: ChildProcess | null;
  exit: Promise<number | null> | null;
  output: string;
  /** Sent SIGTERM: like a terminating pod, no longer an endpoint of any Service. */
  terminating: boolean;
}

class Chain {
  readonly pods: Pod[] = [];
  proxyPort = 0;
  private proxy: http.Server | null = null;
  readonly root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-k8s-'));

  constructor(readonly api: FakeApiServer) {}

  async start(size: number): Promise<void> {
    for (let i = 0; i < size; i++) {
      const name = `raft3d-${i}`;
      // raft3d-0 carries a stale leader label from an earlier life (term 0: before any election).
      this.api.addPod(name, {
        ...APP,
        'raft3d.io/role': i === 0 ? 'leader' : 'follower',
        'raft3d.io/term': '0',
      });
      this.pods.push({
        name,
        apiPort: await freePort(),
        peerPort: await freePort(),
        process: null,
        exit: null,
        output: '',
        terminating: false,
      });
    }
    this.api.setReplicas('raft3d', size);
    this.api.addConfigMap('raft3d-members');
    const kubeconfig = this.api.writeKubeconfig(path.join(this.root, 'kubeconfig'));
    for (const pod of this.pods) this.spawn(pod, kubeconfig);
    await this.startProxy();
  }

  private spawn(pod: Pod, kubeconfig: string): void {
    const initialCluster = this.pods.map((p) => `${p.name}=127.0.0.1:${p.peerPort}`).join(',');
    const apiAddresses = this.pods.map((p) => `${p.name}=http://127.0.0.1:${p.apiPort}`).join(',');
    const child = spawn(
      process.execPath,
      [
        '--import=tsx',
        MAIN,
        `--api=127.0.0.1:${pod.apiPort}`,
        `--peer=127.0.0.1:${pod.peerPort}`,
        `--data=${path.join(this.root, pod.name)}`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          KUBECONFIG: kubeconfig,
          RAFT3D_K8S: 'true',
          POD_NAME: pod.name,
          POD_NAMESPACE: 'shop',
          RAFT3D_STATEFULSET: 'raft3d',
          RAFT3D_PEER_SERVICE: 'raft3d-peers',
          RAFT3D_REPLICAS: String(this.pods.length),
          // Loopback instead of cluster DNS: flags and these variables win over the derived addresses.
          RAFT3D_INITIAL_CLUSTER: initialCluster,
          RAFT3D_API_ADDRESSES: apiAddresses,
          RAFT3D_CLUSTER_SECRET: 'chain-secret',
          RAFT3D_TICK_MS: '20',
          RAFT3D_LOG_LEVEL: 'info',
        },
      },
    );
    pod.output = '';
    const keep = (chunk: Buffer): void => {
      pod.output = (pod.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    pod.process = child;
    pod.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Endpoints of the leader Service: pods labelled leader whose process is up and not terminating. */
  leaderEndpoints(): Pod[] {
    return this.pods.filter(
      (p) =>
        this.api.pods.get(p.name)?.labels['raft3d.io/role'] === 'leader' &&
        p.process?.exitCode === null &&
        !p.terminating,
    );
  }

  /** Waits until exactly one pod is labelled leader and that pod's node says it leads in the labelled term. */
  async labelledLeader(timeoutMs: number): Promise<Pod> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const endpoints = this.leaderEndpoints();
      const pod = endpoints[0];
      if (pod && endpoints.length === 1 && this.labelled('leader').length === 1) {
        const status = await this.status(pod);
        if (
          status?.role === 'leader' &&
          String(status.term) === this.api.pods.get(pod.name)?.labels['raft3d.io/term']
        )
          return pod;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no single labelled leader within ${timeoutMs} ms\n${this.dump()}`);
  }

  labelled(role: string): string[] {
    return [...this.api.pods.values()].filter((p) => p.labels['raft3d.io/role'] === role).map((p) => p.name);
  }

  private async startProxy(): Promise<void> {
    this.proxy = http.createServer((req, res) => {
      const target = this.leaderEndpoints()[0];
      if (!target) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('no endpoints');
        return;
      }
      const upstream = http.request(
        { host: '127.0.0.1', port: target.apiPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, { ...up.headers, 'x-test-endpoint': target.name });
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502).end('upstream error');
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => this.proxy!.listen(0, '127.0.0.1', r));
    this.proxyPort = (this.proxy.address() as AddressInfo).port;
  }

  async request(
    method: string,
    url: string,
    body?: unknown,
  ): Promise<{ status: number; body: any; endpoint: string | null }> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.proxyPort}${url}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, endpoint: res.headers.get('x-test-endpoint') };
    } catch {
      return { status: 0, body: null, endpoint: null };
    }
  }

  async status(pod: Pod): Promise<{ role: string; term: number; leader: string | null } | null> {
    try {
      const res = await fetch(`http://127.0.0.1:${pod.apiPort}/cluster/status`, {
        signal: AbortSignal.timeout(5_000),
      });
      return res.ok ? ((await res.json()) as { role: string; term: number; leader: string | null }) : null;
    } catch {
      return null;
    }
  }

  dump(): string {
    return (
      this.pods.map((p) => `--- ${p.name}\n${p.output.slice(-3_000)}`).join('\n') +
      `\nlabels: ${JSON.stringify([...this.api.pods.values()].map((p) => [p.name, p.labels['raft3d.io/role'], p.labels['raft3d.io/term']]))}`
    );
  }

  async stop(): Promise<void> {
    for (const pod of this.pods) pod.process?.kill('SIGKILL');
    await Promise.all(this.pods.map((p) => p.exit));
    await new Promise<void>((r) => (this.proxy ? this.proxy.close(() => r()) : r()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Retries a write through the "leader Service" until it is acknowledged; returns how long it took. */
async function writeUntilAccepted(
  chain: Chain,
  id: string,
  timeoutMs: number,
): Promise<{ ms: number; endpoint: string | null }> {
  const started = performance.now();
  for (;;) {
    const res = await chain.request('POST', '/api/v1/printers', { id, company: 'Prusa', model: 'MK4' });
    if (res.status === 201) return { ms: performance.now() - started, endpoint: res.endpoint };
    if (res.status === 409) return { ms: performance.now() - started, endpoint: res.endpoint }; // an earlier attempt did commit
    if (performance.now() - started > timeoutMs)
      throw new Error(
        `write ${id} not accepted within ${timeoutMs} ms (last ${res.status} ${JSON.stringify(res.body)})\n${chain.dump()}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

test.serial(
  'the leader Service follows the leader label through SIGTERM and SIGKILL of the leader',
  async (t) => {
    t.timeout(150_000);
    const api = await new FakeApiServer('shop').start();
    const chain = new Chain(api);
    t.teardown(async () => {
      await chain.stop();
      await api.close();
    });
    await chain.start(3);

    // Exactly one pod ends up labelled leader (the stale raft3d-0 label is cleared), and it is the real leader.
    const first = await chain.labelledLeader(60_000);
    t.is(chain.labelled('leader').length, 1, 'the stale label from an earlier life is gone');
    t.deepEqual(
      chain.labelled('follower').sort(),
      chain.pods.filter((p) => p !== first).map((p) => p.name),
    );
    const patch = api.patches().find((r) => r.path === `/api/v1/namespaces/shop/pods/${first.name}`)!;
    t.is(patch.contentType, 'application/merge-patch+json');

    const written = await writeUntilAccepted(chain, 'p-before', 5_000);
    t.is(written.endpoint, first.name, 'the write went straight to the leader');

    // kubectl delete pod <leader>: SIGTERM hands leadership over; the label moves with it.
    first.terminating = true;
    first.process!.kill('SIGTERM');
    const deleted = await writeUntilAccepted(chain, 'p-after-delete', 10_000);
    t.log(
      `writes through the leader Service resumed ${Math.round(deleted.ms)} ms after SIGTERM to ${first.name}`,
    );
    t.not(deleted.endpoint, first.name);
    t.is(await first.exit, 0, 'a deleted leader exits cleanly');
    await eventually(
      () => api.pods.get(first.name)!.labels['raft3d.io/role'] === 'follower',
      5_000,
      'the deleted pod dropped its leader label',
    );

    // kill -9 the new leader: its label stays "leader" until the next leader demotes it.
    const second = chain.pods.find((p) => p.name === deleted.endpoint)!;
    second.process!.kill('SIGKILL');
    await second.exit;
    // Only one member is left of three: no quorum, so bring the first pod back (the StatefulSet would).
    chain.pods.splice(chain.pods.indexOf(first), 1, {
      ...first,
      process: null,
      exit: null,
      output: '',
      terminating: false,
    });
    const restarted = chain.pods.find((p) => p.name === first.name)!;
    (chain as any).spawn(restarted, path.join(chain.root, 'kubeconfig'));
    const killed = await writeUntilAccepted(chain, 'p-after-kill', 20_000);
    t.log(
      `writes resumed ${Math.round(killed.ms)} ms after SIGKILL of ${second.name} (with a restart of ${first.name})`,
    );
    await eventually(
      () => api.pods.get(second.name)!.labels['raft3d.io/role'] === 'follower',
      10_000,
      `the new leader demoted the dead leader's stale label\n${chain.dump()}`,
    );
    t.is(chain.labelled('leader').length, 1);

    // Nothing acknowledged was lost.
    const list = await chain.request('GET', '/api/v1/printers');
    t.is(list.status, 200);
    const ids = JSON.stringify(list.body);
    for (const id of ['p-before', 'p-after-delete', 'p-after-kill'])
      t.true(ids.includes(id), `${id} survived`);
  },
);
