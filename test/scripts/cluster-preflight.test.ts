import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { writeBootstrap } from '../../src/bootstrap.js';
import { memberMismatch, portsInUse } from '../../scripts/cluster-preflight.js';

test('data of a 3-node cluster is accepted for --nodes 3 only', (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-preflight-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const three = ['n1', 'n2', 'n3'];
  t.is(memberMismatch(root, 'data', three), null, 'no data yet');
  for (const id of three) {
    mkdirSync(path.join(root, id));
    writeBootstrap(path.join(root, id), { id, voters: three });
  }
  t.is(memberMismatch(root, 'data', three), null);
  // n4 and n5 would start with n1..n5 as the cluster's first configuration: two voters
  // the others never had.
  t.regex(
    memberMismatch(root, 'data', [...three, 'n4', 'n5']) ?? '',
    /3-member cluster \(n1, n2, n3\); --nodes 5 would add n4, n5 beside them\. Run with --nodes 3.*--fresh/,
  );
  t.regex(
    memberMismatch(root, 'data', ['n1']) ?? '',
    /3-member cluster \(n1, n2, n3\); --nodes 1 would leave out n2, n3.*--fresh/,
  );
  rmSync(path.join(root, 'n2'), { recursive: true });
  t.is(memberMismatch(root, 'data', three), null, 'a wiped member is still one of the three');
});

test('a member that never started does not count as a cluster of another size', (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-preflight-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'n1'));
  writeBootstrap(path.join(root, 'n1'), { id: 'n1', voters: ['n1', 'n2', 'n3'] });
  mkdirSync(path.join(root, 'n2')); // created, never bootstrapped
  t.is(memberMismatch(root, 'data', ['n1', 'n2', 'n3']), null);
});

test('a port something listens on is reported as in use', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  t.regex((await portsInUse('127.0.0.1', [port])) ?? '', new RegExp(`port ${port} on 127.0.0.1 is in use`));
  server.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(await portsInUse('127.0.0.1', [port]), null);
});
