import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { writeBootstrap } from '../../src/bootstrap.js';
import { initialClusterState } from '../../scripts/cluster-state.js';

const ids = ['n1', 'n2', 'n3'];

test('npm run cluster bootstraps only a fresh cluster; a member with an empty dir in an existing one joins', (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-cluster-state-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.deepEqual(
    ids.map((id) => initialClusterState(root, ids, id)),
    ['new', 'new', 'new'],
    'first start: nobody has data',
  );
  for (const id of ids) {
    mkdirSync(path.join(root, id));
    writeBootstrap(path.join(root, id), { id, voters: ids });
  }
  rmSync(path.join(root, 'n2'), { recursive: true }); // deleted by hand while the cluster ran
  t.is(initialClusterState(root, ids, 'n2'), 'existing');
  rmSync(path.join(root, 'n1'), { recursive: true });
  rmSync(path.join(root, 'n3'), { recursive: true });
  t.is(initialClusterState(root, ids, 'n2'), 'new', 'every data dir gone: it is a new cluster');
});
