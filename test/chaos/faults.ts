// The faults of the chaos suite and their seeded schedule. A fault is applied, held, and
// healed; targets are named by role (the leader, the k-th follower) and chosen with the
// schedule's PRNG, so the same seed replays the same sequence of faults.

import { SeededPrng } from '../../src/raft/prng.js';
import type { NetnsCluster } from './netns-cluster.js';
import { sleep } from './netns-cluster.js';

export type FaultKind =
  | 'kill-leader'
  | 'kill-follower'
  | 'pause-leader'
  | 'pause-follower'
  | 'isolate-leader'
  | 'partition-halves'
  | 'partition-bridge'
  | 'partition-star'
  | 'one-way-leader'
  | 'slow-leader'
  | 'lossy-leader'
  | 'flap-leader'
  | 'kill-all'
  | 'disk-full'
  | 'wipe-member';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-leader',
  'kill-follower',
  'pause-leader',
  'pause-follower',
  'isolate-leader',
  'partition-halves',
  'partition-bridge',
  'partition-star',
  'one-way-leader',
  'slow-leader',
  'lossy-leader',
  'flap-leader',
  'kill-all',
  'disk-full',
  'wipe-member',
];

export interface PlannedFault {
  readonly kind: FaultKind;
  /** How long the fault is held, ms. */
  readonly holdMs: number;
  /** Quiet time before it, ms. */
  readonly quietMs: number;
  /** A number in [0, 1) that picks among candidate targets. */
  readonly pick: number;
}

/** The seeded schedule: faults cycle through the kinds in a shuffled order, so every kind occurs. */
export function schedule(
  seed: number,
  kinds: readonly FaultKind[],
  count: number,
  electionMs: number,
  longPartitions: boolean,
): PlannedFault[] {
  const prng = new SeededPrng(seed);
  const out: PlannedFault[] = [];
  let bag: FaultKind[] = [];
  for (let i = 0; i < count; i++) {
    if (bag.length === 0) {
      bag = [...kinds];
      for (let j = bag.length - 1; j > 0; j--) {
        const k = Math.floor(prng.next() * (j + 1));
        [bag[j], bag[k]] = [bag[k]!, bag[j]!];
      }
    }
    const kind = bag.pop()!;
    // Held 4-12 election timeouts; in long runs, half the leader isolations last 30 s (defect 5's case).
    const long = kind === 'isolate-leader' && prng.next() < 0.5 && longPartitions;
    const holdMs = long ? 30_000 : Math.round(electionMs * (4 + prng.next() * 8));
    out.push({ kind, holdMs, quietMs: Math.round(1500 + prng.next() * 2500), pick: prng.next() });
  }
  return out;
}

/** What a fault did, for the report and for healing it. */
export interface AppliedFault {
  readonly kind: FaultKind;
  readonly targets: readonly string[];
  readonly description: string;
  /** Nodes whose processes must be (re)started by the heal. */
  readonly restart: readonly string[];
  readonly heal: () => Promise<void>;
}

function followers(cluster: NetnsCluster, leader: string): string[] {
  return cluster.nodes.map((n) => n.id).filter((id) => id !== leader);
}

const nth = <T>(list: readonly T[], pick: number): T => list[Math.floor(pick * list.length)]!;

