// createApiServer(app): the node:http server that serves an Express app without Express
// swapping the prototypes of every request and response.
//
// `app(req, res)` (what `app.listen` and `http.createServer(app)` use) calls
// Object.setPrototypeOf on each req and res to give them Express's helpers. V8 then moves
// both objects to fresh hidden classes, and every later property access on them, in Node's
// HTTP code as well as ours, misses its inline caches. Measured on the bench machine, that
// made a one-route Express app cost 138 µs of CPU per POST instead of 47 µs (docs/performance.md).
// Here the server constructs requests and responses from subclasses that already inherit
// the app's `request`/`response` prototypes, and hands them straight to `app.router`
// (Express 5's public router), doing the rest of what app.handle does itself.
//
// Before any routing, requests whose target is not a path (absolute-form, authority-form)
// or whose Host header is missing or repeated are refused; what Node's parser refuses, and
// CONNECT, is answered by src/api/http-errors.ts. Every refusal is problem+json.

import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Express, Request, Response } from 'express';
import { ApiError, sendProblem, toProblem } from './problem.js';
import {
  IMPLEMENTED_METHODS,
  answerClientError,
  answerConnect,
  answerExpectation,
  requestProblem,
} from './http-errors.js';

/** `tls`: serve HTTPS with this certificate and key (PEM) instead of plain HTTP. */
export function createApiServer(
  app: Express,
  tls: { readonly cert: string | Buffer; readonly key: string | Buffer } | null = null,
): Server {
  class ApiRequest extends IncomingMessage {}
  class ApiResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
  // Once per server, on the prototypes only; instances keep one stable hidden class.
  Object.setPrototypeOf(ApiRequest.prototype, app.request);
  Object.setPrototypeOf(ApiResponse.prototype, app.response);
  const router = app.router;

  const options = {
    IncomingMessage: ApiRequest,
    ServerResponse: ApiResponse,
    // Checked below, so that the answer is a problem like every other refusal.
    requireHostHeader: false,
  };
  const handle = (rawReq: IncomingMessage, rawRes: ServerResponse): void => {
    const req = rawReq as unknown as Request;
    const res = rawRes as unknown as Response;
    req.res = res;
    res.req = req;
    res.locals = Object.create(null) as Record<string, unknown>;
    // Express routes on the path alone, so `http://other-host/api/...` would otherwise
    // reach the routes (and, on a follower, the forwarder).
    const refused = requestProblem(req);
    if (refused !== null) {
      sendProblem(res, toProblem(refused));
      return;
    }
    if (req.url === '*') {
      res.writeHead(204, { Allow: IMPLEMENTED_METHODS });
      res.end();
      return;
    }
    router(req, res, (error?: unknown) => finish(req, res, error));
  };
  const server =
    tls === null
      ? createServer(options, handle)
      : (createTlsServer({ ...options, cert: tls.cert, key: tls.key }, handle) as unknown as Server);
  server.on('clientError', answerClientError);
  server.on('connect', answerConnect);
  server.on('checkExpectation', answerExpectation);
  return server;
}

/**
 * Where the router ends up when no layer answered: the app's own 404 and error handlers
 * answer everything, so this runs only when an error came after the headers were sent
 * (the response cannot be repaired, so the connection is cut, as Express's finalhandler
 * does) or when a handler passed control on without answering.
 */
function finish(req: Request, res: Response, error: unknown): void {
  if (res.headersSent) {
    if (error) req.socket.destroy();
    else if (!res.writableEnded) res.end();
    return;
  }
  const fallback = new ApiError('route_not_found', `no route for ${req.method} ${req.path}`);
  sendProblem(res, toProblem(error ?? fallback, req.originalUrl));
}
