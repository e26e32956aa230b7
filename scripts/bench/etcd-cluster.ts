// The yardstick of `npm run bench -- --vs etcd`: a 3-member etcd (Debian's etcd-server, 3.4)
// on loopback with its shipped defaults (fsync on, heartbeat 100 ms, election 1 s, snapshot
// every 100,000 entries), each member in a temp data dir that stop() removes. The bench
// drives it through etcd's HTTP/JSON gateway (/v3/kv/put, /v3/kv/range) with the same loader
// as Raft3D's REST API.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep } from '../../test/helpers/process-cluster.js';

export const ETCD_INSTALL_HINT =
  'etcd is not installed. On Debian/Ubuntu: `apt-get update && apt-get install -y etcd-server` ' +
  '(etcd 3.4; the bench runs /usr/bin/etcd, or the binary named by ETCD_BIN).';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  process: ChildProcess | null;
  output: string;
}

/** The etcd binary to run, or null when it is not installed. */
export function etcdBinary(): string | null {
  const bin = process.env['ETCD_BIN'] ?? 'etcd';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? bin : null;
}

/** etcd's version line, e.g. `etcd Version: 3.4.23`. */
export function etcdVersion(bin: string): string {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout;
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? 'unknown';
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Request bodies for the JSON gateway (keys and values are base64). */
export const etcdBodies = {
  put: (key: string, value: string): string => JSON.stringify({ key: b64(key), value: b64(value) }),
  range: (key: string, serializable: boolean): string =>
    JSON.stringify(serializable ? { key: b64(key), serializable: true } : { key: b64(key) }),
};

export class EtcdCluster {
  readonly members: EtcdMember[] = [];
  private readonly root: string;

  private constructor() {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-bench-etcd-'));
  }

  static async start(bin: string, size = 3): Promise<EtcdCluster> {
    const cluster = new EtcdCluster();
    for (let i = 0; i < size; i++) {
      const name = `e${i + 1}`;
      cluster.members.push({
        name,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: path.join(cluster.root, name),
        process: null,
        output: '',
      });
    }
    const initial = cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    for (const m of cluster.members) {
      const child = spawn(
        bin,
        [
          `--name=${m.name}`,
          `--data-dir=${m.dataDir}`,
          `--listen-client-urls=${m.clientUrl}`,
          `--advertise-client-urls=${m.clientUrl}`,
          `--listen-peer-urls=${m.peerUrl}`,
          `--initial-advertise-peer-urls=${m.peerUrl}`,
          `--initial-cluster=${initial}`,
          '--initial-cluster-state=new',
          '--initial-cluster-token=raft3d-bench',
          '--logger=zap',
          '--log-level=error',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const keep = (chunk: Buffer): void => {
        m.output = (m.output + chunk.toString()).slice(-10_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      m.process = child;
      child.on('exit', () => (m.process = null));
    }
    return cluster;
  }

  /** The client URL of the member that leads, once every member answers and agrees on it. */
  async waitForLeader(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const statuses = await Promise.all(this.members.map((m) => status(m.clientUrl)));
      const first = statuses[0];
      if (first && first.leader !== '0' && statuses.every((s) => s?.leader === first.leader)) {
        const i = statuses.findIndex((s) => s?.memberId === first.leader);
        const leader = this.members[i];
        if (leader) return leader.clientUrl;
      }
      await sleep(50);
    }
    throw new Error(
      `etcd elected no leader within ${timeoutMs} ms\n${this.members.map((m) => `--- ${m.name}\n${m.output.slice(-1500)}`).join('\n')}`,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(
        (m) =>
          new Promise<void>((resolve) => {
            const child = m.process;
            if (!child) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function status(clientUrl: string): Promise<{ memberId: string; leader: string } | null> {
  try {
    const res = await fetch(`${clientUrl}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(1000),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
    if (!body.header?.member_id || body.leader === undefined) return null;
    return { memberId: body.header.member_id, leader: body.leader };
  } catch {
    return null;
  }
}
