// The Transport a simulated node is started with: sends go to the simulated network (after
// the simulator has checked that what each message promises is durable), and messages the
// network delivers reach the node through its host (see Host.run).
import type { Message, NodeId } from '../../src/raft/index.js';
import type { MessageHandler, Transport } from '../../src/transport/index.js';
import type { Host } from './host.js';

export class SimTransport implements Transport {
  constructor(
    private readonly host: Host,
    private readonly life: number,
    private readonly onSend: (from: NodeId, messages: readonly Message[]) => void,
  ) {}

  async start(onMessage: MessageHandler): Promise<void> {
    if (this.host.life === this.life) this.host.inbox = onMessage;
  }

  send(messages: readonly Message[]): void {
    if (this.host.life !== this.life || !this.host.up) return;
    this.onSend(this.host.id, messages);
  }

  setPeer(): void {}
  removePeer(): void {}
  async close(): Promise<void> {}
}
