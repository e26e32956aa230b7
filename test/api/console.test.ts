// What every node serves for the web console and what the console relies on: the page with
// a strict CSP (no inline script, fetches only to members), gzip and cache headers, hashed
// assets; CORS for the cluster's own members only; the status fields the console shows
// (members' API addresses, last contact, fsync p99) and each node's role timeline.

import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { call, get, post } from './client.js';

let cluster: InProcessCluster;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 3 });
  await cluster.waitForLeader();
});
test.after.always(async () => {
  await cluster.stop();
});

/** Raw fetch: the test client decodes bodies, here the bytes on the wire matter. */
function fetchRaw(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers });
}

test('the page is served with a CSP that allows no inline script and fetches only to the members', async (t) => {
  const base = cluster.members[0]!.url;
  const res = await fetchRaw(`${base}/`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  t.regex(csp, /default-src 'none'/);
  t.regex(csp, /script-src 'self'(;|$)/);
  t.notRegex(csp, /unsafe-inline|unsafe-eval/);
  for (const m of cluster.members) t.true(csp.includes(m.url), `connect-src names ${m.url}`);
  t.is(res.headers.get('cache-control'), 'no-cache');
  t.truthy(res.headers.get('etag'));
  const html = await res.text();
  t.notRegex(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script element');
  t.notRegex(html, /\son[a-z]+=/, 'no inline event handler');
  const again = await fetchRaw(`${base}/`, { 'if-none-match': res.headers.get('etag')! });
  t.is(again.status, 304);
});

test('the script and stylesheet are gzipped, hashed and cached for a year; an unknown file is a 404', async (t) => {
  const base = cluster.members[1]!.url;
  const html = await (await fetchRaw(`${base}/`)).text();
  const files = [...html.matchAll(/\/console\/(app\.[0-9a-f]{10}\.(?:js|css))/g)].map((m) => m[1]!);
  t.is(files.length, 2, html);
  for (const file of files) {
    // Node's fetch decodes gzip by itself: ask for it explicitly and read the raw bytes with a plain request.
    const res = await fetchRaw(`${base}/console/${file}`, { 'accept-encoding': 'gzip' });
    t.is(res.status, 200);
    t.is(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    t.is(res.headers.get('content-encoding'), 'gzip');
    t.regex(res.headers.get('vary') ?? '', /Accept-Encoding/);
    t.true((await res.text()).length > 100);
  }
  const { request } = await import('node:http');
  const raw = await new Promise<Buffer>((resolve, reject) => {
    request(`${base}/console/${files[0]}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    })
      .on('error', reject)
      .end();
  });
  t.true(gunzipSync(raw).length > raw.length, 'the body on the wire is gzip');
  const missing = await get(base, '/console/app.0000000000.js');
  t.is(missing.status, 404);
});

test('CORS answers the members of this cluster and nobody else', async (t) => {
  const [a, b] = cluster.members;
  const preflight = await call(b!.url, 'OPTIONS', '/api/v1/printers', {
    headers: {
      origin: a!.url,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, idempotency-key',
    },
  });
  t.is(preflight.status, 204);
  t.is(preflight.headers.get('access-control-allow-origin'), a!.url);
  t.regex(preflight.headers.get('access-control-allow-headers') ?? '', /Idempotency-Key/);
  const loopbackAlias = a!.url.replace('127.0.0.1', 'localhost');
  const aliased = await get(b!.url, '/cluster/status', { origin: loopbackAlias });
  t.is(aliased.headers.get('access-control-allow-origin'), loopbackAlias);

  const foreign = await call(b!.url, 'OPTIONS', '/api/v1/printers', {
    headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
  });
  t.is(foreign.headers.get('access-control-allow-origin'), null);
  const foreignGet = await get(b!.url, '/cluster/status', { origin: 'http://127.0.0.1:1' });
  t.is(foreignGet.headers.get('access-control-allow-origin'), null);
});

test('the status lists every member API address, the last contact with the leader and the fsync p99', async (t) => {
  const leader = await cluster.waitForLeader();
  await post(leader.url, '/api/v1/printers', { company: 'Prusa', model: 'MK4' });
  const follower = cluster.followers(leader.id)[0]!;
  const mine = (await get(follower.url, '/cluster/status')).body as Record<string, unknown>;
  t.deepEqual(mine['apiAddresses'], Object.fromEntries(cluster.members.map((m) => [m.id, m.url])));
  t.is(mine['pod'], null);
  t.is(typeof mine['lastContactMs'], 'number');
  t.true((mine['lastContactMs'] as number) < 2_000);
  t.is(typeof mine['fsyncP99Ms'], 'number', 'the follower fsynced the entry');
  const lead = (await get(leader.url, '/cluster/status')).body as {
    lastContactMs: unknown;
    peers: { id: string; lastContactMs: number | null }[];
  };
  t.is(lead.lastContactMs, null);
  t.is(lead.peers.length, 2);
  for (const p of lead.peers) t.true(p.lastContactMs !== null && p.lastContactMs < 2_000, JSON.stringify(p));
});

test('each node keeps a timeline of its role changes, starting when it started', async (t) => {
  const leader = await cluster.waitForLeader();
  const answer = await get(leader.url, '/cluster/timeline');
  t.is(answer.status, 200);
  const { id, changes } = answer.body as {
    id: string;
    changes: { kind: string; role: string; at: string }[];
  };
  t.is(id, leader.id);
  t.is(changes[0]?.kind, 'started');
  t.true(
    changes.some((c) => c.kind === 'role' && c.role === 'leader'),
    JSON.stringify(changes),
  );
  t.false(Number.isNaN(Date.parse(changes.at(-1)!.at)));
});
