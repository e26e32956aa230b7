// One peer's outgoing side, with loops of its own so a dead or slow peer only ever delays
// itself. Two lanes, each on its own keep-alive connection:
//  - messages: a bounded queue drained into one POST per round (a binary batch);
//  - snapshots: the latest InstallSnapshot, streamed in chunks on its own route, so a
//    long transfer never holds up heartbeats.
// Each lane backs off exponentially with jitter (capped) while the peer fails.

import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import type { InstallSnapshot, Message, NodeId } from '../raft/messages.js';
import { beginBatch, encodeSnapshotHeader, endBatch, writeMessage, Writer } from './codec.js';
import type { RateLimitedLog } from './rate-limited-log.js';

export interface PeerSenderOptions {
  readonly self: NodeId;
  readonly peer: NodeId;
  readonly address: string;
  /** The Authorization header value, or null when the cluster runs without a secret. */
  readonly authorization: string | null;
  readonly maxQueue: number;
  readonly maxBatchBytes: number;
  readonly snapshotChunkBytes: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly requestTimeoutMs: number;
  readonly log: RateLimitedLog;
}

export interface PeerStats {
  readonly address: string;
  /** Messages waiting in the queue. */
  readonly queued: number;
  /** Messages the peer acknowledged receiving. */
  readonly sent: number;
  /** Messages dropped because the queue was full (or a newer snapshot replaced a pending one). */
  readonly dropped: number;
  /** Messages lost with a failed request. */
  readonly failed: number;
  /** Consecutive failed batch requests (0 when the peer is healthy). */
  readonly consecutiveFailures: number;
}

export const MESSAGES_PATH = '/raft/messages';
/** Batch requests in flight per peer. */
const PIPELINE = 4;
export const SNAPSHOT_PATH = '/raft/snapshot';
export const FROM_HEADER = 'x-raft3d-from';

export function originOf(address: string): string {
  return /^https?:\/\//.test(address) ? address : `http://${address}`;
}

interface Lane {
  client: Client;
  running: boolean;
  failures: number;
}

export class PeerSender {
  private queue: Message[] = [];
  private pendingSnapshot: InstallSnapshot | null = null;
  private readonly messages: Lane;
  private readonly snapshots: Lane;
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
    this.messages = { client: this.connect(options.address, PIPELINE), running: false, failures: 0 };
    this.snapshots = { client: this.connect(options.address), running: false, failures: 0 };
    this.headers = { 'content-type': 'application/octet-stream', [FROM_HEADER]: options.self };
    if (options.authorization !== null) this.headers['authorization'] = options.authorization;
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

  /** Starts idle sender loops that have work; call after enqueueing. */
  kick(): void {
    if (this.stopped) return;
    if (!this.messages.running && this.queue.length > 0) void this.messageLoop();
    if (!this.snapshots.running && this.pendingSnapshot) void this.snapshotLoop();
  }

  setAddress(address: string): void {
    if (address === this.address || this.stopped) return;
    this.address = address;
    for (const lane of [this.messages, this.snapshots]) {
      const old = lane.client;
      lane.client = this.connect(address, lane === this.messages ? PIPELINE : 1);
      lane.failures = 0;
      void old.destroy().catch(() => undefined);
    }
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
    await Promise.all([this.messages, this.snapshots].map((l) => l.client.destroy().catch(() => undefined)));
  }

  private connect(address: string, pipelining = 1): Client {
    return new Client(originOf(address), {
      keepAliveTimeout: 30_000,
      connectTimeout: Math.min(2_000, this.options.requestTimeoutMs),
      headersTimeout: this.options.requestTimeoutMs,
      bodyTimeout: this.options.requestTimeoutMs,
      pipelining,
    });
  }

  /**
   * Keeps up to PIPELINE batch requests in flight on the peer's one keep-alive connection
   * (HTTP/1.1 pipelining: the peer reads them in order, so messages arrive in send order).
   * Waiting for each response before sending the next batch would add a full round trip
   * to every message queued behind a heartbeat.
   */
  private async messageLoop(): Promise<void> {
    const lane = this.messages;
    lane.running = true;
    const inflight = new Set<Promise<void>>();
    try {
      while (!this.stopped && (this.queue.length > 0 || inflight.size > 0)) {
        // After a failure only one request at a time, each after its backoff (in settle).
        const room = lane.failures === 0 ? inflight.size < PIPELINE : inflight.size === 0;
        if (this.queue.length > 0 && room) {
          const request: Promise<void> = this.sendBatch(lane).then(async (ok) => {
            await this.settle(lane, ok);
            inflight.delete(request);
          });
          inflight.add(request);
          continue;
        }
        await Promise.race(inflight);
      }
    } finally {
      lane.running = false;
    }
  }

  private async snapshotLoop(): Promise<void> {
    const lane = this.snapshots;
    lane.running = true;
    try {
      while (!this.stopped && this.pendingSnapshot) {
        const m = this.pendingSnapshot;
        this.pendingSnapshot = null;
        await this.settle(lane, await this.streamSnapshot(lane, m));
      }
    } finally {
      lane.running = false;
    }
  }

  /** Resets a lane's backoff after a success, or waits it out after a failure. */
  private async settle(lane: Lane, ok: boolean): Promise<void> {
    if (ok) {
      if (lane.failures > 0) this.options.log.reset(`unreachable:${this.options.peer}`);
      lane.failures = 0;
      return;
    }
    if (this.stopped) return;
    lane.failures++;
    const { backoffBaseMs, backoffCapMs } = this.options;
    const ceiling = Math.min(backoffCapMs, backoffBaseMs * 2 ** Math.min(lane.failures - 1, 20));
    // "Equal jitter": at least half the ceiling, so a flapping peer is not hammered.
    const ms = ceiling / 2 + Math.random() * (ceiling / 2);
    try {
      await sleep(ms, undefined, { signal: this.abort.signal });
    } catch {
      // stopped
    }
  }

  /** Encodes as many queued messages as fit in one request and posts them. */
  private sendBatch(lane: Lane): Promise<boolean> {
    const w = this.writer;
    const countAt = beginBatch(w);
    let count = 0;
    for (const m of this.queue) {
      if (count > 0 && w.length >= this.options.maxBatchBytes) break;
      writeMessage(w, m);
      count++;
    }
    this.queue.splice(0, count);
    // A copy: the writer is reused for the next batch while this one may still be in flight.
    const body = Buffer.from(endBatch(w, countAt, count));
    return this.post(lane, MESSAGES_PATH, body, count, this.options.requestTimeoutMs);
  }

  private streamSnapshot(lane: Lane, m: InstallSnapshot): Promise<boolean> {
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
    return this.post(lane, SNAPSHOT_PATH, Readable.from(chunks(), { objectMode: false }), 1, timeout);
  }

  private async post(
    lane: Lane,
    path: string,
    body: Buffer | Readable,
    count: number,
    timeoutMs: number,
  ): Promise<boolean> {
    const { peer } = this.options;
    try {
      const res = await lane.client.request({
        path,
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
