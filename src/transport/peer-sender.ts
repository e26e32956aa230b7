// One peer's outgoing side, with loops of its own so a dead or slow peer only ever delays
// itself. Two lanes, each on its own connection:
//  - messages: a bounded queue drained into frames on a long-lived message stream
//    (message-stream.ts), one socket write per batch;
//  - snapshots: the latest InstallSnapshot, streamed in chunks as an HTTP POST on its own
//    keep-alive connection, so a long transfer never holds up heartbeats.
// Each lane backs off exponentially with jitter (capped) while the peer fails. A message
// stream whose frames go unacknowledged for `silenceMs` is dropped and reopened
// (stream-liveness.ts): after a partition heals, a fresh connection works at once where
// the old one may sit in TCP retransmission back-off for tens of seconds.

import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Client } from 'undici';
import type { InstallSnapshot, Message, NodeId } from '../raft/index.js';
import { Coalescer } from '../util/index.js';
import { beginBatch, encodeSnapshotHeader, endBatch, writeMessage, Writer } from './codec.js';
import { frame, openStream, StreamRefusedError } from './message-stream.js';
import type { ResolvedTransportOptions } from './options.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import { AckWatch } from './stream-liveness.js';

/** The transport's resolved settings (src/transport/options.ts) a sender uses, and who it sends for and to. */
export interface PeerSenderOptions extends Pick<
  ResolvedTransportOptions,
  | 'maxQueue'
  | 'maxBatchBytes'
  | 'snapshotChunkBytes'
  | 'backoffBaseMs'
  | 'backoffCapMs'
  | 'requestTimeoutMs'
  | 'silenceMs'
  | 'connectTimeoutMs'
  | 'tlsCa'
> {
  readonly self: NodeId;
  readonly peer: NodeId;
  readonly address: string;
  /** The Authorization header value, or null when the cluster runs without a secret. */
  readonly authorization: string | null;
  readonly log: RateLimitedLog;
}

export interface PeerStats {
  readonly address: string;
  /** Messages waiting in the queue. */
  readonly queued: number;
  /**
   * Messages handed to the peer: written to its message stream's socket (a write, not an
   * acknowledgement: a frame the peer never read still counts), or a snapshot it answered 2xx.
   */
  readonly sent: number;
  /** Messages dropped because the queue was full (or a newer snapshot replaced a pending one). */
  readonly dropped: number;
  /** Messages given up on: taken from the queue while no stream could be opened, or a snapshot whose POST failed. */
  readonly failed: number;
  /** Consecutive failures of the message lane, to connect or to drain (0 when the peer is healthy). */
  readonly consecutiveFailures: number;
}

export const SNAPSHOT_PATH = '/raft/snapshot';
export const FROM_HEADER = 'x-raft3d-from';

function originOf(address: string, tls: boolean): string {
  return /^https?:\/\//.test(address) ? address : `${tls ? 'https' : 'http'}://${address}`;
}

export class PeerSender {
  private queue: Message[] = [];
  private pendingSnapshot: InstallSnapshot | null = null;
  /** The two lanes' workers: one step is one batch, or one snapshot; a failed step backs off. */
  private readonly messages: Coalescer;
  private readonly snapshots: Coalescer;
  /** The open message stream, if any, and the watch on its acks. */
  private stream: Socket | null = null;
  private watch: AckWatch | null = null;
  /** Carries snapshots (HTTP POST). */
  private snapshotClient: Client;
  private stopped = false;
  private address: string;
  private sent = 0;
  private dropped = 0;
  private failed = 0;
  private readonly abort = new AbortController();
  private readonly writer = new Writer();
  private readonly headers: Record<string, string>;

  constructor(private readonly options: PeerSenderOptions) {
    this.address = options.address;
    this.snapshotClient = this.connect(options.address);
    this.headers = { 'content-type': 'application/octet-stream', [FROM_HEADER]: options.self };
    if (options.authorization !== null) this.headers['authorization'] = options.authorization;
    const lane = {
      backoffMs: (failures: number) => this.backoffMs(failures),
      onRecovery: () => this.recovered(),
    };
    this.messages = new Coalescer({
      ...lane,
      hasWork: () => !this.stopped && this.queue.length > 0,
      step: () => this.sendBatch(),
    });
    this.snapshots = new Coalescer({
      ...lane,
      hasWork: () => !this.stopped && this.pendingSnapshot !== null,
      step: () => this.sendSnapshot(),
    });
  }

