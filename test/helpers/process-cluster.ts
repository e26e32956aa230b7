// Real node processes on loopback for tests where the process boundary is the point:
// kill -9, SIGTERM, restart from the data dir, disk corruption. Each node gets free
// ports on 127.0.0.1 and a data dir under a temp root that stop() removes.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'main.ts');

export interface NodeStatusView {
  id: string;
  role: string;
  term: number;
  leader: string | null;
  commit: number;
  applied: number;
  config: { voters: readonly string[]; learners: readonly string[] };
}

export interface ProcessNode {
  readonly id: string;
  readonly apiPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly url: string;
  /** Added after the first configuration (addMember): not in the others' --initial-cluster. */
  readonly added?: boolean;
  process: ChildProcess | null;
  output: string;
  exit: Promise<number | null> | null;
}

/** Ports this test process already handed out: the OS may offer a just-closed port again. */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ProcessClusterOptions {
  readonly size: number;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly snapshotEvery?: number;
  readonly extraEnv?: Record<string, string>;
  /** Extra node flags, after tsx (e.g. `--import=<tracer>`, `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Runs after ports and data dirs are chosen, before any node starts (e.g. to restore a backup). */
  readonly prepare?: (nodes: readonly ProcessNode[]) => Promise<void>;
  /** Member ids (default n1, n2, ...); in Kubernetes mode the pod names `<sts>-<i>`. */
  readonly ids?: readonly string[];
  /**
   * Kubernetes mode against a stand-in API server: each node gets RAFT3D_K8S, POD_NAME (its
   * id), POD_NAMESPACE and this kubeconfig; addresses stay on loopback through the flags.
   */
  readonly kubernetes?: {
    readonly kubeconfig: string;
    readonly namespace: string;
    readonly statefulSet: string;
  };
  /** Node log level (default warn). */
  readonly logLevel?: string;
  /** The API runs over TLS (RAFT3D_TLS_* in extraEnv): node URLs are https://, checked against this CA file. */
  readonly httpsCa?: string;
}

export class ProcessCluster {
  readonly nodes: ProcessNode[] = [];
  private readonly root: string;
  private readonly tlsAgent: Agent | null;

  private constructor(private readonly options: ProcessClusterOptions) {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-proc-'));
    this.tlsAgent = options.httpsCa ? new Agent({ connect: { ca: readFileSync(options.httpsCa) } }) : null;
  }

