// The driver alone, where the Ready contract and its failure modes are decided: term and vote
// durable before any message that depends on them (checklist 25), a broken invariant stops the
// node, no timer outlives a refused request, the core's decisions reach the node's log. The
// transport is a script (the test hands the node its messages and reads what it sends), the disk
// is MemoryStorage, and time stands still (ManualClock), so nothing happens but what the test does.

import { Writable } from 'node:stream';
import test from 'ava';
import pino from 'pino';
import type { Logger } from 'pino';
import { startShopNode } from '../../src/api/index.js';
import type { ShopNode, ShopNodeOptions } from '../../src/api/index.js';
import { PrintShop, describeCommand, printShopCodec } from '../../src/fsm/index.js';
import type { ShopCommand, ShopResult } from '../../src/fsm/index.js';
import { RaftNode } from '../../src/node/index.js';
import type { Message, NodeId, VoteRequest, VoteResponse } from '../../src/raft/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import type { MessageHandler, Transport } from '../../src/transport/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { SkipsTermOnlySavesNode } from '../sim/mutants.js';

class ScriptedTransport implements Transport {
  handler: MessageHandler | null = null;
  readonly sent: { message: Message; durableTerm: number; durableVote: NodeId | null }[] = [];

  constructor(private readonly storage: InspectableStorage) {}

  async start(onMessage: MessageHandler): Promise<void> {
    this.handler = onMessage;
  }

  send(messages: readonly Message[]): void {
    // What the disk holds at the moment each message leaves.
    for (const message of messages)
      this.sent.push({ message, durableTerm: this.storage.term(), durableVote: this.storage.vote() });
  }

  setPeer(): void {}
  removePeer(): void {}
  async close(): Promise<void> {}
}

