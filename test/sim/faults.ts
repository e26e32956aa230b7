// The fault menu: one handler per kind, as etcd's rafttest has one per verb. The schedule
// (how often, which kind, aimed at the leader or not) is drawn from the seed in simulator.ts;
// a handler only acts, through the FaultTarget the simulator gives it.
import type { ConfChange, NodeId, SeededPrng } from '../../src/raft/index.js';
import type { Host } from './host.js';
import type { Network, NetworkProfile } from './network.js';

export type FaultKind =
  | 'crash'
  | 'pause'
  | 'partition'
  | 'partial-partition'
  | 'one-way'
  | 'heal'
  | 'transfer'
  | 'snapshot'
  | 'membership'
  | 'network';

/** What a fault handler may do to the cluster. */
export interface FaultTarget {
  readonly prng: SeededPrng;
  readonly network: Network;
  readonly hosts: readonly Host[];
  /** Members the cluster was bootstrapped with (the spare, if any, is not one). */
  readonly initialIds: readonly NodeId[];
  readonly leaderBias: number;
  readonly maxDowntime: number;
  readonly profile: () => NetworkProfile;
  leader(): Host | null;
  crash(host: Host, why: string): void;
  /** Restarts `host` after `delay` unless something else restarted or healed it meanwhile. */
  restartLater(host: Host, delay: number): void;
  pause(host: Host, duration: number): void;
  note(text: string): void;
  count(kind: FaultKind): void;
}

/** Node ids grouped by a partial topology: which directed links stay up. */
export type Topology = 'star' | 'bridge' | 'ring' | 'halves' | 'isolate';

/** Cuts every link not in the topology (over all hosts, up or not); `center` is the hub of a star or the bridge. */
export function installTopology(t: FaultTarget, topology: Topology, center?: NodeId): string {
  const p = t.prng;
  const shuffled = shuffle(
    p,
    t.hosts.map((h) => h.id),
  );
  const ids = center === undefined ? shuffled : [center, ...shuffled.filter((id) => id !== center)];
  const allowed = new Set<string>();
  const link = (a: NodeId, b: NodeId): void => {
    allowed.add(`${a}>${b}`);
    allowed.add(`${b}>${a}`);
  };
  let what: string;
  switch (topology) {
    case 'star': {
      const hub = ids[0]!;
      for (const id of ids) link(hub, id);
      what = `star around ${hub}`;
      break;
    }
    case 'bridge': {
      const bridge = ids[0]!;
      const rest = ids.slice(1);
      const half = Math.ceil(rest.length / 2);
      const a = rest.slice(0, half);
      const b = rest.slice(half);
      for (const group of [a, b]) for (const x of group) for (const y of group) link(x, y);
      for (const id of rest) link(bridge, id);
      what = `bridge ${bridge} between [${a.join(',')}] and [${b.join(',')}]`;
      break;
    }
    case 'ring': {
      for (let i = 0; i < ids.length; i++) link(ids[i]!, ids[(i + 1) % ids.length]!);
      what = `ring ${ids.join('-')}`;
      break;
    }
    case 'halves': {
      const half = 1 + p.int(ids.length - 1);
      const a = ids.slice(0, half);
      const b = ids.slice(half);
      for (const group of [a, b]) for (const x of group) for (const y of group) link(x, y);
      what = `halves [${a.join(',')}] [${b.join(',')}]`;
      break;
    }
    case 'isolate': {
      const lonely = t.leader()?.id ?? ids[0]!;
      for (const x of ids) for (const y of ids) if (x !== lonely && y !== lonely) link(x, y);
      what = `${lonely} isolated`;
      break;
    }
  }
  t.network.healAll();
  for (const x of ids) for (const y of ids) if (x !== y && !allowed.has(`${x}>${y}`)) t.network.block(x, y);
  return what;
}

export function shuffle<T>(prng: SeededPrng, xs: readonly T[]): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function pick<T>(prng: SeededPrng, xs: readonly T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[prng.int(xs.length)];
}

