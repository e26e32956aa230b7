// Issue 11, defect 2: a scale-down must take members out of the Raft configuration before
// their pods stop. Five real node processes in Kubernetes mode against the stand-in API
// server; the test plays the StatefulSet controller and the kubelet for `kubectl scale
// --replicas=1` (which bypasses the chart's refusal of big shrinks): for each pod it removes
// (raft3d-1..4, the leader among them, all at once as Parallel pod management does) it runs
// the chart's own preStop command (rendered by helm) with the pod's environment, and only
// when that returns sends SIGTERM. Each member must have left the configuration by then, the
// cluster must keep its quorum all the way down to one member, and nothing acknowledged may
// be lost. With the old hook (a leader hands over, then the pod stops) the pods were gone
// before the leader could remove them, and 5 -> 1 lost the quorum.

import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoadWriter, postJson, printerIds } from '../helpers/load.js';
import { ProcessCluster, sleep } from '../helpers/process-cluster.js';
import type { ProcessNode } from '../helpers/process-cluster.js';
import { FakeApiServer } from './fake-api-server.js';
import { ROOT, find, render } from './helm.js';

const ADMIN = 'admin-token';
const ids = ['raft3d-0', 'raft3d-1', 'raft3d-2', 'raft3d-3', 'raft3d-4'];

interface Config {
  voters: string[];
  learners: string[];
}

/** The chart's preStop command, made runnable here: `node /app/dist/x.js` runs src/x.ts with tsx. */
function preStopCommand(): string[] {
  const container = find(render(), 'StatefulSet')['spec'].template.spec.containers[0];
  const command = container.lifecycle.preStop.exec.command as string[];
  if (command[0] !== 'node') throw new Error(`unexpected preStop command ${command.join(' ')}`);
  return command.slice(1).flatMap((arg, i) => {
    if (i === 0 && arg.startsWith('/app/dist/'))
      return ['--import=tsx', path.join(ROOT, 'src', arg.slice('/app/dist/'.length).replace(/\.js$/, '.ts'))];
    return [arg];
  });
}

function runHook(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

async function leaderConfig(cluster: ProcessCluster, among: readonly string[]): Promise<Config | null> {
  for (const id of among) {
    const s = (await cluster.status(id)) as { leader?: string | null } | null;
    if (!s?.leader) continue;
    const leader = (await cluster.status(s.leader)) as { role?: string; config?: Config } | null;
    if (leader?.role === 'leader' && leader.config) return leader.config;
  }
  return null;
}

test('scaling 5 -> 1 at once: each removed pod leaves the configuration in its preStop hook, before SIGTERM', async (t) => {
  t.timeout(175_000);
  const api = await new FakeApiServer('shop').start();
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-scale-'));
  api.setReplicas('raft3d', 5);
  api.addConfigMap('raft3d-members');
  for (const id of ids) api.addPod(id, {});
  const kubernetes = {
    kubeconfig: api.writeKubeconfig(path.join(root, 'kubeconfig')),
    namespace: 'shop',
    statefulSet: 'raft3d',
  };
  const cluster = await ProcessCluster.start({
    size: 5,
    ids,
    kubernetes,
    tickMs: 50,
    extraEnv: { RAFT3D_ADMIN_TOKEN: ADMIN },
    logLevel: process.env['SCALE_DOWN_LOG'] ?? 'warn',
  });
  t.teardown(async () => {
    await cluster.stop();
    await api.close();
    rmSync(root, { recursive: true, force: true });
  });
  // The leader is one of the pods that go away: it must hand over and still be removed first.
  let moved = { status: 0, body: null as unknown };
  for (let attempt = 0; attempt < 20 && moved.status !== 200; attempt++) {
    const leader = await cluster.waitForLeader(60_000);
    if (leader.id === 'raft3d-4') break;
    moved = await postJson(`${leader.url}/cluster/transfer-leadership`, { to: 'raft3d-4' }, 10_000, {
      authorization: `Bearer ${ADMIN}`,
    }).catch(() => ({ status: 0, body: null, headers: new Headers() }));
  }
  moved = {
    status: (await cluster.waitForLeader(10_000)).id === 'raft3d-4' ? 200 : moved.status,
    body: moved.body,
  };
  t.is(moved.status, 200, JSON.stringify(moved.body));

  const staying = cluster.nodes.filter((n) => n.id === 'raft3d-0');
  const leaving = cluster.nodes.filter((n) => n.id !== 'raft3d-0');
  const writer = new LoadWriter(() => staying.map((n) => n.url), 'scale', 4);
  writer.start();
  await sleep(500);
  const hook = preStopCommand();
  const scaledAt = performance.now();
  api.setReplicas('raft3d', 1); // kubectl scale --replicas=1: the controller deletes raft3d-1..4 at once
  const stopPod = async (node: ProcessNode) => {
    const started = performance.now();
    const ran = await runHook(hook, {
      KUBECONFIG: kubernetes.kubeconfig,
      RAFT3D_K8S: 'true',
      POD_NAME: node.id,
      POD_NAMESPACE: 'shop',
      RAFT3D_STATEFULSET: 'raft3d',
      RAFT3D_PEER_SERVICE: 'raft3d-peers',
      RAFT3D_API_LISTEN: `127.0.0.1:${node.apiPort}`,
      // In a pod the members' API addresses are StatefulSet DNS names; here they are on loopback.
      RAFT3D_API_ADDRESSES: cluster.nodes.map((n) => `${n.id}=${n.url}`).join(','),
      // The chart gives the hook the grace period minus 10 s; generous here, where the machine may be busy.
      RAFT3D_PRESTOP_SECONDS: '90',
    });
    const config = await leaderConfig(cluster, ['raft3d-0']);
    const stillMember = config === null || [...config.voters, ...config.learners].includes(node.id);
    const code = await cluster.terminate(node.id); // the kubelet sends SIGTERM once the hook returns
    return { id: node.id, hookMs: performance.now() - started, stillMember, code, hookOutput: ran.output };
  };
  const stopped = await Promise.all(leaving.map(stopPod));
  await sleep(1000);
  const done = performance.now();
  await writer.stop();

  for (const s of stopped) {
    t.log(`${s.id}: preStop took ${Math.round(s.hookMs)} ms; ${s.hookOutput.trim().split('\n').at(-1)}`);
    t.false(
      s.stillMember,
      `${s.id} was still a member when it got SIGTERM\n${s.hookOutput}\n${cluster.dump()}`,
    );
    t.is(s.code, 0);
    t.regex(s.hookOutput, /is no longer a member; stopping/);
  }
  const config = await leaderConfig(cluster, ['raft3d-0']);
  t.deepEqual(config, { voters: ['raft3d-0'], learners: [] }, 'one member left, leading alone');
  const after = await postJson(`${cluster.node('raft3d-0').url}/api/v1/printers`, {
    id: 'after',
    company: 'A',
    model: 'B',
  });
  t.is(after.status, 201, 'the last member still has its quorum');
  const gap = writer.longestGap(scaledAt, done);
  t.log(`${writer.acks.length} writes acknowledged; longest gap during the scale-down ${Math.round(gap)} ms`);
  t.true(gap < 5_000, `writes stalled for ${Math.round(gap)} ms`);
  for (const node of staying) {
    const have = await printerIds(node.url);
    t.deepEqual(
      writer.acks.filter((a) => !have.has(a.id)).map((a) => a.id),
      [],
      `${node.id} lost acknowledged writes`,
    );
  }
});
