// The message lane between two peers: one long-lived TCP connection per direction, opened
// by an HTTP/1.1 upgrade (so the shared secret and the sender id are checked exactly like a
// request: 401 / 403 before anything flows), then a stream of frames
//   u32 length (big-endian) | batch (codec.ts: version, count, messages)
// Sending a batch is one socket write with no response to wait for, where one HTTP request
// per batch cost the leader a request, a response and a parse on both sides. Since
// raft3d-stream/2 the receiver writes acks back (stream-liveness.ts) so a sender notices a
// connection that went silent; /1 senders (no acks expected) are still accepted.

import { request } from 'node:http';
import { request as tlsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';

export const STREAM_PATH = '/raft/stream';
export const STREAM_PROTOCOL = 'raft3d-stream/2';
/** The protocol before acks: accepted from older senders, who expect nothing back. */
export const STREAM_PROTOCOL_V1 = 'raft3d-stream/1';

/** The peer answered the upgrade with something other than 101 (e.g. 401, 403). */
export class StreamRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`peer refused the message stream: ${status} ${body.slice(0, 200)}`);
  }
}

/**
 * Opens a message stream to `host:port`; resolves with the raw socket after the 101.
 * `timeoutMs` bounds the whole handshake; `connectTimeoutMs` the TCP connect alone, which
 * only takes long when the path is dead (a SYN lost to a partition is retried after 1 s,
 * then 3 s...), so a short one lets the next attempt start soon after the network heals.
 */
export function openStream(
  address: string,
  headers: Record<string, string>,
  timeoutMs: number,
  connectTimeoutMs = timeoutMs,
  /** Verify the peer's certificate against this CA (PEM) over TLS; null: plain TCP. */
  tlsCa: string | Buffer | null = null,
): Promise<Socket> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const options = {
      host,
      port,
      path: STREAM_PATH,
      method: 'GET',
      agent: false as const,
      headers: { ...headers, connection: 'Upgrade', upgrade: STREAM_PROTOCOL },
    };
    // SNI takes names only; an IP address is checked against the certificate's IP SANs.
    const sni = isIP(host) === 0 ? { servername: host } : {};
    const req = tlsCa === null ? request(options) : tlsRequest({ ...options, ca: tlsCa, ...sni });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`stream handshake timed out after ${timeoutMs} ms`)),
    );
    req.on('socket', (socket: Socket) => {
      if (!socket.connecting || connectTimeoutMs >= timeoutMs) return;
      const timer = setTimeout(
        () => req.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      const clear = (): void => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
    });
    req.on('upgrade', (_res, socket: Socket) => {
      socket.setTimeout(0);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 5_000);
      resolve(socket);
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => reject(new StreamRefusedError(res.statusCode ?? 0, body)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The bytes of one frame: length prefix and batch, in one buffer (one write). */
export function frame(batch: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + batch.length);
  out.writeUInt32BE(batch.length, 0);
  batch.copy(out, 4);
  return out;
}

export class FrameTooLargeError extends Error {}

/**
 * Cuts a byte stream back into frames. Each frame is returned in a buffer of its own,
 * because decoded entries are views into it and must outlive the socket's chunks.
 * Linear in the bytes received however they are chunked: every byte is copied once into
 * the header or into its frame, and nothing already buffered is looked at again (a 70 KB
 * frame arriving a byte at a time once took 86 s here).
 */
export class FrameReader {
  /** The length prefix being read, and how many of its 4 bytes have arrived. */
  private readonly header = Buffer.alloc(4);
  private headerBytes = 0;
  /** Length of the frame whose body is arriving, or -1 while reading a header. */
  private bodyLength = -1;
  /** The body's chunks so far (views into the socket's chunks), and their total size. */
  private body: Buffer[] = [];
  private bodyBytes = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let at = 0;
    for (;;) {
      if (this.bodyLength < 0) {
        const use = Math.min(4 - this.headerBytes, chunk.length - at);
        chunk.copy(this.header, this.headerBytes, at, at + use);
        this.headerBytes += use;
        at += use;
        if (this.headerBytes < 4) break;
        const length = this.header.readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          throw new FrameTooLargeError(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
        }
        this.headerBytes = 0;
        this.bodyLength = length;
      }
      const use = Math.min(this.bodyLength - this.bodyBytes, chunk.length - at);
      if (use > 0) {
        this.body.push(chunk.subarray(at, at + use));
        this.bodyBytes += use;
        at += use;
      }
      if (this.bodyBytes < this.bodyLength) break;
      frames.push(this.takeBody());
    }
    return frames;
  }

  /** The complete body, copied into a new buffer of its own; then back to reading a header. */
  private takeBody(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.bodyLength);
    let filled = 0;
    for (const piece of this.body) {
      piece.copy(out, filled);
      filled += piece.length;
    }
    this.body = [];
    this.bodyBytes = 0;
    this.bodyLength = -1;
    return out;
  }
}
