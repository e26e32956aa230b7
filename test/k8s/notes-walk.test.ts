// The NOTES.txt flow, walked step by step against a local StatefulSet emulation: the chart's
// own NOTES (helm install --dry-run), run by bash with the real kubectl against the stand-in
// API server (get pods -l ... -o jsonpath, get secret, delete pod) and an emulated
// `kubectl port-forward` / `rollout status` (test/k8s/kubectl-shim); three real node
// processes in Kubernetes mode that label their pods and fill in the cluster Secret; and this
// test playing kubelet + StatefulSet controller (a deleted pod gets SIGTERM, then comes back
// with the same name and volume). Issue 11 defects 3 and 8: the documented failover demo must
// not cut its own port-forward, and the jsonpath must not exit silently.

import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProcessCluster, freePort, sleep } from '../helpers/process-cluster.js';
import { FakeApiServer } from './fake-api-server.js';
import { CHART, ROOT, helm } from './helm.js';

const SHIM = path.join(ROOT, 'test/k8s/kubectl-shim');
const APP = { 'app.kubernetes.io/instance': 'raft3d', 'app.kubernetes.io/name': 'raft3d' };
const ids = ['raft3d-0', 'raft3d-1', 'raft3d-2'];

/** The numbered steps of the rendered NOTES, as shell command lines (prose dropped). */
function notesSteps(): Map<number, string[]> {
  const result = helm(['install', 'raft3d', CHART, '--dry-run=client', '-n', 'shop']);
  const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
  const steps = new Map<number, string[]>();
  let step = 0;
  let continued = false;
  for (const line of notes.split('\n')) {
    const heading = /^(\d+)\. /.exec(line);
    if (heading) {
      step = Number(heading[1]);
      steps.set(step, []);
      continue;
    }
    const command =
      /^ {2}(kubectl|curl|export|echo|POD=|LEADER=|\[|for) /.test(line) || /^ {2}(POD|LEADER)=/.test(line);
    if (step > 0 && (command || continued)) steps.get(step)!.push(line.trim());
    continued = (command || continued) && line.endsWith('\\');
  }
  return steps;
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

test('the NOTES flow works as written: port-forward to a follower survives deleting the leader', async (t) => {
  t.timeout(170_000);
  const api = await new FakeApiServer('shop').start();
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-notes-'));
  api.setReplicas('raft3d', 3, 'raft3d');
  api.addConfigMap('raft3d-members');
  api.addSecret('raft3d-cluster'); // rendered without data: the first member fills it in
  for (const id of ids) api.addPod(id, APP);
  const kubeconfig = api.writeKubeconfig(path.join(root, 'kubeconfig'));
  const cluster = await ProcessCluster.start({
    size: 3,
    ids,
    tickMs: 50,
    kubernetes: { kubeconfig, namespace: 'shop', statefulSet: 'raft3d' },
    extraEnv: { RAFT3D_CLUSTER_SECRET: '', RAFT3D_SECRET_NAME: 'raft3d-cluster' },
  });
  const deletions: string[] = [];
  // kubelet + StatefulSet controller: SIGTERM the deleted pod, then recreate it (same name, same volume).
  api.onPodDeleted = (name) => {
    deletions.push(name);
    void cluster.terminate(name).then(() => {
      api.addPod(name, APP);
      cluster.startNode(name);
    });
  };
  t.teardown(async () => {
    await cluster.stop();
    await api.close();
    rmSync(root, { recursive: true, force: true });
  });

  const pfPort = await freePort();
  const env = {
    PATH: `${SHIM}:${path.join(ROOT, '.tools/bin')}:${process.env['PATH']}`,
    REAL_KUBECTL: path.join(ROOT, '.tools/bin/kubectl'),
    KUBECONFIG: kubeconfig,
    FAKE_API: `http://127.0.0.1:${api.port}`,
    NAMESPACE: 'shop',
    PODS: JSON.stringify(Object.fromEntries(cluster.nodes.map((n) => [n.id, n.apiPort]))),
    SERVICES: JSON.stringify({
      raft3d: 'app.kubernetes.io/instance=raft3d',
      'raft3d-leader': 'raft3d.io/role=leader',
    }),
  };
  const local = (line: string) =>
    line.replaceAll('localhost:8080', `localhost:${pfPort}`).replace(/ 8080:(\d+) &$/, ` ${pfPort}:$1 &`);
  // What a person does after starting a forward in the background: wait until it answers.
  const ready = `for i in $(seq 1 100); do curl -s -o /dev/null localhost:${pfPort}/healthz && break; sleep 0.1; done`;
  const steps = notesSteps();
  t.true(steps.size >= 4, [...steps.keys()].join(','));

  // Steps 1-4 in one shell, as a person pastes them; probes (marked ##) report what happened.
  const script = [
    'set -u',
    ...steps.get(1)!,
    ...steps.get(2)!,
    'echo "## token ${#RAFT3D_TOKEN}"',
    ...steps
      .get(3)!
      .map(local)
      .flatMap((l) => (l.endsWith(' &') ? [l, 'PF=$!', ready] : [l])),
    `echo "## snapshot without token $(curl -s -o /dev/null -w '%{http_code}' -X POST localhost:${pfPort}/cluster/snapshot)"`,
    `echo "## snapshot with token $(curl -s -o /dev/null -w '%{http_code}' -X POST -H "authorization: Bearer $RAFT3D_TOKEN" localhost:${pfPort}/cluster/snapshot)"`,
    ...steps.get(4)!.map(local),
    'echo "## forward alive $(kill -0 $PF 2>/dev/null && echo yes || echo no)"',
    'kill $PF',
  ].join('\n');
  const walk = await bash(script, env);
  if (process.env['NOTES_WALK_VERBOSE']) t.log(`script:\n${script}\n\noutput:\n${walk.out}`);
  t.log(
    walk.out
      .split('\n')
      .filter((l) => l.startsWith('##') || /^(\d{3} )+/.test(l))
      .join('\n'),
  );
  t.is(walk.code, 0, walk.out);
  t.regex(walk.out, /## token 48\b/, 'step 2 reads the admin token the first member generated');
  t.regex(walk.out, /"id":"[^"]+","company":"Prusa","model":"MK4"/, 'step 3 writes through the forward');
  t.regex(walk.out, /## snapshot without token 401/);
  t.regex(walk.out, /## snapshot with token 200/);
  t.is(deletions.length, 1, 'step 4 deleted one pod, the leader');
  const codes = (/^((?:\d{3} )+)$/m.exec(walk.out)?.[1] ?? '').trim().split(' ');
  t.is(codes.length, 20, walk.out);
  t.true(
    codes.filter((c) => c === '201').length >= 15,
    `writes through the forward during failover: ${codes.join(' ')}`,
  );
  t.is(codes.at(-1), '201', 'writes go on after the failover');
  t.regex(walk.out, /## forward alive yes/, 'the port-forward to the follower survived deleting the leader');

  // The flow the NOTES used to give (forward the leader Service, then delete the leader) cuts
  // its own forward: the emulation reproduces it, which is why the NOTES changed.
  await sleep(2_000);
  const old = await bash(
    [
      `kubectl -n shop port-forward svc/raft3d-leader ${pfPort}:8080 & PF=$!`,
      ready,
      `echo "## before $(curl -s -o /dev/null -w '%{http_code}' localhost:${pfPort}/cluster/status)"`,
      "LEADER=$(kubectl -n shop get pods -l app.kubernetes.io/instance=raft3d,raft3d.io/role=leader -o jsonpath='{.items[0].metadata.name}')",
      'kubectl -n shop delete pod "$LEADER"; sleep 1',
      `echo "## after $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 localhost:${pfPort}/cluster/status)"`,
      'echo "## old forward alive $(kill -0 $PF 2>/dev/null && echo yes || echo no)"',
    ].join('\n'),
    env,
  );
  if (process.env['NOTES_WALK_VERBOSE']) t.log(`the 0.1.0 flow:\n${old.out}`);
  t.regex(old.out, /## before 200/);
  t.regex(old.out, /## after 000/, old.out);
  t.regex(old.out, /## old forward alive no/);
  t.regex(old.out, /lost connection to pod/);
});

test('the failover jsonpath says why when no pod is labelled, where the old one exited without a word', async (t) => {
  const api = await new FakeApiServer('shop').start();
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-notes-'));
  t.teardown(async () => {
    await api.close();
    rmSync(root, { recursive: true, force: true });
  });
  for (const id of ids) api.addPod(id, APP); // started, not labelled yet
  const env = {
    PATH: `${path.join(ROOT, '.tools/bin')}:${process.env['PATH']}`,
    KUBECONFIG: api.writeKubeconfig(path.join(root, 'kubeconfig')),
  };
  const lines = notesSteps().get(4)!;
  const leaderLines = lines.slice(0, 2); // LEADER=$(...) and its echo ${LEADER:?...}
  const now = await bash(['set -e', ...leaderLines, 'echo reached'].join('\n'), env);
  t.not(now.code, 0);
  t.regex(now.out, /no member is labelled leader right now/);
  t.notRegex(now.out, /reached/);
  const before = await bash(
    [
      'set -euo pipefail',
      "LEADER=$(kubectl -n shop get pods -l app.kubernetes.io/instance=raft3d,raft3d.io/role=leader -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)",
      'echo reached',
    ].join('\n'),
    env,
  );
  t.not(before.code, 0);
  t.is(before.out.trim(), '', 'the old probe stopped the script with no message at all');
});