/** A victim: the leader with probability leaderBias, else any host that is up. */
function victim(t: FaultTarget): Host | undefined {
  const leader = t.leader();
  if (leader && t.prng.next() < t.leaderBias) return leader;
  return pick(
    t.prng,
    t.hosts.filter((h) => h.up),
  );
}

export const faultHandlers: Readonly<Record<FaultKind, (t: FaultTarget) => void>> = {
  crash(t) {
    const host = victim(t);
    if (!host) return;
    t.crash(host, 'fault');
    t.restartLater(host, 5 + t.prng.int(t.maxDowntime));
    t.count('crash');
  },
  pause(t) {
    // A stopped process (SIGSTOP, a long GC pause or a stalled disk): often longer than an election timeout.
    const host = victim(t);
    if (!host || host.paused) return;
    t.pause(host, 20 + t.prng.int(400));
    t.count('pause');
  },
  partition(t) {
    const what = installTopology(t, t.prng.next() < 0.5 ? 'isolate' : 'halves');
    t.note(`partition: ${what}`);
    t.count('partition');
  },
  'partial-partition'(t) {
    const what = installTopology(t, pick(t.prng, ['star', 'bridge', 'ring'] as const)!);
    t.note(`partial partition: ${what}`);
    t.count('partial-partition');
  },
  'one-way'(t) {
    const ids = t.hosts.map((h) => h.id);
    const cuts: string[] = [];
    for (let i = 0, n = 1 + t.prng.int(3); i < n; i++) {
      const from = pick(t.prng, ids)!;
      const to = pick(
        t.prng,
        ids.filter((id) => id !== from),
      )!;
      t.network.block(from, to);
      cuts.push(`${from}>${to}`);
    }
    t.note(`one-way cuts ${cuts.join(' ')}`);
    t.count('one-way');
  },
  heal(t) {
    t.network.healAll();
    t.note('network healed');
  },
  transfer(t) {
    const leader = t.leader();
    const node = leader?.node;
    if (!leader || !node) return;
    const voters = node.status().config.voters.filter((id) => id !== leader.id);
    const to = pick(t.prng, voters);
    if (to === undefined) return;
    t.note(`${leader.id} transfers leadership to ${to}`);
    node.transferLeadership(to).catch(() => undefined);
    t.count('transfer');
  },
  snapshot(t) {
    const host = pick(
      t.prng,
      t.hosts.filter((h) => h.node !== null),
    );
    if (!host?.node) return;
    host.node.takeSnapshot().catch(() => undefined);
    t.count('snapshot');
  },
  membership(t) {
    const leader = t.leader();
    const node = leader?.node;
    if (!leader || !node) return;
    const p = t.prng;
    const conf = node.status().config;
    const ids = t.hosts.map((h) => h.id);
    const outside = ids.filter((id) => !conf.voters.includes(id) && !conf.learners.includes(id));
    const minVoters = t.initialIds.length >= 5 ? 3 : 2;
    let change: ConfChange | null = null;
    if (conf.learners.length > 0 && p.next() < 0.7)
      change = { kind: 'promote', node: pick(p, conf.learners)! };
    else if (outside.length > 0 && p.next() < 0.6)
      change = { kind: 'add-learner', node: pick(p, outside)!, context: `addr-${p.int(1000)}` };
    else if (conf.voters.length > minVoters) change = { kind: 'remove', node: pick(p, conf.voters)! };
    else if (conf.learners.length > 0) change = { kind: 'remove', node: pick(p, conf.learners)! };
    if (!change) return;
    t.note(`${leader.id} proposes ${change.kind} ${change.node}`);
    node.changeMembership(change).catch(() => undefined);
    t.count('membership');
  },
  network(t) {
    const p = t.prng;
    const base = t.profile();
    t.network.profile = {
      ...base,
      dropRate: pick(p, [0, 0.01, 0.05, 0.2])!,
      duplicateRate: pick(p, [0, 0.05, 0.1])!,
      maxDelay: pick(p, [base.minDelay + 2, 10, 30, 80])!,
    };
    t.note(`network: ${JSON.stringify(t.network.profile)}`);
  },
};
