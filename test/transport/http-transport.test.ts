// HttpTransport on 127.0.0.1 (ports from the OS): delivery of every message type and of
// multi-MB snapshots, authentication, isolation of a dead peer, reconnection, bounded
// queues.

import { createServer as createTcpServer } from 'node:net';
import type { Server as TcpServer, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Message, NodeId } from '../../src/raft/messages.js';
import { HttpTransport } from '../../src/transport/index.js';
import type { HttpTransportOptions, UnauthorizedRequest } from '../../src/transport/index.js';
import { encodeBatch } from '../../src/transport/codec.js';
import { frame, openStream, StreamRefusedError } from '../../src/transport/message-stream.js';
import { everyMessage } from './fixtures.js';

const SECRET = 'test-secret';

interface Node {
  id: NodeId;
  tr: HttpTransport;
  inbox: Message[];
  addr: string;
  warnings: string[];
  refused: UnauthorizedRequest[];
}

async function startNode(
  t: ExecutionContext,
  id: NodeId,
  extra: Partial<HttpTransportOptions> = {},
  port = 0,
): Promise<Node> {
  const inbox: Message[] = [];
  const warnings: string[] = [];
  const refused: UnauthorizedRequest[] = [];
  const tr = new HttpTransport({
    id,
    listen: { host: '127.0.0.1', port },
    peers: new Map(),
    secret: SECRET,
    logger: { info: () => undefined, warn: (_f, msg) => warnings.push(msg) },
    onUnauthorized: (r) => refused.push(r),
    ...extra,
  });
  await tr.start((m) => inbox.push(m));
  t.teardown(() => tr.close());
  return { id, tr, inbox, addr: `127.0.0.1:${tr.address().port}`, warnings, refused };
}

/** Starts nodes that all know each other. */
async function mesh(
  t: ExecutionContext,
  ids: NodeId[],
  extra: Partial<HttpTransportOptions> = {},
): Promise<Node[]> {
  const nodes = await Promise.all(ids.map((id) => startNode(t, id, extra)));
  for (const a of nodes) for (const b of nodes) if (a !== b) a.tr.setPeer(b.id, b.addr);
  return nodes;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const hb = (from: NodeId, to: NodeId, commit: number): Message => ({
  type: 'heartbeat',
  from,
  to,
  term: 1,
  commit,
  context: '',
});

/** A TCP server that accepts connections and never answers: the worst kind of dead peer. */
async function blackHole(t: ExecutionContext): Promise<string> {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const a = server.address();
  return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

test('three nodes exchange every message type, in order, with binary entry data intact', async (t) => {
  const [a, b, c] = await mesh(t, ['a', 'b', 'c']);
  if (!a || !b || !c) return t.fail();
  const toB = everyMessage.map((m) => ({ ...m, from: 'a', to: 'b' }) as Message);
  const toC = everyMessage.map((m) => ({ ...m, from: 'a', to: 'c' }) as Message);
  a.tr.send([...toB, ...toC]);
  c.tr.send([hb('c', 'b', 5)]);
  await until('all messages', () => b.inbox.length === toB.length + 1 && c.inbox.length === toC.length);
  await until('acknowledgements', () => a.tr.stats()['b']?.sent === toB.length);
  // Snapshots travel on their own lane; everything else keeps its order.
  const notSnapshot = (m: Message): boolean => m.type !== 'snapshot';
  t.deepEqual(
    b.inbox.filter((m) => m.from === 'a' && notSnapshot(m)),
    toB.filter(notSnapshot),
  );
  t.deepEqual(
    b.inbox.filter((m) => m.type === 'snapshot'),
    toB.filter((m) => !notSnapshot(m)),
  );
  t.deepEqual(
    b.inbox.filter((m) => m.from === 'c'),
    [hb('c', 'b', 5)],
  );
  t.deepEqual(c.inbox.filter(notSnapshot), toC.filter(notSnapshot));
  t.deepEqual(
    c.inbox.filter((m) => !notSnapshot(m)),
    toC.filter((m) => !notSnapshot(m)),
  );
});

function bigSnapshot(from: NodeId, to: NodeId, bytes: number): Message {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return {
    type: 'snapshot',
    from,
    to,
    term: 3,
    snapshot: {
      meta: {
        index: 5000,
        term: 3,
        config: { voters: [from, to], learners: [] },
        configContext: { [to]: 'x' },
      },
      data,
    },
  };
}

test('a multi-megabyte snapshot is streamed in chunks and reassembled intact', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b'], { snapshotChunkBytes: 256 * 1024 });
  if (!a || !b) return t.fail();
  const snapshot = bigSnapshot('a', 'b', 12 * 1024 * 1024 + 123);
  if (snapshot.type !== 'snapshot') return t.fail();
  a.tr.send([hb('a', 'b', 1), snapshot, hb('a', 'b', 2)]);
  await until('snapshot', () => b.inbox.length === 3, 20_000);
  t.deepEqual(
    b.inbox.filter((m) => m.type === 'heartbeat'),
    [hb('a', 'b', 1), hb('a', 'b', 2)],
  );
  const got = b.inbox.find((m) => m.type === 'snapshot');
  if (got?.type !== 'snapshot') return t.fail();
  t.deepEqual(got.snapshot.meta, snapshot.snapshot.meta);
  t.is(got.snapshot.data.length, snapshot.snapshot.data.length);
  t.true(Buffer.from(got.snapshot.data).equals(Buffer.from(snapshot.snapshot.data)));
  await until('acknowledgement', () => a.tr.stats()['b']?.sent === 3);
});

test('a snapshot in transit does not hold up heartbeats to the same peer', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b'], { snapshotChunkBytes: 64 * 1024 });
  if (!a || !b) return t.fail();
  a.tr.send([hb('a', 'b', 1)]);
  await until('warm-up', () => b.inbox.length === 1);
  a.tr.send([bigSnapshot('a', 'b', 48 * 1024 * 1024)]);
  a.tr.send([hb('a', 'b', 2)]);
  await until('snapshot', () => b.inbox.length === 3, 30_000);
  t.deepEqual(
    b.inbox.map((m) => m.type),
    ['heartbeat', 'heartbeat', 'snapshot'],
  );
});

