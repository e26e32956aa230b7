import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
