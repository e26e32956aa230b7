// Liveness, stated precisely (README.md, "What is checked"):
//
// 1. After the heal (every link up, every node restarted, a reliable network): within
//    `bound`, a leader commits a probe proposed through its driver, every member applies it,
//    and every client completes an operation.
// 2. Under a partial partition that stays still (PreVote and CheckQuorum on): from the first
//    moment at which no node leads and some voter v has two-way links to a quorum of its
//    voters none of whom holds a log more up to date than v's, a leader commits a probe
//    within 20 election timeouts. (Without the log clause the claim is false in any Raft: a
//    voter with a longer log refuses v for ever, and may itself reach no quorum.)
import type { NodeId, SeededPrng } from '../../src/raft/index.js';
import type { EventQueue } from './event-queue.js';
import { installTopology } from './faults.js';
import type { FaultTarget, Topology } from './faults.js';
import type { Host } from './host.js';
import { Violation } from './invariants.js';
import { reliableNetwork } from './network.js';
import type { Network } from './network.js';
import type { Trace } from './trace.js';

/** The last (term, index) of a host's log, for "at least as up to date" (Raft §5.4.1). */
function lastOf(host: Host): { term: number; index: number } {
  const s = host.core!.status();
  return { term: s.lastTerm, index: s.lastIndex };
}

function moreUpToDate(a: { term: number; index: number }, b: { term: number; index: number }): boolean {
  return a.term > b.term || (a.term === b.term && a.index > b.index);
}

/** Whether some voter could win an election in the current, stable topology (clause of property 2). */
export function electableVoter(hosts: readonly Host[], network: Network): NodeId | null {
  const byId = new Map(hosts.map((h) => [h.id, h]));
  for (const v of hosts) {
    if (!v.up || v.paused || !v.core) continue;
    const voters = v.core.status().config.voters;
    if (!voters.includes(v.id)) continue;
    const mine = lastOf(v);
    let quorum = 1;
    for (const id of voters) {
      if (id === v.id) continue;
      const u = byId.get(id);
      if (!u?.up || u.paused || !u.core) continue;
      if (network.isBlocked(v.id, id) || network.isBlocked(id, v.id)) continue;
      if (moreUpToDate(lastOf(u), mine)) continue;
      quorum++;
    }
    if (quorum > voters.length / 2) return v.id;
  }
  return null;
}

/** What the liveness phases need from the simulation. */
export interface LivenessTarget {
  readonly queue: EventQueue;
  readonly prng: SeededPrng;
  readonly network: Network;
  readonly hosts: readonly Host[];
  readonly initialIds: readonly NodeId[];
  readonly trace: Trace;
  readonly tickMs: number;
  readonly electionMs: number;
  /** How long property 1 may take. */
  readonly bound: number;
  /** PreVote and CheckQuorum both off: a removed member that never learnt it must be shut down at the heal. */
  readonly retireRemoved: boolean;
  leader(): Host | null;
  start(host: Host): void;
  crash(host: Host, why: string): void;
  /** Faults stop for good. */
  stopFaults(): void;
  faultTarget(): FaultTarget;
  idleClients(since: number): number[];
  /** Property 1 holds: the run may end. */
  done(): void;
}

export interface PartialOutcome {
  readonly topology: string;
  readonly electable: boolean;
  /** From the layout standing still to a committing leader (-1: none). */
  readonly recoveredIn: number;
}

export class Liveness {
  private probeSeq = 0;
  private probe: { host: Host; life: number; id: string; acked: boolean } | null = null;
  private healedAt = -1;
  /** From the heal to a probe every member applied (-1: not yet). */
  recoveredIn = -1;
  private partial: {
    topology: string;
    since: number;
    electableAt: number | null;
    recoveredIn: number;
  } | null = null;
  /** Removed members shut down at the heal (see heal()). */
  private readonly retired = new Set<NodeId>();

  constructor(private readonly t: LivenessTarget) {}

  get partialOutcome(): PartialOutcome | null {
    const p = this.partial;
    return p && { topology: p.topology, electable: p.electableAt !== null, recoveredIn: p.recoveredIn };
  }

  /**
   * Property 2: faults stop, every machine runs, the logs converge on a healed, reliable
   * network for a few election timeouts, then a partial topology is installed and stays
   * still. Half the time the center of a star or bridge is the highest-id voter that does not
   * lead: the layout where a tie-break between pre-candidates could refuse the only node able
   * to win.
   */
  stillPartition(): void {
    const t = this.t;
    t.stopFaults();
    t.network.healAll();
    t.network.profile = reliableNetwork;
    this.wakeAll();
    t.queue.after(5 * t.electionMs, () => {
      const topology = (['star', 'bridge', 'ring', 'halves'] as const satisfies readonly Topology[])[
        t.prng.int(4)
      ]!;
      const leader = t.leader()?.id;
      const voters = t.hosts.find((h) => h.core)?.core?.status().config.voters ?? t.initialIds;
      const highest = [...voters]
        .filter((id) => id !== leader)
        .sort()
        .at(-1);
      const center = t.prng.next() < 0.5 ? highest : undefined;
      const what = installTopology({ ...t.faultTarget(), leader: () => null }, topology, center);
      this.partial = { topology: what, since: t.queue.now, electableAt: null, recoveredIn: -1 };
      t.trace.note(`STILL PARTIAL PARTITION: ${what}`);
      t.queue.after(t.tickMs, () => this.checkPartial());
    });
  }

