// Liveness of a message stream. A TCP connection that lived through a long partition can
// sit in retransmission back-off for tens of seconds after the network heals, taking writes
// and delivering nothing, and a sender that only writes never finds out. So the receiver
// acknowledges what it got (the running count of frames, u32 big-endian, coalesced to at
// most one ack per `ackEveryMs`), and the sender declares the stream dead when frames it
// wrote have gone unacknowledged for `silenceMs`, then reconnects on a fresh connection.
// Contract: `silenceMs` is tuned to the election timeout, `ackEveryMs` well below it.

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';

const ACK_BYTES = 4;

/** Receiver side: counts the frames of one stream and writes coalesced acks back. */
export class AckWriter {
  private frames = 0;
  private lastSentAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Duplex,
    private readonly ackEveryMs: number,
  ) {
    socket.once('close', () => this.stop());
  }

  /** Call after `count` frames were read and handed on. */
  received(count: number): void {
    if (count === 0) return;
    this.frames = (this.frames + count) >>> 0;
    if (this.timer) return;
    const wait = this.lastSentAt + this.ackEveryMs - performance.now();
    if (wait <= 0) this.send();
    else this.timer = setTimeout(() => this.send(), wait);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private send(): void {
    this.timer = null;
    if (this.socket.destroyed || !this.socket.writable) return;
    this.lastSentAt = performance.now();
    const ack = Buffer.allocUnsafe(ACK_BYTES);
    ack.writeUInt32BE(this.frames, 0);
    this.socket.write(ack);
  }
}

/** Sender side: watches the acks of one stream and calls `onSilent` once when they stop. */
export class AckWatch {
  private written = 0;
  private acked = 0;
  /** When the oldest unacknowledged frame was written, or the last ack that made progress. */
  private progressAt = performance.now();
  private partial: Buffer = Buffer.alloc(0);
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    socket: Socket,
    private readonly silenceMs: number,
    private readonly onSilent: (silentForMs: number) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.timer = setInterval(() => this.check(), Math.max(10, silenceMs / 4));
    this.timer.unref();
  }

  /** Call after each frame written to the socket. */
  wrote(): void {
    if (this.outstanding() === 0) this.progressAt = performance.now();
    this.written = (this.written + 1) >>> 0;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private outstanding(): number {
    return (this.written - this.acked) >>> 0;
  }

  private read(chunk: Buffer): void {
    let bytes = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    let latest: number | null = null;
    while (bytes.length >= ACK_BYTES) {
      latest = bytes.readUInt32BE(0);
      bytes = bytes.subarray(ACK_BYTES);
    }
    this.partial = bytes.length > 0 ? Buffer.from(bytes) : Buffer.alloc(0);
    if (latest === null || latest === this.acked) return;
    this.acked = latest;
    this.progressAt = performance.now();
  }

  private check(): void {
    if (this.stopped || this.outstanding() === 0) return;
    const silentFor = performance.now() - this.progressAt;
    if (silentFor < this.silenceMs) return;
    this.stop();
    this.onSilent(silentFor);
  }
}
