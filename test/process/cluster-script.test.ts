// `npm run cluster` as a new user meets it: the supervisor stops its nodes promptly on a
// signal (no leadership hand-over to members that are stopping too), the nodes end when the
// supervisor is killed -9, and a second cluster on the same ports is refused.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { portsInUse } from '../../scripts/cluster-preflight.js';
import { sleep } from '../helpers/process-cluster.js';

const SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'cluster.ts');

/** A base port with `count` free consecutive API ports and peer ports above it. */
async function freeBase(count: number): Promise<{ api: number; peer: number }> {
  for (;;) {
    const api = 20_000 + Math.floor(Math.random() * 20_000);
    const peer = api + 100;
    const ports = [...Array(count).keys()].flatMap((i) => [api + i, peer + i]);
    if ((await portsInUse('127.0.0.1', ports)) === null) return { api, peer };
  }
}

interface Supervisor {
  readonly child: ChildProcess;
  output: string;
  readonly exit: Promise<number | null>;
}

/** Stops a supervisor that may still run and waits for it (teardowns run last-registered first). */
async function stop(sup: Supervisor): Promise<void> {
  if (sup.child.exitCode === null && sup.child.signalCode === null) sup.child.kill('SIGTERM');
  await sup.exit;
}

function supervise(args: readonly string[]): Supervisor {
  const child = spawn(process.execPath, ['--import=tsx', SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RAFT3D_LOG_LEVEL: 'info' },
  });
  const sup: Supervisor = {
    child,
    output: '',
    exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  const keep = (chunk: Buffer): void => {
    sup.output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return sup;
}

async function waitFor(sup: Supervisor, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(sup.output);
    if (match) return match;
    await sleep(50);
  }
  throw new Error(`no ${pattern} in:\n${sup.output}`);
}

/** Running, and not a zombie waiting for whoever adopted it to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; Z is a zombie, which has exited.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((pid) => !alive(pid))) return true;
    await sleep(50);
  }
  return false;
}

test.serial(
  'a signalled supervisor stops every node at once, and a second cluster on its ports is refused',
  async (t) => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'raft3d-script-'));
    t.teardown(() => rmSync(data, { recursive: true, force: true, maxRetries: 10 }));
    const { api, peer } = await freeBase(3);
    const flags = ['--api-port', String(api), '--peer-port', String(peer), '--data', data];
    const sup = supervise(flags);
    t.teardown(() => stop(sup));
    await waitFor(sup, /failover demo: kill -9 \d+/);

    const second = supervise(flags);
    t.is(await second.exit, 2, second.output);
    t.regex(second.output, new RegExp(`port.* ${api}.* in use`));

    const started = Date.now();
    sup.child.kill('SIGTERM');
    t.is(await sup.exit, 0, sup.output);
    const took = Date.now() - started;
    t.regex(sup.output, /all nodes stopped/);
    const logs = ['n1', 'n2', 'n3'].map((id) => readFileSync(path.join(data, 'logs', `${id}.log`), 'utf8'));
    t.false(
      logs.some((log) => log.includes('leadership transfer did not finish')),
      'no hand-over was attempted towards members that were stopping too',
    );
    t.true(took < 1_500, `stopping took ${took} ms`);
  },
);

test.serial('the nodes stop by themselves when their supervisor is killed -9', async (t) => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'raft3d-script-'));
  t.teardown(() => rmSync(data, { recursive: true, force: true, maxRetries: 10 }));
  const { api, peer } = await freeBase(3);
  const sup = supervise(['--api-port', String(api), '--peer-port', String(peer), '--data', data]);
  t.teardown(() => stop(sup));
  await waitFor(sup, /failover demo/);
  const pids = [...sup.output.matchAll(/ n\d +API .* pid (\d+)/g)].map((m) => Number(m[1]));
  t.is(pids.length, 3, sup.output);
  t.true(pids.every(alive));
  const killed = Date.now();
  sup.child.kill('SIGKILL');
  const gone = await waitGone(pids, 10_000);
  const left = pids.filter(alive).map((pid) => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/stat`, 'utf8').slice(0, 80)}`;
    } catch {
      return `${pid}: ?`;
    }
  });
  t.true(gone, `every node exited after its supervisor died; still there: ${left.join(' | ')}`);
  t.log(`all nodes gone ${Date.now() - killed} ms after kill -9 of the supervisor`);
});

test.serial('a node that cannot start is reported with its own reason, not only a log path', async (t) => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'raft3d-script-'));
  t.teardown(() => rmSync(data, { recursive: true, force: true, maxRetries: 10 }));
  mkdirSync(path.join(data, 'n2'));
  writeFileSync(path.join(data, 'n2', 'bootstrap.json'), 'not json');
  const { api, peer } = await freeBase(3);
  const sup = supervise(['--api-port', String(api), '--peer-port', String(peer), '--data', data]);
  t.teardown(() => stop(sup));
  const [line] = await waitFor(sup, /n2 exited \(code 1\).*\n/);
  t.regex(line, /bootstrap\.json is not valid JSON/);
  t.regex(line, /see .*n2\.log/);
});

test('an unknown flag is a one-line error and the usage, never a stack trace', async (t) => {
  const sup = supervise(['--bogus']);
  t.is(await sup.exit, 2);
  t.regex(sup.output, /Unknown option '--bogus'\nusage: npm run cluster/);
  t.notRegex(sup.output, /\n\s+at /);
});
