// Where the other members are: their peer addresses (handed to the transport) and API base
// URLs (for leader hints and forwarding), learnt from the options, from snapshots and from
// committed membership changes. A member's context is its peer address, or JSON
// `{"peer": "...", "api": "..."}`.

import type { ConfChange, NodeId } from '../raft/index.js';
import type { Transport } from '../transport/index.js';

export class PeerDirectory {
  private readonly api: Map<NodeId, string>;

  constructor(
    private readonly self: NodeId,
    private readonly transport: Pick<Transport, 'setPeer' | 'removePeer'>,
    apiAddresses: ReadonlyMap<NodeId, string>,
  ) {
    this.api = new Map(apiAddresses);
  }

  /** API base URL of a member, if known. */
  apiAddress(id: NodeId): string | null {
    return this.api.get(id) ?? null;
  }

  setApiAddress(id: NodeId, url: string): void {
    this.api.set(id, url);
  }

  /** A membership change was applied: reach an added member, forget a removed one. */
  applyConfChange(change: ConfChange): void {
    if (change.node === this.self) return;
    if (change.kind === 'remove') {
      this.transport.removePeer(change.node);
      return;
    }
    if (change.context) this.learn(change.node, change.context);
  }

  /** Every member's context, as a snapshot's configuration records them. */
  learnAll(contexts: Readonly<Record<NodeId, string>>): void {
    for (const [id, context] of Object.entries(contexts)) if (id !== this.self) this.learn(id, context);
  }

  private learn(id: NodeId, context: string): void {
    let peer: string | undefined = context;
    if (context.startsWith('{')) {
      try {
        const parsed = JSON.parse(context) as { peer?: unknown; api?: unknown };
        peer = typeof parsed.peer === 'string' ? parsed.peer : undefined;
        if (typeof parsed.api === 'string') this.api.set(id, parsed.api);
      } catch {
        peer = undefined;
      }
    }
    if (peer) this.transport.setPeer(id, peer);
  }
}
