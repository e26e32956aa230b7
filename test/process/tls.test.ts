// Optional TLS (issue 11, defect 6): three real processes with a certificate from a test CA
// (the cert-manager layout: tls.crt, tls.key, ca.crt). Peer traffic and the API run over TLS:
// a write through a follower reaches the leader (API forwarding over HTTPS), replicates (peer
// streams over TLS) and reads back everywhere; plain HTTP gets no answer.

import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch } from 'undici';
import { ProcessCluster } from '../helpers/process-cluster.js';

const OPENSSL = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

/** A CA and a server certificate for 127.0.0.1 and localhost, as cert-manager would write them. */
function certificates(dir: string): { cert: string; key: string; ca: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=raft3d test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  run(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=raft3d',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
  );
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'tls.crt',
  );
  return { cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key'), ca: path.join(dir, 'ca.crt') };
}

(OPENSSL ? test : test.skip)(
  'with TLS on, members replicate and forward over TLS and clients need HTTPS',
  async (t) => {
    t.timeout(120_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'raft3d-tls-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const files = certificates(dir);
    const cluster = await ProcessCluster.start({
      size: 3,
      tickMs: 50,
      extraEnv: { RAFT3D_TLS_CERT: files.cert, RAFT3D_TLS_KEY: files.key, RAFT3D_TLS_CA: files.ca },
      httpsCa: files.ca,
    });
    t.teardown(() => cluster.stop());
    const dispatcher = new Agent({ connect: { ca: readFileSync(files.ca) } });
    t.teardown(() => dispatcher.close());
    const call = async (url: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(url, {
        method: init.method ?? 'GET',
        dispatcher,
        ...(init.body === undefined
          ? {}
          : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
        signal: AbortSignal.timeout(5_000),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };

    const leader = await cluster.waitForLeader(30_000);
    const follower = cluster.nodes.find((n) => n.id !== leader.id)!;
    t.regex(follower.url, /^https:\/\//);
    const created = await call(`${follower.url}/api/v1/printers`, {
      method: 'POST',
      body: { id: 'tls-1', company: 'Prusa', model: 'MK4' },
    });
    t.is(created.status, 201, JSON.stringify(created.body));
    for (const node of cluster.nodes) {
      const read = await call(`${node.url}/api/v1/printers/tls-1`);
      t.is(read.status, 200, `${node.id}: ${JSON.stringify(read.body)}`);
    }
    const plain = await globalThis
      .fetch(follower.url.replace('https://', 'http://') + '/healthz', { signal: AbortSignal.timeout(3_000) })
      .then((r) => r.status)
      .catch(() => 'refused');
    t.is(plain, 'refused', 'plain HTTP gets no answer from a TLS port');
  },
);
