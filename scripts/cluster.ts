// `npm run cluster`: a local Raft3D cluster of real node processes on 127.0.0.1.
// Each node keeps its data under ./data/<id> (kept across runs unless --fresh) and its
// log in ./data/logs/<id>.log. It refuses to start on ports in use or on data of another
// cluster size (scripts/cluster-preflight.ts). Ctrl+C, SIGINT or SIGTERM stop every node
// cleanly; the nodes also stop by themselves if this supervisor dies (src/supervised.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initialClusterState } from './cluster-state.js';
import { STOP_CLUSTER } from '../src/supervised.js';
import { memberMismatch, portsInUse } from './cluster-preflight.js';

const USAGE =
  'usage: npm run cluster -- [--nodes 3|5] [--fresh] [--restart-after 5] [--api-port 8080] [--peer-port 9090] [--data ./data]';

function parseFlags() {
  try {
    return parseArgs({
      options: {
        nodes: { type: 'string', default: '3' },
        fresh: { type: 'boolean', default: false },
        'restart-after': { type: 'string', default: '5' },
        'api-port': { type: 'string', default: '8080' },
        'peer-port': { type: 'string', default: '9090' },
        data: { type: 'string', default: 'data' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}\n(npm run cluster -- --help explains each flag)`);
    process.exit(2);
  }
}
const values = parseFlags();

if (values.help) {
  console.log(`${USAGE}

Starts a local Raft3D cluster on 127.0.0.1. Node i (1-based) serves its API on
api-port+i-1 and talks to peers on peer-port+i-1. Data is kept under --data between
runs; --fresh deletes it first. A node that dies (say, kill -9 in a failover demo) is
restarted from its data after --restart-after seconds (0: never); one that exits
with an error (bad config, corrupt data) is not. Ctrl+C (or SIGINT/SIGTERM to this
process) stops all nodes; if this process dies, the nodes stop by themselves.

It refuses to start when one of its ports is in use, or when --data holds a cluster of
another size (use that --nodes, or --fresh to start over).`);
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
const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
const refusal =
  (await portsInUse('127.0.0.1', [...ids.map((_, i) => apiBase + i), ...ids.map((_, i) => peerBase + i)])) ??
  (values.fresh ? null : memberMismatch(dataRoot, values.data, ids));
if (refusal !== null) {
  console.error(`npm run cluster: ${refusal}`);
  process.exit(2);
}
if (values.fresh) rmSync(dataRoot, { recursive: true, force: true });
mkdirSync(path.join(dataRoot, 'logs'), { recursive: true });

const apiUrl = (i: number): string => `http://127.0.0.1:${apiBase + i}`;
const initialCluster = ids.map((id, i) => `${id}=127.0.0.1:${peerBase + i}`).join(',');
const apiAddresses = ids.map((id, i) => `${id}=${apiUrl(i)}`).join(',');
const mainScript = path.resolve(import.meta.dirname, '..', 'src', 'main.ts');

const children = new Map<string, ChildProcess>();
/** Why each node last said it failed on stderr (`raft3d: ...`), for the exit message. */
const lastError = new Map<string, string>();
let stopping = false;

const logFile = (id: string): string => path.join(dataRoot, 'logs', `${id}.log`);

/** The last fatal or error entry a node logged (its log's tail), as `msg: err.message`. */
function loggedFailure(id: string): string | undefined {
  let tail: string;
  try {
    tail = readFileSync(logFile(id), 'utf8').slice(-64 * 1024);
  } catch {
    return undefined;
  }
  for (const line of tail.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) >= 50) return [entry.msg, entry.err?.message].filter(Boolean).join(': ');
    } catch {
      // A torn last line.
    }
  }
  return undefined;
}

function startNode(id: string, i: number): void {
  // The node logs straight into its file: it never waits on this process to read its output,
  // so it can log (and stop) after this process died.
  const logFd = openSync(logFile(id), 'a');
  const log = createWriteStream(logFile(id), { flags: 'a' });
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
      // exactly once (a node treats a second signal as "exit now"). The IPC channel ties each
      // node's life to this process (src/supervised.ts).
      detached: true,
      stdio: ['ignore', logFd, 'pipe', 'ipc'],
      env: {
        ...process.env,
        RAFT3D_CLUSTER_SECRET: process.env['RAFT3D_CLUSTER_SECRET'] ?? 'local-dev-secret',
      },
    },
  );
  closeSync(logFd);
  lastError.delete(id);
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    const line = chunk.toString().trim().split('\n').pop() ?? '';
    if (line !== '') lastError.set(id, line.replace(/^raft3d: /, ''));
    if (!stopping) process.stderr.write(`[${id}] ${chunk.toString()}`);
  });
  child.on('exit', (code, signal) => {
    children.delete(id);
    log.end();
    if (!stopping) {
      const restartAfter = Number(values['restart-after']);
      const reason = code !== 0 && signal === null ? (lastError.get(id) ?? loggedFailure(id)) : undefined;
      console.log(
        `${id} exited (${signal ?? `code ${code}`})${reason ? `: ${reason}` : ''}; see ${path.join(values.data, 'logs', `${id}.log`)}`,
      );
      if (signal !== null && restartAfter > 0) {
        console.log(`restarting ${id} from its data in ${restartAfter} s`);
        setTimeout(() => {
          if (stopping) return;
          startNode(id, i);
          console.log(`${id} restarted (pid ${children.get(id)?.pid ?? '?'})`);
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
      ids.forEach((id, i) =>
        console.log(
          `  ${id}  API ${apiUrl(i)}   peers 127.0.0.1:${peerBase + i}   pid ${children.get(id)?.pid ?? '-'}`,
        ),
      );
    }
    if (leader) {
      const pid = children.get(leader)?.pid;
      console.log(
        `leader: ${leader} (${apiUrl(leaderIndex)}, pid ${pid ?? '?'}), term ${statuses[leaderIndex]?.term ?? '?'}`,
      );
      if (!hinted) {
        hinted = true;
        console.log(`console: ${apiUrl(0)}/   (any node serves it)`);
        console.log(`cli:     npx raft3d status --endpoints ${ids.map((_, i) => apiUrl(i)).join(',')}`);
        console.log(
          `try:     curl -s ${apiUrl(0)}/api/v1/printers -H 'content-type: application/json' -d '{"company":"Prusa","model":"MK4"}'`,
        );
        console.log('stop:    Ctrl+C');
      }
      console.log(`failover demo: kill -9 ${pid ?? '<pid>'}   (the leader, ${leader})`);
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
  // Every member stops: a leader need not hand over to a follower that is stopping too.
  for (const child of children.values()) {
    if (child.connected) child.send(STOP_CLUSTER);
    else child.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(1);
  }, 15_000).unref();
}

process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
process.on('SIGHUP', stopAll);
// npm may exit on a signal without passing it on: once this process is re-parented (its
// parent is gone), stop the cluster as if told to.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stopAll();
}, 500).unref();

ids.forEach((id, i) => startNode(id, i));
console.log(`starting ${count} nodes...`);
const timer = setInterval(() => void watchLeader(), 500);
process.on('exit', () => clearInterval(timer));