/** MemoryStorage that also tells the durable term and vote synchronously. */
class InspectableStorage extends MemoryStorage {
  private hs = { term: 0, vote: null as NodeId | null };
  override async save(batch: Parameters<MemoryStorage['save']>[0]): Promise<void> {
    await super.save(batch);
    if (batch.hardState) this.hs = { term: batch.hardState.term, vote: batch.hardState.vote };
  }
  term(): number {
    return this.hs.term;
  }
  vote(): NodeId | null {
    return this.hs.vote;
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const voteRequest = (from: NodeId, term: number): VoteRequest => ({
  type: 'vote-request',
  from,
  to: 'n3',
  term,
  preVote: false,
  lastLogIndex: 0,
  lastLogTerm: 0,
  transfer: false,
});

async function startN3(
  storage: InspectableStorage,
  nodeClass: typeof RaftNode = RaftNode,
  logger?: Logger,
  seed = 3,
): Promise<{ node: ShopNode; transport: ScriptedTransport; clock: ManualClock }> {
  const transport = new ScriptedTransport(storage);
  const clock = new ManualClock();
  const options: ShopNodeOptions = {
    id: 'n3',
    initialVoters: ['n1', 'n2', 'n3'],
    storage,
    transport,
    clock,
    seed,
    ...(logger ? { logger } : {}),
  };
  const node =
    nodeClass === RaftNode
      ? await startShopNode(options)
      : await nodeClass.start<ShopCommand, ShopResult, PrintShop>({
          ...options,
          stateMachine: () => new PrintShop(),
          codec: printShopCodec,
          describe: describeCommand,
        });
  return { node, transport, clock };
}

/** n3 grants n2 in term 6, then n2 again in term 7 (same vote), crashes, restarts, and is asked by n1 in term 7. */
async function replay(nodeClass: typeof RaftNode): Promise<{
  grants: { term: number; durableTerm: number }[];
  afterRestart: VoteResponse | undefined;
}> {
  const storage = new InspectableStorage();
  const first = await startN3(storage, nodeClass);
  first.transport.handler!(voteRequest('n2', 6));
  await flush();
  first.transport.handler!(voteRequest('n2', 7));
  await flush();
  const grants = first.transport.sent
    .filter((s) => s.message.type === 'vote-response' && s.message.granted)
    .map((s) => ({ term: s.message.term, durableTerm: s.durableTerm }));
  // A crash: the node is dropped where it stands; only what was saved survives.
  storage.reopen();
  const second = await startN3(storage, nodeClass);
  // Past the lease a restarted node honours (10 ticks), before its own election timeout (> 10).
  second.clock.advance(500);
  second.transport.handler!(voteRequest('n1', 7));
  await flush();
  const afterRestart = second.transport.sent
    .map((s) => s.message)
    .find((m): m is VoteResponse => m.type === 'vote-response');
  await second.node.stop();
  return { grants, afterRestart };
}

test('checklist 25: a node that votes in term T, votes again for the same candidate in T+1, crashes and restarts refuses every other candidate of T+1', async (t) => {
  const { grants, afterRestart } = await replay(RaftNode);
  t.deepEqual(grants, [
    { term: 6, durableTerm: 6 },
    { term: 7, durableTerm: 7 },
  ]);
  t.like(afterRestart, { term: 7, granted: false }, 'its vote in term 7 went to n2, durably');
});

test('checklist 25: the driver that compared the hard state with a term it had already updated (the bug) votes twice', async (t) => {
  const { grants, afterRestart } = await replay(SkipsTermOnlySavesNode);
  t.deepEqual(grants[1], { term: 7, durableTerm: 6 }, 'the grant of term 7 left before term 7 was durable');
  t.like(afterRestart, { term: 7, granted: true }, 'so after a restart n3 voted twice in term 7');
});

test('a broken invariant in the core stops the node instead of being logged and carried on', async (t) => {
  const storage = new InspectableStorage();
  const { node, transport, clock } = await startN3(storage);
  const grant = (from: NodeId, term: number, preVote: boolean): Message => ({
    type: 'vote-response',
    from,
    to: 'n3',
    term,
    preVote,
    granted: true,
  });
  clock.advance(1100); // past any election timeout: n3 asks for PreVotes for term 1
  await flush();
  transport.handler!(grant('n1', 1, true));
  await flush();
  transport.handler!(grant('n1', 1, false));
  await flush();
  t.is(node.status().role, 'leader');
  t.true(node.isHealthy());
  // Another node acting as leader of the same term: impossible in Raft (one vote per term),
  // so this node's view of the cluster can no longer be trusted.
  transport.handler!({
    type: 'heartbeat',
    from: 'n2',
    to: 'n3',
    term: 1,
    commit: 0,
    context: '',
  });
  await flush();
  t.false(node.isHealthy(), 'the node stopped');
  await t.throwsAsync(node.readBarrier(), { code: 'node_stopped' });
  await t.throwsAsync(
    node.propose({ type: 'printer.create', at: 0, printer: { id: 'p', company: 'c', model: 'm' } }),
    {
      code: 'node_stopped',
    },
  );
  await node.stop();
});

test('a leadership transfer the core refuses rejects at once and leaves no timer behind to reject later', async (t) => {
  const storage = new InspectableStorage();
  const { node, transport, clock } = await startN3(storage);
  clock.advance(1100);
  await flush();
  const grant = (preVote: boolean): Message => ({
    type: 'vote-response',
    from: 'n1',
    to: 'n3',
    term: 1,
    preVote,
    granted: true,
  });
  transport.handler!(grant(true));
  await flush();
  transport.handler!(grant(false));
  await flush();
  t.is(node.status().role, 'leader');
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  await t.throwsAsync(node.transferLeadership('n9'), { code: 'proposal_dropped', message: /not a voter/ });
  clock.advance(5_000); // well past the transfer's own deadline
  await flush();
  await flush();
  t.deepEqual(unhandled, [], 'an orphaned deadline would crash a Node process with an unhandled rejection');
  await node.stop();
});

test("the core's decisions reach the node's log at debug level (and cost nothing above it)", async (t) => {
  const lines: { event?: string; msg?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as { event?: string });
      done();
    },
  });
  const { node, clock } = await startN3(new InspectableStorage(), RaftNode, pino({ level: 'debug' }, sink));
  clock.advance(1100); // the election timeout fires: a PreVote round starts
  await flush();
  await node.stop();
  await flush();
  const events = lines.map((l) => l.event).filter((e) => e !== undefined);
  t.true(events.includes('become-pre-candidate'), `core events logged: ${events.join(', ')}`);
});