test('a stream without the right secret is refused with 401, and the warning is rate-limited', async (t) => {
  const [b] = await mesh(t, ['b']);
  if (!b) return t.fail();
  b.tr.setPeer('a', '127.0.0.1:1');
  const headers = { 'x-raft3d-from': 'a' };
  const missing = await t.throwsAsync(openStream(b.addr, headers, 2000), { instanceOf: StreamRefusedError });
  t.is(missing?.status, 401);
  for (let i = 0; i < 5; i++) {
    const wrong = await t.throwsAsync(
      openStream(b.addr, { ...headers, authorization: 'Bearer nope' }, 2000),
      {
        instanceOf: StreamRefusedError,
      },
    );
    t.is(wrong?.status, 401);
  }
  const right = await openStream(b.addr, { ...headers, authorization: `Bearer ${SECRET}` }, 2000);
  right.end(frame(encodeBatch([])));
  t.is(b.refused.filter((r) => r.reason === 'secret').length, 6);
  t.is(b.warnings.filter((w) => /bad cluster secret/.test(w)).length, 1);
  // A plain request to the stream route is told to upgrade; snapshots still need the secret.
  t.is((await fetch(`http://${b.addr}/raft/stream`)).status, 426);
  t.is((await fetch(`http://${b.addr}/raft/snapshot`, { method: 'POST', headers, body: 'x' })).status, 401);
  t.deepEqual(b.inbox, []);
});

test('a transport with the wrong secret gets nothing delivered', async (t) => {
  const [b] = await mesh(t, ['b']);
  const a = await startNode(t, 'a', { secret: 'other' });
  if (!b) return t.fail();
  a.tr.setPeer('b', b.addr);
  b.tr.setPeer('a', a.addr);
  a.tr.send([hb('a', 'b', 1)]);
  await until('a failure', () => (a.tr.stats()['b']?.failed ?? 0) > 0);
  t.deepEqual(b.inbox, []);
  t.true(a.warnings.some((w) => /refused/.test(w)));
});

test('messages from an id that is not a known peer are refused with 403', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b']);
  const stranger = await startNode(t, 'x');
  if (!a || !b) return t.fail();
  stranger.tr.setPeer('b', b.addr);
  stranger.tr.send([hb('x', 'b', 1)]);
  await until('x to fail', () => (stranger.tr.stats()['b']?.failed ?? 0) > 0);
  t.deepEqual(b.inbox, []);
  t.true(b.refused.some((r) => r.reason === 'peer' && r.from === 'x'));
  t.true(b.warnings.some((w) => /not a known member/.test(w)));
  // A known header does not let a message claim another sender inside the stream: it is closed.
  const forged = await openStream(b.addr, { authorization: `Bearer ${SECRET}`, 'x-raft3d-from': 'a' }, 2000);
  const closed = new Promise((resolve) => forged.on('close', resolve));
  forged.on('error', () => undefined);
  forged.resume();
  forged.write(frame(encodeBatch([hb('x', 'b', 1)])));
  await closed;
  t.deepEqual(b.inbox, []);
  // After removePeer, a former member is refused too: its open stream is closed at the next
  // message, and reconnecting is refused with 403.
  b.tr.removePeer('a');
  await until('a to fail', () => {
    a.tr.send([hb('a', 'b', 2)]);
    return (a.tr.stats()['b']?.failed ?? 0) > 0;
  });
  t.deepEqual(b.inbox, []);
});