  enqueue(message: Message): void {
    if (this.stopped) return;
    if (message.type === 'snapshot') {
      // Only the newest snapshot is worth sending.
      if (this.pendingSnapshot) this.dropped++;
      this.pendingSnapshot = message;
      return;
    }
    this.queue.push(message);
    if (this.queue.length > this.options.maxQueue) {
      // Drop the oldest: Raft retransmits, and the newest messages carry the freshest state.
      const excess = this.queue.length - this.options.maxQueue;
      this.queue.splice(0, excess);
      this.dropped += excess;
      this.options.log.warn(
        `overflow:${this.options.peer}`,
        { peer: this.options.peer, dropped: this.dropped },
        'peer queue full, dropping oldest messages',
      );
    }
  }

  /** Starts idle lanes that have work; call after enqueueing. */
  kick(): void {
    this.messages.poke();
    this.snapshots.poke();
  }

  /** Where this peer is reached now. */
  target(): string {
    return this.address;
  }

  setAddress(address: string): void {
    if (address === this.address || this.stopped) return;
    this.address = address;
    if (this.stream) this.dropStream(this.stream, null);
    const old = this.snapshotClient;
    this.snapshotClient = this.connect(address);
    this.messages.resetBackoff();
    this.snapshots.resetBackoff();
    void old.destroy().catch(() => undefined);
  }

