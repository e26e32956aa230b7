// Real node processes (src/main.ts), each in its own network namespace of a NetLab, with
// its data dir under a temp root (`r3d-<pid>-...`, removed by stop()). Nodes can be killed
// with SIGKILL and restarted from the same data, paused with SIGSTOP and resumed, and one
// node may keep its data on a small tmpfs whose free space a test can take away.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NetLab } from './netlab.js';
import { baseOf } from '../../src/membership/index.js';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'main.ts');
export const API_PORT = 8080;
export const PEER_PORT = 9090;

export interface NetnsNode {
  readonly id: string;
  readonly ip: string;
  readonly url: string;
  readonly dataDir: string;
  process: ChildProcess | null;
  paused: boolean;
  output: string;
  exit: Promise<number | null> | null;
  /** Starts since the cluster was made (restarts + 1). */
  starts: number;
}

export interface StatusView {
  id: string;
  role: string;
  term: number;
  leader: string | null;
  commit: number;
  applied: number;
}

export interface NetnsClusterOptions {
  readonly size: number;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly snapshotEvery?: number;
  /** Ids whose data dir is a tmpfs of this many MiB (for disk-full faults). */
  readonly tmpfs?: { readonly ids: readonly string[]; readonly mib: number };
  readonly logLevel?: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class NetnsCluster {
  readonly nodes: NetnsNode[] = [];
  readonly lab: NetLab;
  readonly electionTimeoutMs: number;
  private readonly root: string;
  private readonly mounts: string[] = [];
  private stopped = false;

  private constructor(private readonly options: NetnsClusterOptions) {
    const ids = Array.from({ length: options.size }, (_, i) => `n${i + 1}`);
    this.lab = NetLab.create(ids);
    this.root = mkdtempSync(path.join(os.tmpdir(), `r3d-${process.pid.toString(36)}-`));
    this.electionTimeoutMs = (options.tickMs ?? 50) * (options.electionTicks ?? 10);
    for (const n of this.lab.nodes) {
      const dataDir = path.join(this.root, n.id);
      mkdirSync(dataDir, { recursive: true });
      if (options.tmpfs?.ids.includes(n.id)) {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.tmpfs.mib}m`, 'tmpfs', dataDir]);
        this.mounts.push(dataDir);
      }
      this.nodes.push({
        id: n.id,
        ip: n.ip,
        url: `http://${n.ip}:${API_PORT}`,
        dataDir,
        process: null,
        paused: false,
        output: '',
        exit: null,
        starts: 0,
      });
    }
  }

  static start(options: NetnsClusterOptions): NetnsCluster {
    const cluster = new NetnsCluster(options);
    try {
      for (const node of cluster.nodes) cluster.startNode(node.id);
    } catch (error) {
      cluster.stopSync();
      throw error;
    }
    return cluster;
  }

  node(id: string): NetnsNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  startNode(id: string): NetnsNode {
    const node = this.node(id);
    if (node.process) throw new Error(`${id} is already running`);
    const ns = this.lab.node(id).ns;
    const initialCluster = this.nodes.map((n) => `${n.id}=${n.ip}:${PEER_PORT}`).join(',');
    const apiAddresses = this.nodes.map((n) => `${n.id}=${n.url}`).join(',');
    // Once the cluster exists, a node started with an empty data dir (wipe-member) must join
    // it as a new incarnation, never bootstrap a vote under its old id.
    const state = node.starts > 0 ? 'existing' : 'new';
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '--import=tsx',
        MAIN,
        `--id=${id}`,
        `--api=${node.ip}:${API_PORT}`,
        `--peer=${node.ip}:${PEER_PORT}`,
        `--data=${node.dataDir}`,
        `--initial-cluster=${initialCluster}`,
        `--api-addresses=${apiAddresses}`,
        `--initial-cluster-state=${state}`,
        `--tick-ms=${this.options.tickMs ?? 50}`,
        `--election-ticks=${this.options.electionTicks ?? 10}`,
        `--snapshot-every=${this.options.snapshotEvery ?? 10_000}`,
        `--log-level=${this.options.logLevel ?? 'warn'}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFT3D_CLUSTER_SECRET: 'chaos-secret' } },
    );
    node.output = '';
    node.paused = false;
    node.starts++;
    const keep = (chunk: Buffer): void => {
      node.output = (node.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    node.process = child;
    node.exit = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        node.process = null;
        node.paused = false;
        resolve(code ?? (signal ? -1 : null));
      });
    });
    return node;
  }

  /** kill -9 (a paused process dies too). */
  async kill(id: string): Promise<void> {
    const node = this.node(id);
    node.process?.kill('SIGKILL');
    await node.exit;
  }

  pause(id: string): void {
    const node = this.node(id);
    if (node.process && !node.paused) {
      node.process.kill('SIGSTOP');
      node.paused = true;
    }
  }

  resume(id: string): void {
    const node = this.node(id);
    if (node.process && node.paused) {
      node.process.kill('SIGCONT');
      node.paused = false;
    }
  }

  running(): NetnsNode[] {
    return this.nodes.filter((n) => n.process !== null);
  }

  async status(id: string, timeoutMs = 1000): Promise<StatusView | null> {
    try {
      const res = await fetch(`${this.node(id).url}/cluster/status`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) return null;
      // A wiped member comes back as an incarnation (`n2~x7k2qa`): the suite names nodes by
      // their slot, so ids are reported by their base.
      const view = (await res.json()) as StatusView;
      return { ...view, id: baseOf(view.id), leader: view.leader === null ? null : baseOf(view.leader) };
    } catch {
      return null;
    }
  }

  /** The node a majority of the cluster names as leader, once it says so itself. */
  async waitForLeader(
    timeoutMs = 20_000,
    among: readonly string[] = this.nodes.map((n) => n.id),
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const statuses = await Promise.all(among.map((id) => this.status(id, 500)));
      const leader = statuses.find((s) => s?.role === 'leader');
      if (leader && among.includes(leader.id)) {
        const agree = statuses.filter((s) => s?.leader === leader.id).length;
        if (agree > Math.floor(this.nodes.length / 2)) return leader.id;
      }
      await sleep(25);
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.dump()}`);
  }

  /** Leaves `freeKiB` free on the tmpfs of `id` (filling it with a file); undo with unfillDisk. */
  fillDisk(id: string, freeKiB: number): void {
    const node = this.node(id);
    const fs = statfsSync(node.dataDir);
    const free = Number(fs.bavail) * Number(fs.bsize);
    const size = Math.max(0, free - freeKiB * 1024);
    try {
      writeFileSync(path.join(node.dataDir, 'r3d-filler'), Buffer.alloc(size));
    } catch (error) {
      // The node wrote meanwhile and the filler no longer fits: the disk is full, as wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    }
  }

  unfillDisk(id: string): void {
    try {
      unlinkSync(path.join(this.node(id).dataDir, 'r3d-filler'));
    } catch {
      // not filled
    }
  }

  /** Deletes a stopped node's data dir (contents only: it may be a mount point). */
  wipe(id: string): void {
    const node = this.node(id);
    if (node.process) throw new Error(`wipe ${id}: stop it first`);
    for (const entry of readdirSync(node.dataDir)) {
      rmSync(path.join(node.dataDir, entry), { recursive: true, force: true });
    }
  }

  dump(): string {
    return this.nodes
      .map(
        (n) =>
          `--- ${n.id} (${n.process ? (n.paused ? 'paused' : 'running') : 'stopped'})\n${n.output.slice(-2_000)}`,
      )
      .join('\n');
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) this.resume(n.id);
    await Promise.all(this.running().map((n) => this.kill(n.id)));
    this.stopSync();
  }

  /** Synchronous teardown for exit and signal handlers: kill, unmount, remove, destroy the lab. */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const n of this.nodes) {
      try {
        n.process?.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    this.lab.destroy();
    for (const m of this.mounts) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