  /** Property 1: all faults heal. */
  heal(): void {
    const t = this.t;
    t.stopFaults();
    this.healedAt = t.queue.now;
    this.probe = null;
    t.network.healAll();
    t.network.profile = reliableNetwork;
    if (t.retireRemoved) this.retireRemoved();
    this.wakeAll();
    t.trace.note('ALL FAULTS HEALED; liveness clock starts');
    t.queue.after(t.tickMs, () => this.checkHealed());
  }

  /** Property 1 did not hold within the bound. */
  failed(): never {
    const idle = this.t.idleClients(this.healedAt);
    throw new Violation(
      'assertLiveness',
      `${this.t.bound} ms after all faults healed (at ${this.healedAt}): probe ${this.probe ? `${this.probe.id} on ${this.probe.host.id}` : 'none'}, clients without a completed op since: [${idle.join(',')}]\n  ${describeNodes(this.t.hosts)}`,
    );
  }

  private wakeAll(): void {
    for (const h of this.t.hosts) {
      if (h.paused) h.resume();
      if (!h.up && !this.retired.has(h.id)) this.t.start(h);
    }
  }

  private checkPartial(): void {
    const t = this.t;
    const partial = this.partial!;
    if (this.probeCommitted()) {
      partial.recoveredIn = t.queue.now - partial.since;
      t.trace.note(
        `partial partition: a leader committed ${partial.recoveredIn} after the layout stood still`,
      );
      this.heal();
      return;
    }
    if (partial.electableAt === null && t.leader() === null) {
      const v = electableVoter(t.hosts, t.network);
      if (v !== null) {
        partial.electableAt = t.queue.now;
        t.trace.note(
          `partial partition: no leader, and ${v} can reach an up-to-date quorum: 20 election timeouts from now`,
        );
      }
    }
    const deadline =
      partial.electableAt === null
        ? partial.since + 60 * t.electionMs
        : partial.electableAt + 20 * t.electionMs;
    if (t.queue.now >= deadline) {
      if (partial.electableAt !== null)
        throw new Violation(
          'assertLiveness',
          `no leader committed within 20 election timeouts of the still partial partition (${partial.topology}) becoming electable\n  ${describeNodes(t.hosts)}`,
        );
      this.heal();
      return;
    }
    t.queue.after(t.tickMs, () => this.checkPartial());
  }

  /**
   * Without PreVote or CheckQuorum's lease nothing stops a removed member that never learnt of
   * its removal from deposing leaders for ever (dissertation §4.2.3): shut such nodes down, as an
   * operator scaling down would. A node counts as removed when most others' configurations leave it out.
   */
  private retireRemoved(): void {
    const t = this.t;
    const configs = new Map(t.hosts.filter((h) => h.core).map((h) => [h.id, h.core!.status().config]));
    for (const h of t.hosts) {
      const others = [...configs].filter(([id]) => id !== h.id);
      const excluding = others.filter(
        ([, conf]) => !conf.voters.includes(h.id) && !conf.learners.includes(h.id),
      );
      if (excluding.length * 2 > others.length) {
        t.crash(h, 'removed from the cluster; shut down');
        this.retired.add(h.id);
      }
    }
  }

  private checkHealed(): void {
    const t = this.t;
    if (this.probeCommitted()) {
      const probe = this.probe!;
      const conf = probe.host.core?.status().config;
      const members = conf ? [...conf.voters, ...conf.learners] : [];
      const lagging = members.filter(
        (id) => !this.retired.has(id) && !t.hosts.find((h) => h.id === id)?.node?.fsm.getPrinter(probe.id),
      );
      if (lagging.length === 0 && t.idleClients(this.healedAt).length === 0) {
        this.recoveredIn = t.queue.now - this.healedAt;
        t.trace.note(
          `liveness: probe committed and applied by every member ${this.recoveredIn} after the heal`,
        );
        t.done();
        return;
      }
    }
    t.queue.after(t.tickMs, () => this.checkHealed());
  }

  /** Proposes a probe on the leader (again, if its proposer lost it); true once one was acknowledged. */
  private probeCommitted(): boolean {
    const probe = this.probe;
    if (probe?.acked) return true;
    const leader = this.t.leader();
    const stale = probe === null || probe.host.life !== probe.life || !probe.host.node?.isLeader();
    if (leader?.node && stale) {
      const id = `probe-${++this.probeSeq}`;
      const next = { host: leader, life: leader.life, id, acked: false };
      this.probe = next;
      leader.node
        .propose({
          type: 'printer.create',
          at: 1_700_000_000_000,
          printer: { id, company: 'probe', model: 'probe' },
        })
        .then(
          (result) => {
            if (result.ok) next.acked = true;
          },
          () => {
            // Refused, lost or timed out: propose again on whoever leads next time.
            if (this.probe === next) this.probe = null;
          },
        );
    }
    return false;
  }
}

export function describeNodes(hosts: readonly Host[]): string {
  return hosts
    .map((h) => {
      if (!h.up || !h.core) return `${h.id} down`;
      const s = h.core.status();
      const progress = s.progress.map((p) => `${p.id}:${p.state} match ${p.match} next ${p.next}`).join('; ');
      return `${h.id} ${s.role} term ${s.term} leader ${s.leader ?? '-'} commit ${s.commit} applied ${s.applied} last ${s.lastIndex}:${s.lastTerm} voters [${s.config.voters.join(',')}] learners [${s.config.learners.join(',')}]${progress ? ` progress ${progress}` : ''}`;
    })
    .join('\n  ');
}
