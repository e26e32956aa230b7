// N RaftNodes in one test process: MemoryStorage, one InProcessHub for the network, each
// node with its own createApp on 127.0.0.1:0, fast ticks. Helpers find the leader, cut
// nodes off through the hub, restart a node from its (kept) memory storage, and stop all.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiServer, createApp, startShopNode } from '../../src/api/index.js';
import type { Raft3dApp, ShopNode } from '../../src/api/index.js';
import type { AccessOptions } from '../../src/api/access.js';
import { createMetrics } from '../../src/metrics/index.js';
import type { Metrics } from '../../src/metrics/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { InProcessHub, InProcessTransport } from '../../src/transport/index.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ClusterOptions {
  readonly size: number;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly snapshotEvery?: number;
  readonly proposalTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  /** Leaders step down without a quorum (default true); false keeps an isolated leader leading. */
  readonly checkQuorum?: boolean;
  /** Start an HTTP API per node (default true). */
  readonly http?: boolean;
  readonly bodyLimitBytes?: number;
  readonly sseHeartbeatMs?: number;
  readonly sseStallMs?: number;
  /** Base of the per-node election PRNG seeds (printed by tests on failure). */
  readonly seed?: number;
  /** Admin token and cluster secret the admin and join routes check (default: open). */
  readonly access?: AccessOptions;
}

export interface ClusterMember {
  readonly id: string;
  readonly storage: MemoryStorage;
  readonly metrics: Metrics;
  node: ShopNode;
  app: Raft3dApp | null;
  server: Server | null;
  /** http://127.0.0.1:<port>, or '' without HTTP. */
  url: string;
  running: boolean;
}

export class InProcessCluster {
  readonly hub = new InProcessHub();
  readonly members: ClusterMember[] = [];
  readonly ids: string[];
  readonly seed: number;
  private lives = 0;

  private constructor(private readonly options: ClusterOptions) {
    this.ids = Array.from({ length: options.size }, (_, i) => `n${i + 1}`);
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  }

  get tickMs(): number {
    return this.options.tickMs ?? 10;
  }

  get electionTicks(): number {
    return this.options.electionTicks ?? 20;
  }

  static async start(options: ClusterOptions): Promise<InProcessCluster> {
    const cluster = new InProcessCluster(options);
    for (const id of cluster.ids) {
      const storage = new MemoryStorage();
      const metrics = createMetrics({ defaultMetrics: false, labels: { node: id } });
      const node = await cluster.startNode(id, storage, metrics);
      cluster.members.push({ id, storage, metrics, node, app: null, server: null, url: '', running: true });
    }
    if (options.http ?? true) {
      for (const m of cluster.members) await cluster.serve(m);
      cluster.shareAddresses();
    }
    return cluster;
  }

  /**
   * Starts a member that is not in the first configuration (a new node, or a new incarnation
   * `n2~xxxxxx` after n2 lost its data) with an empty storage; it waits to be admitted.
   */
  async addMember(id: string): Promise<ClusterMember> {
    const storage = new MemoryStorage();
    const metrics = createMetrics({ defaultMetrics: false, labels: { node: id } });
    const node = await this.startNode(id, storage, metrics);
    const m: ClusterMember = { id, storage, metrics, node, app: null, server: null, url: '', running: true };
    this.members.push(m);
    if (this.options.http ?? true) {
      await this.serve(m);
      this.shareAddresses();
    }
    return m;
  }

  private startNode(id: string, storage: MemoryStorage, metrics: Metrics): Promise<ShopNode> {
    const o = this.options;
    return startShopNode({
      id,
      initialVoters: this.ids,
      storage,
      transport: new InProcessTransport(this.hub, id),
      tickMs: this.tickMs,
      electionTicks: this.electionTicks,
      heartbeatTicks: 1,
      snapshotEvery: o.snapshotEvery ?? 0,
      proposalTimeoutMs: o.proposalTimeoutMs ?? 3_000,
      readTimeoutMs: o.readTimeoutMs ?? 3_000,
      checkQuorum: o.checkQuorum ?? true,
      metrics,
      // A new seed per life: a restarted node must not repeat its earlier life's read contexts.
      seed: this.seed + this.ids.indexOf(id) + 1000 * this.lives++,
    });
  }

