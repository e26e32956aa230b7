// Answers for what never reaches the routes: requests Node's HTTP parser refuses
// (`clientError`: the request line, headers or body framing are not valid HTTP/1.1, or the
// headers are too large), CONNECT, and an `Expect` other than 100-continue. Each gets the
// same problem+json as every other error (src/api/problem.ts) with `Connection: close`.
// Contract: a problem is written only where it cannot be mistaken for part of another
// response; a socket whose current response has begun streaming is destroyed instead.

import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Response } from 'express';
import { ApiError, sendProblem, toProblem } from './problem.js';
import type { Problem } from './problem.js';
import { requestTargetProblem } from './request-target.js';

/** The methods this server implements; anything else is a 501. */
export const IMPLEMENTED_METHODS = 'GET, HEAD, POST, OPTIONS';

/** How long a refused connection is kept open (reading and dropping) for the answer to get out. */
const LINGER_MS = 2_000;

function versionNotSupported(): ApiError {
  return new ApiError(
    'http_version_not_supported',
    'this server speaks HTTP/1.1 (and HTTP/1.0)',
    {},
    { Connection: 'close' },
  );
}

/** What an error from Node's HTTP parser means for the client, or null when there is nobody to answer. */
export function parserProblem(error: Error): ApiError | null {
  const { code, reason } = error as Error & { code?: unknown; reason?: unknown };
  const why = typeof reason === 'string' && reason !== '' ? reason : error.message;
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(
        'headers_too_large',
        `the request line and headers together exceed ${maxHeaderSize} bytes`,
      );
    case 'HPE_INVALID_METHOD':
      return new ApiError(
        'method_not_implemented',
        `the request method is not one this server implements (${IMPLEMENTED_METHODS})`,
      );
    case 'HPE_INVALID_VERSION':
    case 'HPE_PAUSED_H2_UPGRADE': // the HTTP/2 connection preface (PRI * HTTP/2.0)
      return versionNotSupported();
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ApiError('payload_too_large', 'the chunk extensions of the request body are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('request_timeout', 'the request did not arrive in time');
    default:
      if (typeof code === 'string' && code.startsWith('HPE_'))
        return new ApiError('malformed_request', `the request is not valid HTTP/1.1: ${why}`);
      return null; // ECONNRESET and the like: the client is gone
  }
}

/** A whole HTTP/1.1 response carrying `problem`, for a socket no ServerResponse owns. */
export function rawProblemResponse(problem: Problem): string {
  const body = JSON.stringify(problem.body);
  const head = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    `Date: ${new Date().toUTCString()}`,
    ...Object.entries(problem.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Ends the connection after `response`. The socket keeps reading (and dropping) whatever
 * the client still sends, for a while: closing with unread bytes makes the kernel send a
 * reset, which can destroy the answer before the client has read it.
 */
function endWith(socket: Duplex, response: string): void {
  socket.end(response);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

type ParsedSocket = Duplex & { _httpMessage?: ServerResponse | null };

/** Sockets already answered: the parser fails again on every byte that follows. */
const answered = new WeakSet<Duplex>();

/** The server's `clientError` handler. */
export function answerClientError(error: Error, socket: Duplex): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  const refusal = parserProblem(error);
  if (refusal === null || !socket.writable) {
    socket.destroy();
    return;
  }
  const problem = toProblem(refusal);
  const inFlight = (socket as ParsedSocket)._httpMessage ?? null;
  if (inFlight === null) {
    endWith(socket, rawProblemResponse(problem));
    return;
  }
  const req = (inFlight as ServerResponse & { req: IncomingMessage }).req;
  if (!inFlight.headersSent && !req.complete) {
    // This very request's body broke the framing (a bad chunk size): it gets the problem.
    inFlight.setHeader('Connection', 'close');
    sendProblem(inFlight as Response, problem);
    return;
  }
  if (inFlight.headersSent && !inFlight.writableEnded) {
    // A response is streaming on this socket: anything written now would corrupt it.
    socket.destroy();
    return;
  }
  // An earlier pipelined request is still being answered: the problem goes after it.
  inFlight.once('finish', () => {
    if (socket.writable) endWith(socket, rawProblemResponse(problem));
    else socket.destroy();
  });
  inFlight.once('close', () => {
    if (!inFlight.writableFinished) socket.destroy();
  });
}

/** The server's `connect` handler: this server is no proxy. */
export function answerConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  const refusal = new ApiError(
    'method_not_implemented',
    `CONNECT is not implemented: this server is not a proxy (it implements ${IMPLEMENTED_METHODS})`,
  );
  endWith(socket, rawProblemResponse(toProblem(refusal)));
}

/** The server's `checkExpectation` handler: only `Expect: 100-continue` is understood. */
export function answerExpectation(req: IncomingMessage, res: ServerResponse): void {
  const refusal = new ApiError(
    'expectation_failed',
    `Expect: ${String(req.headers.expect)} is not supported (only 100-continue is)`,
    {},
    { Connection: 'close' },
  );
  sendProblem(res as Response, toProblem(refusal));
}

/**
 * Why a request the parser accepted still cannot be served, checked before any routing,
 * or null: a major version other than 1 (the parser lets `HTTP/2.0` through), a target
 * that is not a path (src/api/request-target.ts), or a Host header missing from an
 * HTTP/1.1 request or repeated in any (RFC 9112 §3.2).
 */
export function requestProblem(req: IncomingMessage): ApiError | null {
  if (req.httpVersionMajor !== 1) return versionNotSupported();
  const target = requestTargetProblem(req.method ?? '', req.url ?? '');
  if (target !== null) return target;
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
  if (hosts === 1 || (hosts === 0 && req.httpVersionMinor === 0)) return null;
  return new ApiError(
    'malformed_request',
    hosts === 0
      ? 'an HTTP/1.1 request must carry a Host header'
      : `a request must carry one Host header, not ${hosts}`,
    {},
    { Connection: 'close' },
  );
}
