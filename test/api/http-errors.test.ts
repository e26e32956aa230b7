// What Node's HTTP parser refuses, and what never reaches a route, is answered like every
// other error: problem+json with the right status and `Connection: close`, a family of
// malformed requests per test, sent over raw sockets. Nothing a refused request carried is
// written, and a connection that is already streaming a response is cut, never written into.

import test from 'ava';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { get } from './client.js';
import { assertRawProblem, rawRequest } from './raw-http.js';

let cluster: InProcessCluster;
let base: string;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 1, sseHeartbeatMs: 60_000 });
  base = (await cluster.waitForLeader()).url;
});
test.after.always(async () => {
  await cluster.stop();
});

const HOST = 'Host: raft3d.test\r\n';
const printer = JSON.stringify({ id: 'smuggled', company: 'C', model: 'M' });
const post = (headers: string, body: string): string =>
  `POST /api/v1/printers HTTP/1.1\r\n${HOST}Content-Type: application/json\r\n${headers}\r\n${body}`;

test('a method the server does not implement is answered 501, CONNECT included', async (t) => {
  for (const line of ['FOO / HTTP/1.1', 'get /healthz HTTP/1.1', 'CONNECT 127.0.0.1:9 HTTP/1.1']) {
    const answer = await rawRequest(base, `${line}\r\n${HOST}\r\n`);
    assertRawProblem(t, answer, 501, 'method_not_implemented');
    t.true(answer.closedByServer, line);
  }
});

test('an HTTP version other than 1.x is answered 505', async (t) => {
  for (const line of ['GET /healthz HTTP/9.9', 'GET /healthz HTTP/1.2', 'GET /healthz HTTP/2.0']) {
    assertRawProblem(t, await rawRequest(base, `${line}\r\n${HOST}\r\n`), 505, 'http_version_not_supported');
  }
  // The HTTP/2 connection preface, sent to an HTTP/1.1 port.
  const preface = await rawRequest(base, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  assertRawProblem(t, preface, 505, 'http_version_not_supported');
});

test('headers or a URL over the size limit are answered 431', async (t) => {
  const headers = await rawRequest(
    base,
    `GET /healthz HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  );
  assertRawProblem(t, headers, 431, 'headers_too_large');
  const url = await rawRequest(base, `GET /api/v1/printers/${'a'.repeat(20_000)} HTTP/1.1\r\n${HOST}\r\n`);
  assertRawProblem(t, url, 431, 'headers_too_large');
});

test('a header with a NUL or an invalid name is answered 400', async (t) => {
  for (const header of ['X-A: a\0b', 'X A: b', 'X-A\0: b']) {
    const answer = await rawRequest(base, `GET /healthz HTTP/1.1\r\n${HOST}${header}\r\n\r\n`);
    assertRawProblem(t, answer, 400, 'malformed_request');
  }
});

test('ambiguous or broken body framing is answered 400 and writes nothing', async (t) => {
  const cases = {
    'two Content-Lengths': post(
      `Content-Length: ${printer.length}\r\nContent-Length: ${printer.length + 1}\r\n`,
      printer,
    ),
    'an invalid Content-Length': post(`Content-Length: ${printer.length}x\r\n`, printer),
    'a negative Content-Length': post('Content-Length: -1\r\n', printer),
    'Content-Length with Transfer-Encoding': post(
      `Content-Length: ${printer.length}\r\nTransfer-Encoding: chunked\r\n`,
      `${printer.length.toString(16)}\r\n${printer}\r\n0\r\n\r\n`,
    ),
    'a Transfer-Encoding other than chunked': post('Transfer-Encoding: gzip\r\n', printer),
    'a bad chunk size': post('Transfer-Encoding: chunked\r\n', `zz\r\n${printer}\r\n0\r\n\r\n`),
    'a chunk longer than its size': post('Transfer-Encoding: chunked\r\n', `2\r\n${printer}\r\n0\r\n\r\n`),
  };
  for (const [name, request] of Object.entries(cases)) {
    const answer = await rawRequest(base, request);
    assertRawProblem(t, answer, 400, 'malformed_request');
    t.true(answer.closedByServer, name);
  }
  const smuggled = await get(base, '/api/v1/printers/smuggled');
  t.is(smuggled.status, 404, 'a refused request writes nothing');
});

test('an HTTP/1.1 request without a Host header, or with two, is answered 400', async (t) => {
  assertRawProblem(t, await rawRequest(base, 'GET /healthz HTTP/1.1\r\n\r\n'), 400, 'malformed_request');
  const two = await rawRequest(base, 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  assertRawProblem(t, two, 400, 'malformed_request');
  // HTTP/1.0 may leave Host out.
  const old = await rawRequest(base, 'GET /healthz HTTP/1.0\r\n\r\n');
  t.is(old.status, 200, old.raw);
});

test('raw spaces, raw UTF-8 or control characters in the path are answered 400', async (t) => {
  for (const path of ['/api/v1/print ers', '/api/v1/pr\tinters']) {
    assertRawProblem(
      t,
      await rawRequest(base, `GET ${path} HTTP/1.1\r\n${HOST}\r\n`),
      400,
      'malformed_request',
    );
  }
  const utf8 = Buffer.from(`GET /api/v1/printers/prïnter HTTP/1.1\r\n${HOST}\r\n`, 'utf8');
  assertRawProblem(t, await rawRequest(base, utf8), 400, 'malformed_request');
});

test('an Expect other than 100-continue is answered 417', async (t) => {
  const answer = await rawRequest(
    base,
    post(`Expect: 200-ok\r\nContent-Length: ${printer.length}\r\n`, printer),
  );
  assertRawProblem(t, answer, 417, 'expectation_failed');
});

test('garbage after a pipelined write is answered after that write, in order', async (t) => {
  // The write answers only once it commits, after the parser has already failed on the garbage.
  const body = JSON.stringify({ id: 'pipelined', company: 'C', model: 'M' });
  const first = post(`Content-Length: ${body.length}\r\n`, body);
  const answer = await rawRequest(base, `${first}FOO / HTTP/1.1\r\n${HOST}\r\n`);
  t.is(answer.status, 201, answer.raw);
  const second = answer.raw.indexOf('HTTP/1.1 501');
  t.true(second > 0, answer.raw);
  t.true(answer.raw.slice(second).includes('"code":"method_not_implemented"'), answer.raw);
  t.true(answer.closedByServer);
  t.is((await get(base, '/api/v1/printers/pipelined')).status, 200);
});

test('garbage behind a streaming response cuts the connection without writing into the stream', async (t) => {
  const watch = `GET /api/v1/events?watch=true HTTP/1.1\r\n${HOST}\r\n`;
  const answer = await rawRequest(base, `${watch}FOO / HTTP/1.1\r\n${HOST}\r\n`);
  t.is(answer.status, 200, answer.raw);
  t.regex(answer.headers['content-type'] ?? '', /text\/event-stream/);
  t.false(answer.raw.includes('HTTP/1.1 501'), answer.raw);
  t.true(answer.closedByServer, 'the connection is closed');
});