  stats(): PeerStats {
    return {
      address: this.address,
      queued: this.queue.length + (this.pendingSnapshot ? 1 : 0),
      sent: this.sent,
      dropped: this.dropped,
      failed: this.failed,
      consecutiveFailures: this.messages.failures,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    this.pendingSnapshot = null;
    this.abort.abort();
    // The lanes end after the step under way (which the abort and the dropped stream cut short).
    void this.messages.stop();
    void this.snapshots.stop();
    if (this.stream) this.dropStream(this.stream, null);
    await this.snapshotClient.destroy().catch(() => undefined);
  }

  private connect(address: string): Client {
    const ca = this.options.tlsCa;
    return new Client(originOf(address, ca !== null), {
      ...(ca === null ? {} : { connect: { ca } }),
      keepAliveTimeout: 30_000,
      connectTimeout: Math.min(2_000, this.options.requestTimeoutMs),
      headersTimeout: this.options.requestTimeoutMs,
      bodyTimeout: this.options.requestTimeoutMs,
      pipelining: 1,
    });
  }

  /**
   * One batch of the queue as a frame on the message stream. In the common case nothing is
   * awaited: a batch is one socket write. Throws (the lane backs off) when the peer cannot
   * be reached or stops reading.
   */
  private async sendBatch(): Promise<void> {
    const stream = this.stream ?? (await this.connectStream());
    const { body, count } = this.takeBatch();
    if (stream === null) {
      // Whatever was queued during a failed connect is stale by the end of the backoff.
      this.failed += count;
      throw new Error(`peer ${this.options.peer} unreachable`);
    }
    const flushed = stream.write(frame(body));
    this.watch?.wrote();
    this.sent += count;
    if (!flushed && !(await this.drained(stream))) {
      const error = new Error('the peer stopped reading');
      this.dropStream(stream, error);
      throw error;
    }
  }

  /** Opens the message stream; null (after logging) when the peer cannot be reached or refuses. */
  private async connectStream(): Promise<Socket | null> {
    const { peer, requestTimeoutMs } = this.options;
    try {
      const headers: Record<string, string> = { [FROM_HEADER]: this.options.self };
      if (this.options.authorization !== null) headers['authorization'] = this.options.authorization;
      const stream = await openStream(
        this.address,
        headers,
        Math.min(2_000, requestTimeoutMs),
        this.options.connectTimeoutMs,
        this.options.tlsCa,
      );
      if (this.stopped) {
        stream.destroy();
        return null;
      }
      stream.on('error', (err) => this.dropStream(stream, err));
      stream.on('close', () => this.dropStream(stream, null));
      // The only thing coming back is acks: the watch reads them (which also notices the close).
      this.watch = new AckWatch(stream, this.options.silenceMs, (silentFor) =>
        this.dropStream(
          stream,
          new Error(`no acknowledgement for ${Math.round(silentFor)} ms (silent connection)`),
        ),
      );
      this.stream = stream;
      return stream;
    } catch (err) {
      if (this.stopped) return null;
      if (err instanceof StreamRefusedError) {
        this.options.log.warn(
          `status:${peer}:${err.status}`,
          { peer, address: this.address, status: err.status, body: err.body.slice(0, 200) },
          'peer refused messages',
        );
      } else {
        this.options.log.warn(
          `unreachable:${peer}`,
          { peer, address: this.address, err: (err as Error).message },
          'peer unreachable, backing off',
        );
      }
      return null;
    }
  }

  private dropStream(stream: Socket, err: Error | null): void {
    if (this.stream !== stream) return;
    this.stream = null;
    this.watch?.stop();
    this.watch = null;
    stream.destroy();
    if (err && !this.stopped) {
      this.options.log.warn(
        `unreachable:${this.options.peer}`,
        { peer: this.options.peer, address: this.address, err: err.message },
        'message stream to peer lost; reconnecting',
      );
    }
  }

  /** Resolves true once the socket drained, false if it closed or stayed full too long. */
  private drained(stream: Socket): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        stream.off('drain', onDrain);
        stream.off('close', onClose);
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(false), this.options.requestTimeoutMs);
      stream.on('drain', onDrain);
      stream.on('close', onClose);
    });
  }

  /** The newest pending snapshot, streamed; throws (the lane backs off) when it did not arrive. */
  private async sendSnapshot(): Promise<void> {
    const m = this.pendingSnapshot!;
    this.pendingSnapshot = null;
    if (!(await this.streamSnapshot(m))) throw new Error(`snapshot to ${this.options.peer} not delivered`);
  }

  /** The wait after a lane's n-th failure in a row. */
  private backoffMs(failures: number): number {
    const { backoffBaseMs, backoffCapMs } = this.options;
    const ceiling = Math.min(backoffCapMs, backoffBaseMs * 2 ** Math.min(failures - 1, 20));
    // "Equal jitter": at least half the ceiling, so a flapping peer is not hammered.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private recovered(): void {
    this.options.log.reset(`unreachable:${this.options.peer}`);
  }

  /** Encodes as many queued messages as fit in one batch, and takes them off the queue. */
  private takeBatch(): { body: Buffer; count: number } {
    const w = this.writer;
    const countAt = beginBatch(w);
    let count = 0;
    for (const m of this.queue) {
      if (count > 0 && w.length >= this.options.maxBatchBytes) break;
      writeMessage(w, m);
      count++;
    }
    this.queue.splice(0, count);
    return { body: endBatch(w, countAt, count), count };
  }

  private streamSnapshot(m: InstallSnapshot): Promise<boolean> {
    const header = encodeSnapshotHeader(m);
    const data = m.snapshot.data;
    const chunk = this.options.snapshotChunkBytes;
    async function* chunks(): AsyncGenerator<Buffer> {
      yield header;
      for (let off = 0; off < data.byteLength; off += chunk) {
        yield Buffer.from(data.buffer, data.byteOffset + off, Math.min(chunk, data.byteLength - off));
      }
    }
    // Large snapshots take a while to transfer and store: a longer deadline than batches.
    const timeout = Math.max(60_000, this.options.requestTimeoutMs);
    return this.postSnapshot(Readable.from(chunks(), { objectMode: false }), timeout);
  }

  private async postSnapshot(body: Readable, timeoutMs: number): Promise<boolean> {
    const count = 1;
    const { peer } = this.options;
    try {
      const res = await this.snapshotClient.request({
        path: SNAPSHOT_PATH,
        method: 'POST',
        headers: this.headers,
        body,
        signal: this.abort.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump();
        this.sent += count;
        return true;
      }
      const text = await res.body.text();
      this.failed += count;
      this.options.log.warn(
        `status:${peer}:${res.statusCode}`,
        { peer, address: this.address, status: res.statusCode, body: text.slice(0, 200) },
        'peer refused messages',
      );
      return false;
    } catch (err) {
      this.failed += count;
      if (!this.stopped) {
        this.options.log.warn(
          `unreachable:${peer}`,
          { peer, address: this.address, err: (err as Error).message },
          'peer unreachable, backing off',
        );
      }
      return false;
    }
  }
}
