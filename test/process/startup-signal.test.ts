// Issue 11, defect 7: SIGTERM while the node is still starting. In a container the node is
// PID 1, and the kernel gives PID 1 no default action for SIGTERM: a signal that arrives
// before a handler is installed is dropped, and `kubectl delete pod` then waits out the whole
// grace period. These tests run the node as PID 1 of its own PID namespace when the machine
// allows it (unshare --user --pid), as a plain child otherwise, and signal it mid-start.

import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FakeApiServer } from '../k8s/fake-api-server.js';
import { freePort, sleep } from '../helpers/process-cluster.js';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'main.ts');
const PID_NAMESPACES =
  spawnSync('unshare', ['--user', '--map-root-user', '--pid', '--fork', 'true'], { stdio: 'ignore' })
    .status === 0;

interface Started {
  readonly child: ChildProcess;
  /** The node process itself (PID 1 inside its namespace when PID_NAMESPACES). */
  nodePid(): number;
  output(): string;
  exit: Promise<{ code: number | null; at: number }>;
}

function startNode(
  t: { teardown(fn: () => void): void },
  env: Record<string, string>,
  args: string[],
): Started {
  const argv = [process.execPath, '--import=tsx', MAIN, ...args];
  const child = PID_NAMESPACES
    ? spawn('unshare', ['--user', '--map-root-user', '--pid', '--fork', '--kill-child', ...argv], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      })
    : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: performance.now() })),
  );
  t.teardown(() => child.kill('SIGKILL'));
  return {
    child,
    nodePid: () => {
      if (!PID_NAMESPACES) return child.pid!;
      // unshare --fork: the node is unshare's only child.
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
      return Number(children.split(/\s+/)[0]);
    },
    output: () => output,
    exit,
  };
}

async function waitFor(what: string, predicate: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A one-member cluster in Kubernetes mode, against the stand-in API server or `apiUrl`. */
async function k8sNode(t: { teardown(fn: () => void | Promise<void>): void }, apiUrl?: string) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-startsig-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const api = await new FakeApiServer('shop').start();
  t.teardown(() => api.close());
  const file = api.writeKubeconfig(path.join(root, 'kubeconfig'), apiUrl);
  api.setReplicas('raft3d', 1);
  api.addConfigMap('raft3d-members');
  api.addPod('raft3d-0', {});
  const env = {
    KUBECONFIG: file,
    RAFT3D_K8S: 'true',
    POD_NAME: 'raft3d-0',
    POD_NAMESPACE: 'shop',
    RAFT3D_CLUSTER_SECRET: 's',
    RAFT3D_ADMIN_TOKEN: 'a',
    RAFT3D_LOG_LEVEL: 'info',
  };
  const args = [
    `--api=127.0.0.1:${await freePort()}`,
    `--peer=127.0.0.1:${await freePort()}`,
    `--data=${path.join(root, 'data')}`,
  ];
  return { env, args };
}

test.serial(
  `SIGTERM while the node loads its state stops it at once with exit 0 (${PID_NAMESPACES ? 'as PID 1' : 'not PID 1: unshare unavailable'})`,
  async (t) => {
    t.timeout(60_000);
    const { env, args } = await k8sNode(t);
    const node = startNode(t, env, args);
    // "raft node starting" is logged while the node is still starting: its Raft state is loaded,
    // the API is not served yet.
    await waitFor('the node to be starting', () => node.output().includes('raft node starting'));
    const sent = performance.now();
    process.kill(node.nodePid(), 'SIGTERM');
    const exited = await Promise.race([node.exit, sleep(10_000).then(() => null)]);
    t.truthy(
      exited,
      `still running 10 s after SIGTERM (as PID 1 it ignored the signal)\n${node.output().slice(-2000)}`,
    );
    t.is(exited!.code, 0, node.output().slice(-2000));
    t.log(`exited ${Math.round(exited!.at - sent)} ms after SIGTERM`);
    t.true(exited!.at - sent < 3_000);
  },
);

test.serial(
  'SIGTERM while the node waits for an API server that never answers stops it at once',
  async (t) => {
    t.timeout(60_000);
    const hang = http.createServer(() => undefined); // accepts and never answers
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      hang.closeAllConnections();
      hang.close();
    });
    let requests = 0;
    hang.on('request', () => (requests += 1));
    const { env, args } = await k8sNode(t, `http://127.0.0.1:${(hang.address() as AddressInfo).port}`);
    const node = startNode(
      t,
      { ...env, RAFT3D_SECRET_NAME: 'raft3d-cluster', RAFT3D_CLUSTER_SECRET: '' },
      args,
    );
    await waitFor('the node to ask the API server', () => requests > 0);
    await sleep(300);
    const sent = performance.now();
    process.kill(node.nodePid(), 'SIGTERM');
    const exited = await Promise.race([node.exit, sleep(10_000).then(() => null)]);
    t.truthy(exited, `still running 10 s after SIGTERM\n${node.output().slice(-2000)}`);
    t.is(exited!.code, 0);
    t.regex(node.output(), /SIGTERM during start-up: stopping/);
    t.true(exited!.at - sent < 3_000, `${Math.round(exited!.at - sent)} ms`);
  },
);