test('an incarnation of a known peer is reached where that peer runs, and no other stranger is', async (t) => {
  // A member joining an existing cluster knows the first configuration (a, b); its leader may
  // be an incarnation (a~k3f9a2) that no configuration it has applied names yet.
  const runsAs = (id: NodeId): NodeId | null => (id.includes('~') ? id.slice(0, id.indexOf('~')) : null);
  const joiner = await startNode(t, 'b~q7w2e9', { runsAs });
  const leader = await startNode(t, 'a~k3f9a2');
  const stranger = await startNode(t, 'c~x1y2z3');
  joiner.tr.setPeer('a', leader.addr); // from the first configuration: a ran where a~k3f9a2 runs
  leader.tr.setPeer('b~q7w2e9', joiner.addr);
  stranger.tr.setPeer('b~q7w2e9', joiner.addr);
  leader.tr.send([hb('a~k3f9a2', 'b~q7w2e9', 1)]);
  await until('the joiner to hear the leader', () => joiner.inbox.length === 1);
  t.is(joiner.inbox[0]?.from, 'a~k3f9a2');
  // The answer goes to the address of the member it runs as.
  joiner.tr.send([hb('b~q7w2e9', 'a~k3f9a2', 1)]);
  await until('the leader to hear the answer', () => leader.inbox.length === 1);
  // c is no member this node knows: its incarnation is refused.
  stranger.tr.send([hb('c~x1y2z3', 'b~q7w2e9', 1)]);
  await until('the stranger to fail', () => (stranger.tr.stats()['b~q7w2e9']?.failed ?? 0) > 0);
  t.true(joiner.refused.some((r) => r.reason === 'peer' && r.from === 'c~x1y2z3'));
  t.is(joiner.inbox.length, 1);
  // Without runsAs (the default) an incarnation is a stranger like any other.
  const strict = await startNode(t, 'd');
  strict.tr.setPeer('a', leader.addr);
  leader.tr.setPeer('d', strict.addr);
  leader.tr.send([hb('a~k3f9a2', 'd', 1)]);
  await until('the leader to fail', () => (leader.tr.stats()['d']?.failed ?? 0) > 0);
  t.deepEqual(strict.inbox, []);
});

// Serial: timing is measured, so no other test in this file may hog the event loop meanwhile.
test.serial('a dead peer does not delay delivery to a live one', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b']);
  if (!a || !b) return t.fail();
  a.tr.setPeer('dead', await blackHole(t));
  a.tr.setPeer('gone', '127.0.0.1:1'); // connection refused
  // Warm up the connection to b, then measure round after round while 'dead' hangs.
  a.tr.send([hb('a', 'b', 0)]);
  await until('warm-up', () => b.inbox.length === 1);
  const latencies: number[] = [];
  for (let i = 1; i <= 50; i++) {
    const sent = performance.now();
    a.tr.send([hb('a', 'dead', i), hb('a', 'gone', i), hb('a', 'b', i), hb('a', 'dead', i)]);
    await until(`message ${i}`, () => b.inbox.length === i + 1);
    latencies.push(performance.now() - sent);
  }
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? Infinity;
  t.log(
    `delivery to the live peer while another hangs: p50 ${latencies[25]?.toFixed(2)} ms, max ${p99.toFixed(2)} ms`,
  );
  t.true(p99 < 250, `max latency ${p99} ms`);
  t.is(a.tr.stats()['dead']?.sent, 0);
  t.true((a.tr.stats()['gone']?.consecutiveFailures ?? 0) > 0);
});

test('a full queue drops the oldest messages and counts them', async (t) => {
  const a = await startNode(t, 'a', { maxQueue: 10 });
  a.tr.setPeer('dead', await blackHole(t));
  a.tr.send([hb('a', 'dead', 0)]); // waits in the queue: the stream never finishes its handshake
  a.tr.send(Array.from({ length: 99 }, (_, i) => hb('a', 'dead', i + 1)));
  const s = a.tr.stats()['dead'];
  t.is(s?.queued, 10);
  t.is(s?.dropped, 90);
  t.true(a.warnings.some((w) => /queue full/.test(w)));
});