  static async start(options: ProcessClusterOptions): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(options);
    for (let i = 0; i < options.size; i++) await cluster.place(options.ids?.[i] ?? `n${i + 1}`, false);
    await options.prepare?.(cluster.nodes);
    for (const node of cluster.nodes) cluster.startNode(node.id);
    return cluster;
  }

  /**
   * A new member beside the running cluster, as an operator adds one by hand: started with
   * `--initial-cluster-state existing` and the first configuration as `--initial-cluster`.
   */
  async addMember(id: string): Promise<ProcessNode> {
    await this.place(id, true);
    return this.startNode(id, ['--initial-cluster-state=existing']);
  }

  private async place(id: string, added: boolean): Promise<void> {
    const apiPort = await freePort();
    const peerPort = await freePort();
    this.nodes.push({
      id,
      apiPort,
      peerPort,
      dataDir: path.join(this.root, id),
      url: `${this.options.httpsCa ? 'https' : 'http'}://127.0.0.1:${apiPort}`,
      added,
      process: null,
      output: '',
      exit: null,
    });
  }

  node(id: string): ProcessNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** Starts (or restarts) a node from its data dir; `extraArgs` go after the usual flags. */
  startNode(id: string, extraArgs: readonly string[] = []): ProcessNode {
    const node = this.node(id);
    if (node.process) throw new Error(`${id} is already running`);
    const initialCluster = this.nodes
      .filter((n) => !n.added)
      .map((n) => `${n.id}=127.0.0.1:${n.peerPort}`)
      .join(',');
    const apiAddresses = this.nodes.map((n) => `${n.id}=${n.url}`).join(',');
    const child = spawn(
      process.execPath,
      [
        '--import=tsx',
        ...(this.options.nodeArgs ?? []),
        MAIN,
        `--id=${node.id}`,
        `--api=127.0.0.1:${node.apiPort}`,
        `--peer=127.0.0.1:${node.peerPort}`,
        `--data=${node.dataDir}`,
        `--initial-cluster=${initialCluster}`,
        `--api-addresses=${apiAddresses}`,
        `--tick-ms=${this.options.tickMs ?? 20}`,
        `--election-ticks=${this.options.electionTicks ?? 10}`,
        ...(this.options.snapshotEvery === undefined
          ? []
          : [`--snapshot-every=${this.options.snapshotEvery}`]),
        `--log-level=${this.options.logLevel ?? 'warn'}`,
        ...extraArgs,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          RAFT3D_CLUSTER_SECRET: 'test-secret',
          ...this.kubernetesEnv(id),
          ...this.options.extraEnv,
        },
      },
    );
    node.output = '';
    const keep = (chunk: Buffer): void => {
      node.output = (node.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    node.process = child;
    node.exit = new Promise((resolve) => {
      child.on('exit', (code) => {
        node.process = null;
        resolve(code);
      });
    });
    return node;
  }

  private kubernetesEnv(id: string): Record<string, string> {
    const k = this.options.kubernetes;
    if (!k) return {};
    return {
      RAFT3D_K8S: 'true',
      KUBECONFIG: k.kubeconfig,
      POD_NAME: id,
      POD_NAMESPACE: k.namespace,
      RAFT3D_STATEFULSET: k.statefulSet,
      RAFT3D_PEER_SERVICE: `${k.statefulSet}-peers`,
    };
  }

  /** SIGSTOP: the process is frozen (a member that falls behind); resume() continues it. */
  pause(id: string): void {
    this.node(id).process?.kill('SIGSTOP');
  }

  resume(id: string): void {
    this.node(id).process?.kill('SIGCONT');
  }

  /** Deletes a stopped node's data dir, as deleting a pod's PersistentVolumeClaim does. */
  wipe(id: string): void {
    const node = this.node(id);
    if (node.process) throw new Error(`${id} is running: stop it before wiping its data`);
    rmSync(node.dataDir, { recursive: true, force: true });
  }

  /** kill -9: no chance to flush, transfer or say goodbye. */
  async kill(id: string): Promise<void> {
    const node = this.node(id);
    node.process?.kill('SIGKILL');
    await node.exit;
  }

  /** SIGTERM, as `kubectl delete pod` sends; resolves with the exit code. */
  async terminate(id: string): Promise<number | null> {
    const node = this.node(id);
    node.process?.kill('SIGTERM');
    return node.exit;
  }

  async status(id: string): Promise<NodeStatusView | null> {
    try {
      const url = `${this.node(id).url}/cluster/status`;
      const signal = AbortSignal.timeout(1000);
      const res = this.tlsAgent
        ? await undiciFetch(url, { signal, dispatcher: this.tlsAgent })
        : await fetch(url, { signal });
      return res.ok ? ((await res.json()) as NodeStatusView) : null;
    } catch {
      return null;
    }
  }

  /** The running node that says it leads, once a majority of running nodes agree on it. */
  async waitForLeader(timeoutMs = 10_000, except: readonly string[] = []): Promise<ProcessNode> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const running = this.nodes.filter((n) => n.process && !except.includes(n.id));
      const statuses = await Promise.all(running.map((n) => this.status(n.id)));
      const leader = statuses.find((s) => s?.role === 'leader');
      if (leader && !except.includes(leader.id)) {
        const agree = statuses.filter((s) => s?.leader === leader.id).length;
        if (agree > Math.floor(this.nodes.length / 2)) return this.node(leader.id);
      }
      await sleep(25);
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.dump()}`);
  }

  /** The last lines each node printed: for failure messages. */
  dump(): string {
    return this.nodes
      .map((n) => `--- ${n.id} (${n.process ? 'running' : 'stopped'})\n${n.output.slice(-2_000)}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.process).map((n) => this.kill(n.id)));
    await this.tlsAgent?.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