test("an answer to a read of a node's previous life never releases a read of this one (sim seed 8918)", async (t) => {
  const storage = new InspectableStorage();
  const heartbeat: Message = { type: 'heartbeat', from: 'n1', to: 'n3', term: 1, commit: 0, context: '' };
  const first = await startN3(storage, RaftNode, undefined, 3);
  first.transport.handler!(heartbeat);
  await flush();
  void first.node.readBarrier().catch(() => undefined);
  await flush();
  const oldAsk = first.transport.sent.map((s) => s.message).find((m) => m.type === 'read-index');
  t.truthy(oldAsk);
  // A crash; the new life (its own seed) asks again; the leader's late answer to the old ask arrives.
  storage.reopen();
  const second = await startN3(storage, RaftNode, undefined, 4);
  second.transport.handler!(heartbeat);
  await flush();
  let released = false;
  void second.node.readBarrier().then(
    () => (released = true),
    () => undefined,
  );
  await flush();
  const newAsk = second.transport.sent.map((s) => s.message).find((m) => m.type === 'read-index');
  t.truthy(newAsk);
  if (oldAsk?.type !== 'read-index' || newAsk?.type !== 'read-index') return;
  t.not(newAsk.context, oldAsk.context, 'contexts never repeat across lives');
  second.transport.handler!({
    type: 'read-index-response',
    from: 'n1',
    to: 'n3',
    term: 1,
    context: oldAsk.context,
    index: 0,
  });
  await flush();
  t.false(released, "the old life's answer (an index from before writes this read must see) was not taken");
  await second.node.stop();
});

/** InspectableStorage whose writes can be held open, as a slow fsync would. */
class GatedStorage extends InspectableStorage {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  pending = 0;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = null;
  }
  override async save(batch: Parameters<MemoryStorage['save']>[0]): Promise<void> {
    this.pending++;
    try {
      if (this.gate) await this.gate;
      await super.save(batch);
    } finally {
      this.pending--;
    }
  }
}

test('a leader answers a committed write while its next write is still syncing (the entry was already durable, here and on a quorum)', async (t) => {
  const storage = new GatedStorage();
  const { node, transport, clock } = await startN3(storage);
  clock.advance(1100);
  await flush();
  const grant = (preVote: boolean): Message => ({
    type: 'vote-response',
    from: 'n1',
    to: 'n3',
    term: 1,
    preVote,
    granted: true,
  });
  transport.handler!(grant(true));
  await flush();
  transport.handler!(grant(false));
  await flush();
  t.is(node.status().role, 'leader');
  const ack = (index: number): Message => ({
    type: 'append-response',
    from: 'n1',
    to: 'n3',
    term: 1,
    success: true,
    index,
  });
  transport.handler!(ack(1)); // the leader's no-op
  await flush();
  const create = (id: string): ShopCommand => ({
    type: 'printer.create',
    at: 0,
    printer: { id, company: 'Prusa', model: 'MK4' },
  });
  let firstDone = false;
  const first = node.propose(create('p1')).then(() => (firstDone = true));
  await flush(); // p1 (index 2) is durable on n3 and sent to n1
  storage.hold();
  // n1's ack of p1 and a new proposal arrive together: one Ready carries p2 to write and p1 to apply.
  transport.handler!(ack(2));
  const second = node.propose(create('p2'));
  await flush();
  await flush();
  t.is(storage.pending, 1, "p2's write is still in flight");
  t.true(firstDone, 'p1 was answered without waiting for the write of p2');
  storage.release();
  await first;
  transport.handler!(ack(3));
  await second;
  await node.stop();
});
