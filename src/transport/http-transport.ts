// Peer transport on its own port. Outgoing: one PeerSender per peer (own queue, own
// connections, own backoff). Incoming: a node:http server that takes
//  - GET /raft/stream upgraded to a message stream (message-stream.ts): length-prefixed
//    batches, one per socket write, for all messages but snapshots;
//  - POST /raft/snapshot: a snapshot streamed in chunks, reassembled before delivery.
// Every stream and request must carry `Authorization: Bearer <secret>` (when a secret is
// set) and come from a known peer id (or an id that runs as one: options.runsAs): 401 / 403
// otherwise, before anything is read.
// The receiver of a stream acknowledges frames (stream-liveness.ts) so that its sender can
// tell a live connection from one a partition left silent.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Message, NodeId } from '../raft/index.js';
import { DecodeError, decodeBatch, decodeSnapshotHeader } from './codec.js';
import { FROM_HEADER, PeerSender, SNAPSHOT_PATH } from './peer-sender.js';
import { FrameReader, STREAM_PATH, STREAM_PROTOCOL, STREAM_PROTOCOL_V1 } from './message-stream.js';
import type { PeerStats } from './peer-sender.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { AckWriter } from './stream-liveness.js';
import type { MessageHandler, Transport } from './types.js';
import { resolveTransportOptions } from './options.js';
import type { HttpTransportOptions, ResolvedTransportOptions } from './options.js';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

export class HttpTransport implements Transport {
  private readonly id: NodeId;
  private readonly peers = new Map<NodeId, PeerSender>();
  private readonly server: Server;
  private readonly log: RateLimitedLog;
  private readonly expectedAuth: Buffer | null;
  private handler: MessageHandler | null = null;
  private closed = false;
  private droppedUnknown = 0;
  /** Incoming message streams (server.close() does not end upgraded sockets). */
  private readonly streams = new Set<Duplex>();
  /** The latest incoming stream from each peer: a newer one replaces (closes) the older. */
  private readonly incoming = new Map<NodeId, Duplex>();

  private readonly options: ResolvedTransportOptions;

