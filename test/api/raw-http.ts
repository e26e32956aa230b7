// Raw HTTP/1.1 over node:net for the tests that send what fetch never would (absolute-form
// targets, malformed request lines, bad framing), a parser for the one answer that comes
// back, and a listener that records every connection it gets (and must get none).

import type { ExecutionContext } from 'ava';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export interface RawAnswer {
  /** Everything the server sent, as latin1 text. */
  readonly raw: string;
  /** The status of the first response, or null when nothing (or no status line) came back. */
  readonly status: number | null;
  /** Header names lower-cased; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The server closed the connection (rather than the test's timeout ending the wait). */
  readonly closedByServer: boolean;
}

/** Parses the first HTTP response in `raw` (Content-Length bodies, or the rest of the text). */
export function parseAnswer(raw: string, closedByServer: boolean): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const lines = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = end === -1 ? '' : raw.slice(end + 4);
  const length = headers['content-length'];
  if (length !== undefined) body = body.slice(0, Number(length));
  return { raw, status: match ? Number(match[1]) : null, headers, body, closedByServer };
}

/**
 * Writes `request` (string as latin1, or bytes) to `base`'s host and port, and collects what
 * comes back until the server closes the connection or `waitMs` passes.
 */
export function rawRequest(base: string, request: string | Buffer, waitMs = 3_000): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1'), closedByServer));
    };
    const timer = setTimeout(settle, waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
      settle();
    });
    socket.on('close', settle);
    socket.on('error', settle);
    socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
  });
}

/** Asserts a complete problem+json answer with `status` and `code` that closes the connection. */
export function assertRawProblem(
  t: ExecutionContext,
  answer: RawAnswer,
  status: number,
  code: string,
): Record<string, unknown> {
  t.is(answer.status, status, `expected ${status}, got: ${answer.raw.slice(0, 400)}`);
  t.regex(answer.headers['content-type'] ?? '', /^application\/problem\+json/, answer.raw.slice(0, 400));
  t.is(answer.headers['connection'], 'close');
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    t.fail(`the body is not JSON: ${JSON.stringify(answer.body)}`);
  }
  t.is(body['status'], status);
  t.is(body['code'], code);
  t.is(body['type'], `urn:raft3d:problem:${code}`);
  t.is(typeof body['title'], 'string');
  t.is(typeof body['detail'], 'string');
  t.notRegex(answer.body, /\n\s+at |node_modules|\.ts:\d+/, 'a problem must never carry a stack trace');
  return body;
}

export interface Trap {
  readonly port: number;
  /** What each connection sent so far. */
  readonly received: string[];
  close(): Promise<void>;
}

/** A TCP listener on 127.0.0.1 that records what every connection sends and answers a 200. */
export async function listenTrap(): Promise<Trap> {
  const received: string[] = [];
  const server: Server = createServer((socket) => {
    const index = received.push('') - 1;
    socket.on('data', (chunk: Buffer) => (received[index] += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The body of a raw chunked HTTP/1.1 response (`raw` from its first byte), as far as it arrived. */
export function chunkedBody(raw: Buffer): Buffer {
  let at = raw.indexOf('\r\n\r\n');
  if (at === -1) return Buffer.alloc(0);
  at += 4;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(eol + 2, Math.min(eol + 2 + size, raw.length)));
    at = eol + 2 + size + 2;
    if (at > raw.length) break;
  }
  return Buffer.concat(parts);
}
