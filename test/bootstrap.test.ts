import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { BOOTSTRAP_FILE, BootstrapError, readBootstrap, resolveBootstrap } from '../src/bootstrap.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'raft3d-boot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('first boot records the configured voters; later boots keep them even if the setting changes', (t) => {
  const dir = tempDir(t);
  const warnings: string[] = [];
  t.deepEqual(
    resolveBootstrap(dir, ['a', 'b', 'c'], (m) => warnings.push(m)),
    ['a', 'b', 'c'],
  );
  t.deepEqual(readBootstrap(dir), ['a', 'b', 'c']);
  t.deepEqual(
    resolveBootstrap(dir, ['a', 'b', 'c', 'd', 'e'], (m) => warnings.push(m)),
    ['a', 'b', 'c'],
  );
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /differs from the one this member bootstrapped with/);
  t.deepEqual(
    resolveBootstrap(dir, ['c', 'b', 'a'], (m) => warnings.push(m)),
    ['a', 'b', 'c'],
    'order does not matter',
  );
  t.is(warnings.length, 1);
});

test('a damaged bootstrap record stops the member with a clear error', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, BOOTSTRAP_FILE), '{"version":1,"voters":[');
  t.throws(() => readBootstrap(dir), { instanceOf: BootstrapError, message: /not valid JSON/ });
  writeFileSync(path.join(dir, BOOTSTRAP_FILE), '{"version":2,"voters":["a"]}');
  t.throws(() => readBootstrap(dir), { instanceOf: BootstrapError, message: /version 1/ });
});
