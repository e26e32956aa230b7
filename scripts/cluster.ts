// `npm run cluster`: a local Raft3D cluster of real node processes on 127.0.0.1.
// Each node keeps its data under ./data/<id> (kept across runs unless --fresh) and its
// log in ./data/logs/<id>.log. Ctrl+C stops every node cleanly (SIGTERM, then wait).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initialClusterState } from './cluster-state.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    fresh: { type: 'boolean', default: false },
    'restart-after': { type: 'string', default: '5' },
    'api-port': { type: 'string', default: '8080' },
    'peer-port': { type: 'string', default: '9090' },
    data: { type: 'string', default: 'data' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm run cluster -- [--nodes 3|5] [--fresh] [--restart-after 5] [--api-port 8080] [--peer-port 9090] [--data ./data]

Starts a local Raft3D cluster on 127.0.0.1. Node i (1-based) serves its API on
api-port+i-1 and talks to peers on peer-port+i-1. Data is kept under --data between
runs; --fresh deletes it first. A node that dies (say, kill -9 in a failover demo) is
restarted from its data after --restart-after seconds (0: never); one that exits
with an error (bad config, corrupt data) is not. Ctrl+C stops all nodes.`);
  process.exit(0);
}

const count = Number(values.nodes);
const apiBase = Number(values['api-port']);
const peerBase = Number(values['peer-port']);
if (!Number.isInteger(count) || count < 1 || count > 9) {
  console.error(
    `--nodes must be a whole number from 1 to 9 (got ${values.nodes}); odd counts tolerate failures best`,
  );
  process.exit(2);
}
if (![apiBase, peerBase].every((p) => Number.isInteger(p) && p > 0 && p + count <= 65535)) {
  console.error('--api-port and --peer-port must be valid port numbers');
  process.exit(2);
}

const dataRoot = path.resolve(values.data);
if (values.fresh) rmSync(dataRoot, { recursive: true, force: true });
mkdirSync(path.join(dataRoot, 'logs'), { recursive: true });

const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
const apiUrl = (i: number): string => `http://127.0.0.1:${apiBase + i}`;
const initialCluster = ids.map((id, i) => `${id}=127.0.0.1:${peerBase + i}`).join(',');
const apiAddresses = ids.map((id, i) => `${id}=${apiUrl(i)}`).join(',');
const mainScript = path.resolve(import.meta.dirname, '..', 'src', 'main.ts');

const children = new Map<string, ChildProcess>();
let stopping = false;

function startNode(id: string, i: number): void {
  const log = createWriteStream(path.join(dataRoot, 'logs', `${id}.log`), { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      '--import=tsx',
      mainScript,
      `--id=${id}`,
      `--api=127.0.0.1:${apiBase + i}`,
      `--peer=127.0.0.1:${peerBase + i}`,
      `--data=${path.join(dataRoot, id)}`,
      `--initial-cluster=${initialCluster}`,
      `--api-addresses=${apiAddresses}`,
      `--initial-cluster-state=${initialClusterState(dataRoot, ids, id)}`,
    ],
    {
      // Own process group: Ctrl+C reaches only this script, which then stops each node
      // exactly once (a node treats a second signal as "exit now").
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        RAFT3D_CLUSTER_SECRET: process.env['RAFT3D_CLUSTER_SECRET'] ?? 'local-dev-secret',
      },
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    if (!stopping) process.stderr.write(`[${id}] ${chunk.toString()}`);
  });
  child.on('exit', (code, signal) => {
    children.delete(id);
    if (!stopping) {
      const restartAfter = Number(values['restart-after']);
      console.log(
        `${id} exited (${signal ?? `code ${code}`}); see ${path.join(values.data, 'logs', `${id}.log`)}`,
      );
      if (signal !== null && restartAfter > 0) {
        console.log(`restarting ${id} from its data in ${restartAfter} s`);
        setTimeout(() => {
          if (!stopping) startNode(id, i);
        }, restartAfter * 1000);
      }
    }
    if (stopping && children.size === 0) {
      console.log('all nodes stopped; data kept in', values.data);
      process.exit(0);
    }
  });
  children.set(id, child);
}

interface StatusView {
  role?: string;
  leader?: string | null;
  term?: number;
}

async function fetchStatus(i: number): Promise<StatusView | null> {
  try {
    const res = await fetch(`${apiUrl(i)}/cluster/status`, { signal: AbortSignal.timeout(500) });
    return res.ok ? ((await res.json()) as StatusView) : null;
  } catch {
    return null;
  }
}

let lastLeader: string | null | undefined;
/** The usage hint is printed once, when the first leader shows up. */
let hinted = false;
async function watchLeader(): Promise<void> {
  if (stopping) return;
  const statuses = await Promise.all(ids.map((_, i) => fetchStatus(i)));
  const leaderIndex = statuses.findIndex((s) => s?.role === 'leader');
  const leader = leaderIndex >= 0 ? ids[leaderIndex]! : null;
  if (leader !== lastLeader) {
    if (lastLeader === undefined) {
      console.log(`\nRaft3D local cluster (${count} nodes, data in ${values.data}/):`);
      ids.forEach((id, i) => console.log(`  ${id}  API ${apiUrl(i)}   peers 127.0.0.1:${peerBase + i}`));
    }
    if (leader) {
      console.log(`leader: ${leader} (${apiUrl(leaderIndex)}), term ${statuses[leaderIndex]?.term ?? '?'}`);
      if (!hinted) {
        hinted = true;
        console.log(
          `try:   curl -s ${apiUrl(0)}/api/v1/printers -H 'content-type: application/json' -d '{"company":"Prusa","model":"MK4"}'`,
        );
        console.log('stop:  Ctrl+C');
      }
    } else if (lastLeader !== undefined) {
      console.log('no leader right now (election in progress or no quorum)');
    }
    lastLeader = leader;
  }
}

function stopAll(): void {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping nodes...');
  if (children.size === 0) process.exit(0);
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(1);
  }, 15_000).unref();
}

process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
process.on('SIGHUP', stopAll);

ids.forEach((id, i) => startNode(id, i));
console.log(`starting ${count} nodes...`);
const timer = setInterval(() => void watchLeader(), 500);
process.on('exit', () => clearInterval(timer));