/** Applies `fault` to the cluster whose current leader is `leader`. */
export async function applyFault(
  cluster: NetnsCluster,
  fault: PlannedFault,
  leader: string,
  diskNode: string,
): Promise<AppliedFault> {
  const ids = cluster.nodes.map((n) => n.id);
  const lab = cluster.lab;
  const others = followers(cluster, leader);
  const follower = nth(others, fault.pick);
  const heal = (): Promise<void> => lab.heal();
  switch (fault.kind) {
    case 'kill-leader':
    case 'kill-follower': {
      const target = fault.kind === 'kill-leader' ? leader : follower;
      await cluster.kill(target);
      return {
        kind: fault.kind,
        targets: [target],
        description: `kill -9 ${target}`,
        restart: [target],
        heal: async () => undefined,
      };
    }
    case 'kill-all':
      await Promise.all(ids.map((id) => cluster.kill(id)));
      return {
        kind: fault.kind,
        targets: ids,
        description: 'kill -9 every node',
        restart: ids,
        heal: async () => undefined,
      };
    case 'pause-leader':
    case 'pause-follower': {
      const target = fault.kind === 'pause-leader' ? leader : follower;
      cluster.pause(target);
      return {
        kind: fault.kind,
        targets: [target],
        description: `SIGSTOP ${target}`,
        restart: [],
        heal: async () => cluster.resume(target),
      };
    }
    case 'isolate-leader':
      await lab.partition([[leader], others]);
      return { kind: fault.kind, targets: [leader], description: `isolate ${leader}`, restart: [], heal };
    case 'partition-halves': {
      const shuffled = [...ids].sort((a, b) => hash(a, fault.pick) - hash(b, fault.pick));
      const half = Math.floor(ids.length / 2);
      const groups = [shuffled.slice(0, half), shuffled.slice(half)];
      await lab.partition(groups);
      return {
        kind: fault.kind,
        targets: groups[0]!,
        description: `halves ${groups.map((g) => g.join('+')).join(' | ')}`,
        restart: [],
        heal,
      };
    }
    case 'partition-bridge': {
      // Two sides that only the bridge node sees both of (Jepsen's "bridge").
      const bridge = follower;
      const rest = ids.filter((id) => id !== bridge);
      const half = Math.ceil(rest.length / 2);
      const a = rest.slice(0, half);
      const b = rest.slice(half);
      await lab.cut(a.flatMap((x) => b.map((y): [string, string] => [x, y])));
      return {
        kind: fault.kind,
        targets: [bridge],
        description: `bridge ${bridge} between ${a.join('+')} and ${b.join('+')}`,
        restart: [],
        heal,
      };
    }
    case 'partition-star': {
      // Everyone sees the centre, nobody else.
      const centre = nth(ids, fault.pick);
      const rest = ids.filter((id) => id !== centre);
      const cuts: [string, string][] = [];
      for (let i = 0; i < rest.length; i++)
        for (let j = i + 1; j < rest.length; j++) cuts.push([rest[i]!, rest[j]!]);
      await lab.cut(cuts);
      return { kind: fault.kind, targets: [centre], description: `star around ${centre}`, restart: [], heal };
    }
    case 'one-way-leader':
      // The leader hears everyone but nobody hears it.
      await Promise.all(others.map((o) => lab.dropOneWay(leader, o)));
      return {
        kind: fault.kind,
        targets: [leader],
        description: `drop everything ${leader} sends to peers`,
        restart: [],
        heal,
      };
    case 'slow-leader':
      await lab.slow(leader, 200);
      return {
        kind: fault.kind,
        targets: [leader],
        description: `${leader} sends at 200 kbit/s (tbf)`,
        restart: [],
        heal,
      };
    case 'lossy-leader':
      await lab.lossy(leader, 0.3);
      return {
        kind: fault.kind,
        targets: [leader],
        description: `30 % of packets between ${leader} and peers dropped`,
        restart: [],
        heal,
      };
    case 'flap-leader': {
      let flapping = true;
      const flaps = (async () => {
        while (flapping) {
          await lab.linkDown(leader);
          await sleep(300 + fault.pick * 500);
          await lab.linkUp(leader);
          await sleep(400 + fault.pick * 400);
        }
      })();
      return {
        kind: fault.kind,
        targets: [leader],
        description: `${leader}'s link flaps down/up`,
        restart: [],
        heal: async () => {
          flapping = false;
          await flaps;
          await lab.heal();
        },
      };
    }
    case 'disk-full':
      cluster.fillDisk(diskNode, 0);
      return {
        kind: fault.kind,
        targets: [diskNode],
        description: `${diskNode}'s data tmpfs full`,
        restart: [],
        heal: async () => cluster.unfillDisk(diskNode),
      };
    case 'wipe-member': {
      await cluster.kill(follower);
      cluster.wipe(follower);
      return {
        kind: fault.kind,
        targets: [follower],
        description: `${follower} killed and its data dir wiped`,
        restart: [follower],
        heal: async () => undefined,
      };
    }
  }
}

function hash(id: string, pick: number): number {
  let h = Math.floor(pick * 2 ** 31);
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 0x9e3779b1) >>> 0;
  return h;
}
