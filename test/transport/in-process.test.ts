// InProcessTransport: asynchronous, ordered delivery through a hub, copies instead of
// shared objects, and the partitions tests use to script failures.

import test from 'ava';
import type { Message, NodeId } from '../../src/raft/messages.js';
import { InProcessHub, InProcessTransport } from '../../src/transport/index.js';

const hb = (from: NodeId, to: NodeId, commit = 0): Message => ({
  type: 'heartbeat',
  from,
  to,
  term: 1,
  commit,
  context: '',
});
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function cluster(
  ids: NodeId[],
): Promise<{ hub: InProcessHub; nodes: Map<NodeId, InProcessTransport>; inbox: Map<NodeId, Message[]> }> {
  const hub = new InProcessHub();
  const nodes = new Map<NodeId, InProcessTransport>();
  const inbox = new Map<NodeId, Message[]>();
  for (const id of ids) {
    const tr = new InProcessTransport(hub, id);
    const box: Message[] = [];
    inbox.set(id, box);
    await tr.start((m) => box.push(m));
    nodes.set(id, tr);
  }
  return { hub, nodes, inbox };
}

test('messages arrive asynchronously, in order, and as copies', async (t) => {
  const { nodes, inbox } = await cluster(['a', 'b']);
  const data = Uint8Array.from([1, 2, 3]);
  const append: Message = {
    type: 'append',
    from: 'a',
    to: 'b',
    term: 1,
    prevIndex: 0,
    prevTerm: 0,
    commit: 0,
    entries: [{ index: 1, term: 1, type: 'command', data }],
  };
  nodes.get('a')?.send([hb('a', 'b', 1), append, hb('a', 'b', 2)]);
  t.deepEqual(inbox.get('b'), [], 'nothing is delivered synchronously');
  data[0] = 99;
  await settle();
  const got = inbox.get('b') ?? [];
  t.deepEqual(
    got.map((m) => m.type),
    ['heartbeat', 'append', 'heartbeat'],
  );
  const e = got[1]?.type === 'append' ? got[1].entries[0] : undefined;
  t.true(e?.type === 'command' && e.data[0] === 1, 'the receiver got a copy taken at send time');
});

test('a partition cuts both directions between the groups, and heal restores them', async (t) => {
  const { hub, nodes, inbox } = await cluster(['a', 'b', 'c']);
  hub.partition(['a'], ['b', 'c']);
  nodes.get('a')?.send([hb('a', 'b'), hb('a', 'c')]);
  nodes.get('b')?.send([hb('b', 'a'), hb('b', 'c')]);
  await settle();
  t.deepEqual(inbox.get('a'), []);
  t.deepEqual(inbox.get('b'), []);
  t.deepEqual(
    inbox.get('c')?.map((m) => m.from),
    ['b'],
  );
  t.is(hub.dropped, 3);
  hub.heal();
  nodes.get('a')?.send([hb('a', 'b')]);
  await settle();
  t.deepEqual(
    inbox.get('b')?.map((m) => m.from),
    ['a'],
  );
});

test('isolate cuts a node off from everyone; messages in flight are checked on delivery', async (t) => {
  const { hub, nodes, inbox } = await cluster(['a', 'b', 'c']);
  nodes.get('b')?.send([hb('b', 'c')]);
  hub.isolate('b'); // after send, before delivery
  nodes.get('a')?.send([hb('a', 'b'), hb('a', 'c')]);
  await settle();
  t.deepEqual(inbox.get('b'), []);
  t.deepEqual(
    inbox.get('c')?.map((m) => m.from),
    ['a'],
  );
});

test('removed peers get nothing until set again; a closed node receives nothing', async (t) => {
  const { nodes, inbox } = await cluster(['a', 'b']);
  const a = nodes.get('a');
  a?.removePeer('b');
  a?.send([hb('a', 'b')]);
  await settle();
  t.deepEqual(inbox.get('b'), []);
  a?.setPeer('b', 'in-process');
  await nodes.get('b')?.close();
  a?.send([hb('a', 'b')]);
  await settle();
  t.deepEqual(inbox.get('b'), []);
});

test('a node id can only be registered once per hub', async (t) => {
  const hub = new InProcessHub();
  await new InProcessTransport(hub, 'a').start(() => undefined);
  await t.throwsAsync(
    new InProcessTransport(hub, 'a').start(() => undefined),
    { message: /already registered/ },
  );
});
