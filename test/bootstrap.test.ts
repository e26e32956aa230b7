import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { BOOTSTRAP_FILE, BootstrapError, readBootstrap, writeBootstrap } from '../src/bootstrap.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'raft3d-boot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the record keeps the member id and voters; a version 1 record has no id', (t) => {
  const dir = tempDir(t);
  t.is(readBootstrap(dir), null);
  writeBootstrap(dir, { id: 'n2~k3f9a2', voters: ['n1', 'n2', 'n3'] });
  t.deepEqual(readBootstrap(dir), { id: 'n2~k3f9a2', voters: ['n1', 'n2', 'n3'] });
  writeFileSync(path.join(dir, BOOTSTRAP_FILE), '{"version":1,"voters":["a","b"]}');
  t.deepEqual(readBootstrap(dir), { id: null, voters: ['a', 'b'] });
});

test('a damaged bootstrap record stops the member with a clear error', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, BOOTSTRAP_FILE), '{"version":1,"voters":[');
  t.throws(() => readBootstrap(dir), { instanceOf: BootstrapError, message: /not valid JSON/ });
  writeFileSync(path.join(dir, BOOTSTRAP_FILE), '{"version":3,"voters":["a"]}');
  t.throws(() => readBootstrap(dir), { instanceOf: BootstrapError, message: /version 1 or 2/ });
});
