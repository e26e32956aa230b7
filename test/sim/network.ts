// The simulated network: every message gets its own delay (so messages reorder), and may be
// dropped or duplicated. Partitions block directed links, so a one-way partition is just one
// blocked direction. A message is checked against partitions both when sent and when it
// would be delivered (a link cut while the message is in flight loses it).
import type { Message, NodeId } from '../../src/raft/messages.js';
import type { EventQueue } from './event-queue.js';
import type { SeededPrng } from '../../src/raft/prng.js';

export interface NetworkProfile {
  /** Delay range in virtual time units (one tick is 10). */
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Chance that a message is held back much longer than usual (deep reordering). */
  readonly straggleRate: number;
}

export const reliableNetwork: NetworkProfile = {
  minDelay: 1,
  maxDelay: 4,
  dropRate: 0,
  duplicateRate: 0,
  straggleRate: 0,
};

export class Network {
  profile: NetworkProfile;
  private readonly blocked = new Set<string>();
  sent = 0;
  delivered = 0;
  dropped = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: SeededPrng,
    profile: NetworkProfile,
    private readonly deliver: (message: Message) => boolean,
  ) {
    this.profile = profile;
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      this.sent++;
      if (this.isBlocked(m.from, m.to) || this.prng.next() < this.profile.dropRate) {
        this.dropped++;
        continue;
      }
      const copies = this.prng.next() < this.profile.duplicateRate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        this.queue.after(this.delay(), () => {
          if (this.isBlocked(m.from, m.to) || !this.deliver(m)) this.dropped++;
          else this.delivered++;
        });
      }
    }
  }

  private delay(): number {
    const p = this.profile;
    const base = p.minDelay + this.prng.int(p.maxDelay - p.minDelay + 1);
    return this.prng.next() < p.straggleRate ? base + 20 + this.prng.int(200) : base;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.size > 0 && this.blocked.has(`${from}>${to}`);
  }

  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
    this.epoch++;
  }

  /** Splits the nodes into groups that cannot talk to each other (both directions). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups)
      for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.block(x, y);
  }

  /** Bumped whenever the partitions change, so a scheduled heal can tell whether its partition still stands. */
  epoch = 0;

  healAll(): void {
    this.blocked.clear();
    this.epoch++;
  }

  describePartitions(): string {
    return this.blocked.size === 0 ? 'none' : [...this.blocked].sort().join(' ');
  }
}