test('a sender reconnects after its peer restarts on the same address', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b'], { backoffCapMs: 200 });
  if (!a || !b) return t.fail();
  a.tr.send([hb('a', 'b', 1)]);
  await until('first delivery', () => b.inbox.length === 1);
  const port = b.tr.address().port;
  await b.tr.close();
  // While b is down, a keeps trying and backs off.
  for (let i = 2; i < 6; i++) {
    a.tr.send([hb('a', 'b', i)]);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.true((a.tr.stats()['b']?.failed ?? 0) > 0);
  const b2 = await startNode(t, 'b', { backoffCapMs: 200 }, port);
  b2.tr.setPeer('a', a.addr);
  const restarted = performance.now();
  let n = 100;
  while (b2.inbox.length === 0) {
    a.tr.send([hb('a', 'b', n++)]);
    await new Promise((r) => setTimeout(r, 10));
    if (performance.now() - restarted > 5000) return t.fail('no delivery within 5 s of the restart');
  }
  t.log(`delivered ${(performance.now() - restarted).toFixed(0)} ms after the restart`);
  await until('the sender to see success', () => a.tr.stats()['b']?.consecutiveFailures === 0);
});

/**
 * A peer that completes the stream handshake, reads every frame and never acknowledges one:
 * what a connection stuck in TCP retransmission back-off looks like to its sender.
 */
async function silentPeer(t: ExecutionContext): Promise<{ addr: string; connections: () => number }> {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((s) => {
    sockets.push(s);
    s.once('data', () =>
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: raft3d-stream/2\r\nConnection: Upgrade\r\n\r\n'),
    );
    s.resume();
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const a = server.address();
  return { addr: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, connections: () => sockets.length };
}

test('a stream whose frames go unacknowledged is dropped and reopened after the silence timeout', async (t) => {
  const a = await startNode(t, 'a', { silenceMs: 150, backoffCapMs: 50 });
  const peer = await silentPeer(t);
  a.tr.setPeer('b', peer.addr);
  const started = performance.now();
  let i = 0;
  while (peer.connections() < 3) {
    a.tr.send([hb('a', 'b', i++)]);
    await new Promise((r) => setTimeout(r, 20));
    if (performance.now() - started > 3000) return t.fail(`${peer.connections()} connection(s) in 3 s`);
  }
  const elapsed = performance.now() - started;
  t.log(`3 connections in ${elapsed.toFixed(0)} ms with a 150 ms silence timeout`);
  t.true(elapsed >= 2 * 150, 'a stream is given the whole silence timeout');
  t.true(a.warnings.some((w) => /reconnecting/.test(w)));
});

// Serial: both ends share this process's event loop, and a stall elsewhere would delay the acks.
test.serial('an acknowledged stream stays open however long it runs', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b'], { silenceMs: 200 });
  if (!a || !b) return t.fail();
  for (let i = 1; i <= 60; i++) {
    a.tr.send([hb('a', 'b', i)]);
    await new Promise((r) => setTimeout(r, 10));
  }
  await until('every heartbeat', () => b.inbox.length === 60);
  t.deepEqual(a.warnings, []);
  t.is(a.tr.stats()['b']?.failed, 0);
});

test('close() stops the server and the senders', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b']);
  if (!a || !b) return t.fail();
  await a.tr.close();
  await t.throwsAsync(fetch(`http://${a.addr}/raft/snapshot`, { method: 'POST' }));
  a.tr.send([hb('a', 'b', 1)]);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(b.inbox, []);
});

test.serial('many entries flow through one link quickly (batched, binary)', async (t) => {
  const [a, b] = await mesh(t, ['a', 'b']);
  if (!a || !b) return t.fail();
  const payload = new Uint8Array(200).fill(42);
  const rounds = 200;
  const perAppend = 100;
  let received = 0;
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    const entries = Array.from({ length: perAppend }, (_, i) => ({
      index: r * perAppend + i + 1,
      term: 1,
      type: 'command' as const,
      data: payload,
    }));
    a.tr.send([
      {
        type: 'append',
        from: 'a',
        to: 'b',
        term: 1,
        prevIndex: r * perAppend,
        prevTerm: 1,
        commit: 0,
        entries,
      },
    ]);
    if (r % 20 === 0) await new Promise((res) => setImmediate(res));
  }
  await until(
    'all appends',
    () => {
      received = b.inbox.reduce((n, m) => n + (m.type === 'append' ? m.entries.length : 0), 0);
      return received === rounds * perAppend;
    },
    20_000,
  );
  const seconds = (performance.now() - started) / 1000;
  t.log(`${received} entries in ${seconds.toFixed(3)} s = ${Math.round(received / seconds)} entries/s`);
  t.true(received / seconds > 10_000);
});
