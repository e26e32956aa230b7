// The transport contract the node driver writes against (docs/architecture.md §4):
// fire-and-forget sends that never block the Ready loop.

import type { Message, NodeId } from '../raft/index.js';

export type MessageHandler = (message: Message) => void;

export interface Transport {
  /** Start receiving; `onMessage` is called for every message addressed to this node. */
  start(onMessage: MessageHandler): Promise<void>;
  /** Fire and forget, never blocks the Ready loop; per-peer queues; drops on overflow. */
  send(messages: readonly Message[]): void;
  /** Peer addresses may change with membership. */
  setPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  close(): Promise<void>;
}

/** The part of a pino logger the transports use. */
export interface TransportLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * TLS on the peer port: the server presents `cert`/`key`; senders verify peers against `ca`
 * (PEM). Peers still authenticate with the cluster secret on top (Authorization: Bearer).
 */
export interface PeerTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca: string | Buffer | null;
}