  constructor(options: HttpTransportOptions) {
    this.options = resolveTransportOptions(options);
    this.id = options.id;
    this.log = new RateLimitedLog(options.logger);
    this.expectedAuth = options.secret === null ? null : sha256(`Bearer ${options.secret}`);
    for (const [id, address] of options.peers) this.setPeer(id, address);
    const tls = this.options.tls;
    this.server =
      tls === null
        ? createServer((req, res) => void this.handle(req, res))
        : createTlsServer({ cert: tls.cert, key: tls.key }, (req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.acceptStream(req, socket, head),
    );
    // Longer than the senders' keep-alive, so a client never reuses a socket the server is closing.
    this.server.keepAliveTimeout = 65_000;
  }

  /** Resolves once the server is listening. */
  start(onMessage: MessageHandler): Promise<void> {
    if (this.handler) return Promise.reject(new Error('HttpTransport already started'));
    this.handler = onMessage;
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.listen.port, this.options.listen.host, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) =>
          this.options.logger?.warn({ err: err.message }, 'peer server error'),
        );
        this.options.logger?.info(
          { id: this.id, ...this.address(), auth: this.expectedAuth !== null },
          'peer transport listening',
        );
        resolve();
      });
    });
  }

  /** The bound address (the real port when listening on port 0). */
  address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo | null;
    if (!a) throw new Error('HttpTransport is not listening');
    return { host: a.address, port: a.port };
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const touched = new Set<PeerSender>();
    for (const m of messages) {
      const peer = this.peerFor(m.to);
      if (!peer) {
        this.droppedUnknown++;
        this.log.warn(
          `no-address:${m.to}`,
          { to: m.to, type: m.type, dropped: this.droppedUnknown },
          'no address for peer, message dropped',
        );
        continue;
      }
      peer.enqueue(m);
      touched.add(peer);
    }
    for (const peer of touched) peer.kick();
  }

  setPeer(id: NodeId, address: string): void {
    if (id === this.id || this.closed) return;
    const existing = this.peers.get(id);
    if (existing) {
      existing.setAddress(address);
      return;
    }
    this.peers.set(
      id,
      new PeerSender({
        self: this.id,
        peer: id,
        address,
        authorization: this.options.secret === null ? null : `Bearer ${this.options.secret}`,
        maxQueue: this.options.maxQueue,
        maxBatchBytes: this.options.maxBatchBytes,
        snapshotChunkBytes: this.options.snapshotChunkBytes,
        backoffBaseMs: this.options.backoffBaseMs,
        backoffCapMs: this.options.backoffCapMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
        silenceMs: this.options.silenceMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
        tlsCa: this.options.tlsCa,
        log: this.log,
      }),
    );
  }

  /** The sender for `id`: a known peer's, or one made for an id that runs as a known peer (options.runsAs). */
  private peerFor(id: NodeId): PeerSender | undefined {
    const known = this.peers.get(id);
    if (known !== undefined) return known;
    const as = this.options.runsAs?.(id) ?? null;
    const host = as === null ? undefined : this.peers.get(as);
    if (host === undefined) return undefined;
    this.setPeer(id, host.target());
    return this.peers.get(id);
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    void peer.stop();
  }

  /** Per-peer queue and delivery counters (for status pages and metrics). */
  stats(): Record<NodeId, PeerStats> {
    const out: Record<NodeId, PeerStats> = {};
    for (const [id, peer] of this.peers) out[id] = peer.stats();
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = null;
    const stopping = [...this.peers.values()].map((p) => p.stop());
    this.peers.clear();
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    this.incoming.clear();
    const closing = this.server.listening
      ? new Promise<void>((resolve) => {
          this.server.close(() => resolve());
          this.server.closeAllConnections();
        })
      : Promise.resolve();
    await Promise.all([...stopping, closing]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.url === STREAM_PATH) throw new HttpError(426, `upgrade to ${STREAM_PROTOCOL} to send messages`);
      if (req.url !== SNAPSHOT_PATH) throw new HttpError(404, 'unknown route');
      if (req.method !== 'POST') throw new HttpError(405, 'POST only');
      const from = this.authenticate(req);
      const handler = this.handler;
      if (!handler) throw new HttpError(503, 'transport is closing');
      const snapshot = await this.readSnapshot(req);
      this.checkAddressing(req, snapshot, from);
      handler(snapshot);
      res.writeHead(204).end();
    } catch (err) {
      const status = err instanceof HttpError ? err.status : err instanceof DecodeError ? 400 : 500;
      if (status === 500)
        this.options.logger?.warn({ err: (err as Error).message, url: req.url }, 'peer request failed');
      if (!res.headersSent) {
        // After a refusal the rest of the body is not worth reading: close the connection.
        res.writeHead(status, {
          'content-type': 'text/plain',
          ...(req.complete ? {} : { connection: 'close' }),
        });
        res.end((err as Error).message);
      }
    }
  }

  /** A peer opens its message stream: check it like a request, then read frames until it closes. */
  private acceptStream(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let from: NodeId;
    const protocol = (req.headers.upgrade ?? '').toLowerCase();
    try {
      if (req.url !== STREAM_PATH) throw new HttpError(404, 'unknown route');
      if (protocol !== STREAM_PROTOCOL && protocol !== STREAM_PROTOCOL_V1) {
        throw new HttpError(400, `expected Upgrade: ${STREAM_PROTOCOL}`);
      }
      from = this.authenticate(req);
      if (!this.handler) throw new HttpError(503, 'transport is closing');
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      const text = (err as Error).message;
      // The refused peer may reset the connection while the answer is written.
      socket.on('error', () => socket.destroy());
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${protocol}\r\nConnection: Upgrade\r\n\r\n`);
    (socket as Socket).setNoDelay?.(true);
    this.streams.add(socket);
    // The sender opened a new stream: the old one is dead to it (silent or replaced).
    this.incoming.get(from)?.destroy();
    this.incoming.set(from, socket);
    const acks = protocol === STREAM_PROTOCOL ? new AckWriter(socket, this.options.silenceMs / 4) : null;
    const reader = new FrameReader(this.options.maxRequestBytes);
    const onData = (chunk: Buffer): void => {
      try {
        let frames = 0;
        for (const body of reader.push(chunk)) {
          const messages = decodeBatch(body);
          for (const m of messages) this.checkAddressing(req, m, from);
          for (const m of messages) this.handler?.(m);
          frames++;
        }
        acks?.received(frames);
      } catch (err) {
        // A refused or undecodable batch ends the stream; the sender reconnects and is checked again.
        if (!(err instanceof HttpError)) {
          this.options.logger?.warn(
            { err: (err as Error).message, from },
            'bad frame on a message stream; closing it',
          );
        }
        socket.destroy();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.streams.delete(socket);
      if (this.incoming.get(from) === socket) this.incoming.delete(from);
    });
    if (head.length > 0) onData(head);
  }

  /** Checks the shared secret and the sender's id; returns the sender's id. */
  private authenticate(req: IncomingMessage): NodeId {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (this.expectedAuth) {
      const given = req.headers.authorization;
      if (given === undefined || !timingSafeEqual(sha256(given), this.expectedAuth)) {
        this.options.onUnauthorized?.({ remote, reason: 'secret' });
        this.log.warn(
          `401:${req.socket.remoteAddress ?? '?'}`,
          { remote, credentials: given === undefined ? 'missing' : 'wrong' },
          'peer request refused: bad cluster secret',
        );
        throw new HttpError(401, 'missing or wrong cluster secret');
      }
    }
    const from = req.headers[FROM_HEADER];
    if (typeof from !== 'string' || this.peerFor(from) === undefined) {
      const fields = typeof from === 'string' ? { remote, from } : { remote };
      this.options.onUnauthorized?.({ ...fields, reason: 'peer' });
      this.log.warn(`403:${String(from)}`, fields, 'peer request refused: sender is not a known member');
      throw new HttpError(403, `unknown peer ${String(from)}`);
    }
    return from;
  }

  private checkAddressing(req: IncomingMessage, m: Message, from: NodeId): void {
    if (m.from !== from || this.peerFor(m.from) === undefined) {
      const remote = req.socket.remoteAddress ?? '?';
      this.options.onUnauthorized?.({ remote, reason: 'peer', from: m.from });
      this.log.warn(
        `403:${m.from}`,
        { remote, from: m.from, header: from },
        'peer message refused: sender is not a known member',
      );
      throw new HttpError(403, `unknown peer ${m.from}`);
    }
    if (m.to !== this.id) {
      this.log.warn(
        `421:${m.to}`,
        { from: m.from, to: m.to, self: this.id },
        'peer message for another member refused',
      );
      throw new HttpError(421, `this is ${this.id}, not ${m.to}`);
    }
  }

  /** Reassembles a streamed snapshot: u32 header length | header | data. */
  private async readSnapshot(req: IncomingMessage): Promise<Message> {
    const limit = this.options.maxSnapshotBytes;
    let head: Buffer = Buffer.alloc(0);
    let header: ReturnType<typeof decodeSnapshotHeader> | null = null;
    let data = new Uint8Array(0);
    let filled = 0;
    const take = (bytes: Buffer): void => {
      if (!header) throw new Error('unreachable: data before header');
      if (filled + bytes.length > data.length)
        throw new HttpError(400, `snapshot longer than the ${data.length} bytes announced`);
      data.set(bytes, filled);
      filled += bytes.length;
    };
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (header) {
        take(chunk);
        continue;
      }
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < 4) continue;
      const headerLength = head.readUInt32BE(0);
      if (headerLength > 1024 * 1024) throw new HttpError(400, 'snapshot header too large');
      if (head.length < 4 + headerLength) continue;
      header = decodeSnapshotHeader(head.subarray(4, 4 + headerLength));
      if (header.dataLength > limit)
        throw new HttpError(413, `snapshot of ${header.dataLength} bytes exceeds ${limit}`);
      data = new Uint8Array(header.dataLength);
      take(head.subarray(4 + headerLength));
    }
    if (!header) throw new HttpError(400, 'snapshot stream ended inside its header');
    if (filled !== data.length)
      throw new HttpError(400, `snapshot stream ended after ${filled} of ${data.length} bytes`);
    return {
      type: 'snapshot',
      from: header.from,
      to: header.to,
      term: header.term,
      snapshot: { meta: header.meta, data },
    };
  }
}