  private async serve(m: ClusterMember): Promise<void> {
    const o = this.options;
    const app = createApp({
      node: m.node,
      metrics: m.metrics,
      ...(o.bodyLimitBytes === undefined ? {} : { bodyLimitBytes: o.bodyLimitBytes }),
      ...(o.sseHeartbeatMs === undefined ? {} : { sseHeartbeatMs: o.sseHeartbeatMs }),
      ...(o.sseStallMs === undefined ? {} : { sseStallMs: o.sseStallMs }),
      ...(o.access === undefined ? {} : { access: o.access }),
      forwardTimeoutMs: 5_000,
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = createApiServer(app);
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    m.app = app;
    m.server = server;
    m.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  private shareAddresses(): void {
    for (const m of this.members)
      for (const other of this.members) if (other.url !== '') m.node.setApiAddress(other.id, other.url);
  }

  member(id: string): ClusterMember {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: string): ShopNode {
    return this.member(id).node;
  }

  url(id: string): string {
    return this.member(id).url;
  }

  running(): ClusterMember[] {
    return this.members.filter((m) => m.running);
  }

  /**
   * Waits until one running node among `among` leads and every other node of `among`
   * follows it in the same term; returns the leader's member.
   */
  async waitForLeader(
    options: { among?: readonly string[]; timeoutMs?: number; not?: string } = {},
  ): Promise<ClusterMember> {
    const among = options.among ?? this.running().map((m) => m.id);
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      const members = among.map((id) => this.member(id)).filter((m) => m.running);
      const leaders = members.filter((m) => m.node.isLeader() && m.id !== options.not);
      if (leaders.length === 1) {
        const leader = leaders[0]!;
        const term = leader.node.status().term;
        if (members.every((m) => m.node.leaderId() === leader.id && m.node.status().term === term))
          return leader;
      }
      await sleep(5);
    }
    const view = among.map((id) => {
      const s = this.node(id).status();
      return `${id}:${s.role}/t${s.term}/leader=${s.leader}`;
    });
    throw new Error(`no stable leader among ${among.join(',')} (seed ${this.seed}): ${view.join(' ')}`);
  }

  /** Waits until every running node (or `ids`) has applied at least `index`. */
  async waitForApplied(index: number, ids?: readonly string[], timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const targets = ids ?? this.running().map((m) => m.id);
    while (Date.now() < deadline) {
      if (targets.every((id) => this.node(id).status().applied >= index)) return;
      await sleep(5);
    }
    throw new Error(
      `not every node applied ${index} (seed ${this.seed}): ${targets.map((id) => `${id}=${this.node(id).status().applied}`).join(' ')}`,
    );
  }

  followers(leader: string): ClusterMember[] {
    return this.running().filter((m) => m.id !== leader);
  }

  /** Cuts `id` off from every other node (its HTTP API still answers). */
  isolate(id: string): void {
    this.hub.isolate(id);
  }

  heal(): void {
    this.hub.heal();
  }

  /** Stops one node (its storage is kept for restart). */
  async stopNode(id: string): Promise<void> {
    const m = this.member(id);
    if (!m.running) return;
    m.running = false;
    await closeServer(m);
    await m.node.stop();
  }

  /** Restarts a stopped node from its memory storage, with a new API server. */
  async restartNode(id: string): Promise<void> {
    const m = this.member(id);
    if (m.running) return;
    m.storage.reopen();
    m.node = await this.startNode(id, m.storage, m.metrics);
    m.running = true;
    if (this.options.http ?? true) {
      await this.serve(m);
      this.shareAddresses();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.running) await closeServer(m);
        m.running = false;
        await m.node.stop();
      }),
    );
  }
}

async function closeServer(m: ClusterMember): Promise<void> {
  const server = m.server;
  const app = m.app;
  m.server = null;
  m.app = null;
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (app) await app.closeApp();
}
