// Transport between nodes of one test process. A hub routes messages by node id and
// delivers them asynchronously (setImmediate, in send order per batch), copied with
// structuredClone so no two nodes ever share an object. Tests cut links with
// partition()/isolate() and restore them with heal().

import type { Message, NodeId } from '../raft/index.js';
import type { MessageHandler, Transport } from './types.js';

export class InProcessHub {
  private readonly nodes = new Map<NodeId, MessageHandler>();
  /** Cut links, stored as "a\u0000b" in both directions. */
  private readonly cut = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  /** Messages dropped by partitions or to unknown nodes, for tests. */
  dropped = 0;
  delivered = 0;

  register(id: NodeId, handler: MessageHandler): void {
    if (this.nodes.has(id)) throw new Error(`InProcessHub: node ${id} is already registered`);
    this.nodes.set(id, handler);
  }

  unregister(id: NodeId, handler: MessageHandler): void {
    if (this.nodes.get(id) === handler) this.nodes.delete(id);
  }

  /** Cuts every link between the nodes of `a` and the nodes of `b`, both ways. */
  partition(a: NodeId | readonly NodeId[], b: NodeId | readonly NodeId[]): void {
    for (const x of typeof a === 'string' ? [a] : a) {
      for (const y of typeof b === 'string' ? [b] : b) {
        this.cut.add(`${x}\u0000${y}`);
        this.cut.add(`${y}\u0000${x}`);
      }
    }
  }

  /** Cuts `id` off from every other node. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Restores every link. */
  heal(): void {
    this.cut.clear();
    this.isolated.clear();
  }

  canReach(from: NodeId, to: NodeId): boolean {
    if (from === to) return true;
    return !this.isolated.has(from) && !this.isolated.has(to) && !this.cut.has(`${from}\u0000${to}`);
  }

  /** Schedules delivery of a batch; links are checked again at delivery time. */
  route(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const copies = structuredClone(messages) as Message[];
    setImmediate(() => {
      for (const m of copies) {
        const handler = this.nodes.get(m.to);
        if (!handler || !this.canReach(m.from, m.to)) {
          this.dropped++;
          continue;
        }
        this.delivered++;
        handler(m);
      }
    });
  }
}

export class InProcessTransport implements Transport {
  private handler: MessageHandler | null = null;
  /** Peers removed by membership changes: nothing is sent to them until setPeer again. */
  private readonly removed = new Set<NodeId>();

  constructor(
    private readonly hub: InProcessHub,
    readonly id: NodeId,
  ) {}

  async start(onMessage: MessageHandler): Promise<void> {
    if (this.handler) throw new Error(`InProcessTransport ${this.id}: already started`);
    this.hub.register(this.id, onMessage);
    this.handler = onMessage;
  }

  send(messages: readonly Message[]): void {
    if (!this.handler) return;
    const out = this.removed.size === 0 ? messages : messages.filter((m) => !this.removed.has(m.to));
    this.hub.route(out);
  }

  setPeer(id: NodeId, _address: string): void {
    this.removed.delete(id);
  }

  removePeer(id: NodeId): void {
    this.removed.add(id);
  }

  close(): Promise<void> {
    if (this.handler) this.hub.unregister(this.id, this.handler);
    this.handler = null;
    return Promise.resolve();
  }
}
