import test from 'ava';
import { leaseTicks } from '../../src/raft/index.js';
import type { Message, VoteRequest, RaftCore } from '../../src/raft/index.js';
import { Cluster, drain, solo } from './helpers.js';

const lease = { maxClockDrift: 0.1 };

/** A 3-node cluster with leases, n1 leading and its no-op committed everywhere. */
function leased(): Cluster {
  const c = new Cluster(['n1', 'n2', 'n3'], { leaseReads: lease });
  c.elect('n1');
  c.deliverAll();
  return c;
}

const voteReq = (from: string, to: string, term: number, preVote: boolean): VoteRequest => ({
  type: 'vote-request',
  from,
  to,
  term,
  preVote,
  lastLogIndex: 100,
  lastLogTerm: 100,
  transfer: false,
});

test('checklist 28: the lease length allows for tick granularity on both sides and the stated clock drift', (t) => {
  // (n - s + 1) ticks on the leader <= (E - 1) ticks of a follower slowed by the drift.
  t.is(leaseTicks(10, { maxClockDrift: 0 }), 8);
  t.is(leaseTicks(10, { maxClockDrift: 0.1 }), 7);
  t.is(leaseTicks(10, { maxClockDrift: 0.5 }), 3);
  t.is(leaseTicks(3, { maxClockDrift: 0.5 }), 0);
  t.throws(() => leaseTicks(10, { maxClockDrift: 1 }), { message: /maxClockDrift/ });
  t.throws(() => solo('n1', ['n1'], undefined, { checkQuorum: false, leaseReads: lease }), {
    message: /leaseReads needs checkQuorum/,
  });
});

test('checklist 28: a new leader serves lease reads only once an entry of its term has committed', (t) => {
  const c = new Cluster(['n1', 'n2', 'n3'], { leaseReads: lease });
  c.electVotesOnly('n1');
  const n1 = c.node('n1');
  t.is(n1.leaseReadIndex(), null, 'elected, no-op not committed: the commit index may lag the cluster');
  c.deliverAll();
  t.is(n1.status().commit, 1);
  c.tick('n1');
  c.deliverAll();
  t.is(n1.leaseReadIndex(), 1, 'committed in its term and a quorum echoed a heartbeat');
  t.is(c.node('n2').leaseReadIndex(), null, 'never on a follower');
});

test('checklist 28: the lease is counted from when the heartbeats were sent, not from when their echoes arrived', (t) => {
  const c = leased();
  const n1 = c.node('n1');
  c.tick('n1'); // heartbeats stamped at the leader's tick 1
  c.processAll();
  const heartbeats = c.take((m) => m.type === 'heartbeat');
  t.is(heartbeats.length, 2);
  const ticks = leaseTicks(10, lease);
  // The leader waits `ticks` ticks, dropping the heartbeats these ticks send.
  for (let i = 0; i < ticks; i++) {
    c.tick('n1');
    c.processAll();
    c.take((m) => m.type === 'heartbeat');
  }
  // Late echoes of the old heartbeats arrive now.
  for (const m of heartbeats) c.deliver(m);
  c.processAll();
  for (const m of c.take((m) => m.type === 'heartbeat-response')) c.deliver(m);
  t.not(n1.leaseReadIndex(), null, `sent ${ticks} ticks ago: still within the lease`);
  c.tick('n1');
  c.processAll();
  c.take((m) => m.type === 'heartbeat');
  t.is(
    n1.leaseReadIndex(),
    null,
    'one tick more: the echoes arrived just now, but the lease started when they were sent',
  );
  // Fresh echoes renew it.
  c.tick('n1');
  c.deliverAll();
  t.not(n1.leaseReadIndex(), null);
});

test('checklist 28: without a quorum of echoes there is no lease; one follower is enough in three', (t) => {
  const c = leased();
  c.isolated.add('n2');
  c.isolated.add('n3');
  for (let i = 0; i < leaseTicks(10, lease) + 1; i++) {
    c.tick('n1');
    c.deliverAll();
  }
  t.is(c.node('n1').leaseReadIndex(), null);
  c.isolated.delete('n3');
  c.tick('n1');
  c.deliverAll();
  t.is(c.node('n1').leaseReadIndex(), 1, 'n1 and n3 are a quorum');
});

test('checklist 28: no lease while a transfer is in progress, nor for the rest of a term in which a TimeoutNow left', (t) => {
  const c = leased();
  const n1 = c.node('n1');
  c.tick('n1');
  c.deliverAll();
  t.not(n1.leaseReadIndex(), null);
  // n2 falls behind, so the leader must first bring it up to date: no TimeoutNow yet.
  c.isolated.add('n2');
  c.propose('n1', 'y');
  c.deliverAll();
  n1.transferLeadership('n2');
  c.deliverAll();
  t.is(n1.status().leadTransferee, 'n2');
  t.is(n1.leaseReadIndex(), null, 'transferring');
  // n2 never answers; the transfer is abandoned after an election timeout, the leader stays.
  for (let i = 0; i < 11; i++) {
    c.tick('n1');
    c.deliverAll();
  }
  t.is(n1.status().leadTransferee, null, 'abandoned');
  t.is(n1.status().role, 'leader');
  t.not(n1.leaseReadIndex(), null, 'no TimeoutNow ever left: the lease is back');

  const d = leased();
  const m1 = d.node('n1');
  d.tick('n1');
  d.deliverAll();
  // n2 is up to date: TimeoutNow goes out at once, and is lost on the way.
  m1.transferLeadership('n2');
  d.processAll();
  t.is(d.take((m: Message) => m.type === 'timeout-now').length, 1);
  for (let i = 0; i < 11; i++) {
    d.tick('n1');
    d.deliverAll();
  }
  t.is(m1.status().role, 'leader');
  t.is(m1.leaseReadIndex(), null, 'a TimeoutNow in flight may still make n2 campaign through every lease');
});

test('checklist 28: a follower ignores votes within its lease, and after a reboot honours the lease for one election timeout', (t) => {
  const c = leased();
  const n2 = c.node('n2');
  n2.step(voteReq('n3', 'n2', 5, false));
  t.deepEqual(drain(n2).messages, [], 'in lease: ignored');

  const rebooted = c.restart('n2');
  rebooted.step(voteReq('n3', 'n2', 5, false));
  rebooted.step(voteReq('n3', 'n2', 5, true));
  t.deepEqual(drain(rebooted).messages, [], 'just booted: it may have echoed a heartbeat before the crash');
  for (let i = 0; i < 10; i++) rebooted.tick();
  rebooted.step(voteReq('n3', 'n2', 5, false));
  const answer = drain(rebooted).messages[0];
  t.like(
    answer,
    { type: 'vote-response', granted: true },
    'an election timeout after the boot it votes again',
  );

  // Without leaseReads a rebooted node votes at once (nothing relies on its lease).
  const plain = new Cluster(['n1', 'n2', 'n3']);
  plain.elect('n1');
  const fresh: RaftCore = plain.restart('n2');
  fresh.step(voteReq('n3', 'n2', 5, false));
  t.like(drain(fresh).messages[0], { type: 'vote-response', granted: true });
});
