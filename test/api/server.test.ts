// createApiServer serves an Express app without re-prototyping each request and response
// (the cost it exists to remove), while Express's helpers, routing and error handling
// still work, and the fallback after the app's own handlers answers sensibly.

import test from 'ava';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiServer } from '../../src/api/index.js';

async function serve(t: { teardown(fn: () => void): void }, app: express.Express): Promise<string> {
  const server: Server = createApiServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('requests and responses are born with the app prototypes and are never re-prototyped', async (t) => {
  const app = express();
  const seen: { req: unknown; res: unknown }[] = [];
  app.get('/items/:id', (req: Request, res: Response) => {
    seen.push({ req: Object.getPrototypeOf(req), res: Object.getPrototypeOf(res) });
    // Express's own helpers, from the inherited prototypes.
    res.status(200).json({ id: req.params['id'], q: req.query['q'], path: req.path, same: req.res === res });
  });
  const base = await serve(t, app);
  for (const id of ['a', 'b']) {
    const r = await fetch(`${base}/items/${id}?q=${id}1`);
    t.is(r.status, 200);
    t.deepEqual(await r.json(), { id, q: `${id}1`, path: `/items/${id}`, same: true });
  }
  t.is(seen.length, 2);
  for (const { req, res } of seen) {
    // The server's own subclasses, sitting directly on the app's prototypes.
    t.not(req, app.request);
    t.not(res, app.response);
    t.is(Object.getPrototypeOf(req), app.request);
    t.is(Object.getPrototypeOf(res), app.response);
    t.true(app.request instanceof IncomingMessage);
    t.true(app.response instanceof ServerResponse);
  }
  t.is(seen[0]!.req, seen[1]!.req, 'one request class for the whole server');
});

test('a request no layer answers gets a problem+json 404', async (t) => {
  const app = express();
  app.get('/only', (_req: Request, res: Response) => void res.end('ok'));
  const base = await serve(t, app);
  const r = await fetch(`${base}/missing`);
  t.is(r.status, 404);
  t.is(r.headers.get('content-type'), 'application/problem+json');
  const body = (await r.json()) as { code: string; instance: string };
  t.is(body.code, 'route_not_found');
  t.is(body.instance, '/missing');
});

test('an error passed on without an error handler becomes a problem, never a stack trace', async (t) => {
  const app = express();
  app.get('/boom', (_req: Request, _res: Response, next: NextFunction) => next(new Error('secret detail')));
  const base = await serve(t, app);
  const r = await fetch(`${base}/boom`);
  t.is(r.status, 500);
  const text = await r.text();
  t.false(text.includes('secret detail'));
  t.false(text.includes('at '));
});

test('an error after the headers were sent cuts the connection instead of corrupting the body', async (t) => {
  const app = express();
  app.get('/half', (_req: Request, res: Response, next: NextFunction) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    next(new Error('late failure'));
  });
  const base = await serve(t, app);
  const r = await fetch(`${base}/half`);
  t.is(r.status, 200);
  await t.throwsAsync(r.text());
});
