// One simulated machine: its disk (kept across crashes), its clock (a rate within the drift
// bound the cluster is configured for), and the lives of the real RaftNode that runs on it.
// Everything that reaches the node — timer callbacks, messages, disk completions — goes
// through run(): dropped if it belongs to an earlier life, held while the machine is paused
// (a SIGSTOP or a long GC pause), delivered in order when it resumes.
import type { Clock } from '../../src/node/clock.js';
import type { NodeId, RaftCore } from '../../src/raft/index.js';
import type { ShopNode } from '../../src/api/index.js';
import type { MessageHandler } from '../../src/transport/index.js';
import { SimDisk } from './disk.js';
import type { EventQueue } from './event-queue.js';

export class Host {
  readonly disk = new SimDisk();
  /** Bumped on every crash, so callbacks of a previous life are ignored. */
  life = 0;
  up = false;
  paused = false;
  /** The running node of this life (null while down or still starting). */
  node: ShopNode | null = null;
  /** Its consensus core, for the checks (read only). */
  core: RaftCore | null = null;
  /** Where delivered messages go in this life. */
  inbox: MessageHandler | null = null;
  private held: { life: number; fn: () => void }[] = [];
  /** Something happened to this node since the simulator last checked it. */
  dirty = false;

  constructor(
    readonly id: NodeId,
    private readonly queue: EventQueue,
    /** Local clock rate against real (virtual) time. */
    readonly rate: number,
  ) {}

  /** Runs `fn` as this machine, in life `life`: later if paused, never if that life ended. */
  run(life: number, fn: () => void): void {
    if (life !== this.life || !this.up) return;
    if (this.paused) {
      this.held.push({ life, fn });
      return;
    }
    this.dirty = true;
    fn();
  }

  /** A clock for the node of the current life. */
  clock(): Clock {
    const life = this.life;
    const queue = this.queue;
    const rate = this.rate;
    return {
      now: () => queue.now * rate,
      after: (ms, fn) => {
        let cancelled = false;
        queue.after(Math.max(0, ms) / rate, () => {
          if (!cancelled) this.run(life, fn);
        });
        return () => {
          cancelled = true;
        };
      },
      yield: () => new Promise<void>((resolve) => queue.after(0, () => this.run(life, resolve))),
    };
  }

  pause(): void {
    this.paused = true;
  }

  /** Resumes: what arrived meanwhile is delivered now, in arrival order, one event each. */
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const h of held) this.queue.after(0, () => this.run(h.life, h.fn));
  }

  /** The machine dies: the node's memory is gone, the disk keeps what was durable. */
  crash(tear: (entries: number) => number | null): void {
    this.life++;
    this.up = false;
    this.paused = false;
    this.held = [];
    this.node = null;
    this.core = null;
    this.inbox = null;
    this.disk.crash(tear);
  }
}
