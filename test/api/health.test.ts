// A node whose storage fails stops serving (rather than risk safety): /healthz turns 503
// so the orchestrator restarts it, /readyz too, and writes are refused.

import test from 'ava';
import type { AddressInfo } from 'node:net';
import { createApiServer, createApp, startShopNode } from '../../src/api/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import type { SaveBatch } from '../../src/storage/index.js';
import { InProcessHub, InProcessTransport } from '../../src/transport/index.js';
import { assertProblem, get, post } from './client.js';
import { InProcessCluster, sleep } from '../helpers/in-process-cluster.js';

class FailingStorage extends MemoryStorage {
  broken = false;
  override async save(batch: SaveBatch): Promise<void> {
    if (this.broken) throw new Error('disk on fire');
    return super.save(batch);
  }
}

test('a storage failure makes /healthz and /readyz answer 503 and writes fail', async (t) => {
  const storage = new FailingStorage();
  const node = await startShopNode({
    id: 'h1',
    initialVoters: ['h1'],
    storage,
    transport: new InProcessTransport(new InProcessHub(), 'h1'),
    tickMs: 10,
  });
  const app = createApp({ node });
  const server = createApiServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    server.close();
    await app.closeApp();
    await node.stop();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (let i = 0; i < 200 && !node.isLeader(); i++) await sleep(10);
  t.is((await post(base, '/api/v1/printers', { company: 'A', model: 'B' })).status, 201);
  t.is((await get(base, '/healthz')).status, 200);
  storage.broken = true;
  const write = await post(base, '/api/v1/printers', { company: 'A', model: 'C' });
  assertProblem(t, write, 503, 'node_stopped');
  assertProblem(t, await get(base, '/healthz'), 503, 'unhealthy');
  assertProblem(t, await get(base, '/readyz'), 503, 'not_ready');
  t.false(node.isHealthy());
});

test('a first boot without initial voters is refused', async (t) => {
  await t.throwsAsync(
    startShopNode({
      id: 'j1',
      initialVoters: [],
      storage: new MemoryStorage(),
      transport: new InProcessTransport(new InProcessHub(), 'j1'),
    }),
    { message: /initial voters/ },
  );
});

test('a snapshot that cannot be stored stops the node like any storage failure', async (t) => {
  class SnapshotFailingStorage extends MemoryStorage {
    override async saveSnapshot(): Promise<void> {
      throw new Error('snapshot disk full');
    }
  }
  const node = await startShopNode({
    id: 's1',
    initialVoters: ['s1'],
    storage: new SnapshotFailingStorage(),
    transport: new InProcessTransport(new InProcessHub(), 's1'),
    tickMs: 10,
    snapshotEvery: 10,
    seed: 7,
  });
  t.teardown(() => node.stop());
  for (let i = 0; i < 200 && !node.isLeader(); i++) await sleep(10);
  let refused: unknown = null;
  for (let i = 0; i < 40 && refused === null; i++) {
    try {
      await node.propose({
        type: 'printer.create',
        at: 1,
        printer: { id: `s${i}`, company: 'A', model: 'B' },
      });
    } catch (error) {
      refused = error;
    }
    // The snapshot is stored in the background: give it a turn.
    await sleep(1);
  }
  t.like(refused, { code: 'node_stopped' });
  t.false(node.isHealthy());
});

test('a member whose storage failed neither forwards writes nor serves leader reads from its stopped state', async (t) => {
  const cluster = await InProcessCluster.start({ size: 3, tickMs: 10, seed: 11 });
  t.teardown(() => cluster.stop());
  const leader = (await cluster.waitForLeader()).id;
  const printer = (model: string): Record<string, string> => ({ company: 'Prusa', model });
  const breakDisk = (id: string): void => {
    cluster.member(id).storage.save = () => Promise.reject(new Error('ENOSPC: no space left on device'));
  };
  const untilStopped = async (id: string): Promise<void> => {
    for (let i = 0; i < 200 && cluster.node(id).isHealthy(); i++) await sleep(10);
    t.false(cluster.node(id).isHealthy(), `${id} stopped`);
  };

  // A follower: the next append it must store stops its loop; it must not keep forwarding.
  const follower = cluster.followers(leader).at(0)!.id;
  breakDisk(follower);
  t.is((await post(cluster.url(leader), '/api/v1/printers', printer('a'))).status, 201);
  await untilStopped(follower);
  assertProblem(t, await post(cluster.url(follower), '/api/v1/printers', printer('b')), 503, 'unhealthy');

  // The leader: it still believes it leads, but its state stopped where its disk did.
  breakDisk(leader);
  await post(cluster.url(leader), '/api/v1/printers', printer('c'));
  await untilStopped(leader);
  assertProblem(t, await get(cluster.url(leader), '/api/v1/printers?consistency=leader'), 503, 'unhealthy');
});
