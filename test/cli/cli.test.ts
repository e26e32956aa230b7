// The `raft3d` CLI against an in-process cluster: the status table, the shop from end to
// end, problem+json errors in one line with their exit codes, failover past a dead
// endpoint, following the leader after it stops, the port-forward case (one endpoint, the
// others unreachable), backups checked against their hash, the admin token, and the watch.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { run } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { InProcessCluster } from '../helpers/in-process-cluster.js';

interface Captured extends Io {
  readonly stdout: string[];
  readonly stderr: string[];
}

function capture(): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => stdout.push(t),
    err: (t) => stderr.push(t),
    progress: null,
    json: false,
  };
}

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await run(args, io, env);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

let cluster: InProcessCluster;
let endpoints: string;

test.before(async () => {
  cluster = await InProcessCluster.start({
    size: 3,
    access: { adminToken: 's3cret', clusterSecret: null, requireAdminToken: false },
  });
  await cluster.waitForLeader();
  endpoints = cluster.members.map((m) => m.url).join(',');
});
test.after.always(async () => {
  await cluster.stop();
});

test.serial('status prints one table row per member, the leader marked by every row', async (t) => {
  const leader = await cluster.waitForLeader();
  const { code, out } = await cli(['status', '--endpoints', endpoints]);
  t.is(code, 0, out);
  const rows = out.split('\n').filter((l) => l.startsWith('| http'));
  t.is(rows.length, 3, out);
  t.is(rows.filter((r) => / leader +\|/.test(r)).length, 1, out);
  for (const r of rows) t.true(r.includes(`| ${leader.id} `), r);
  t.regex(out, /\| +ENDPOINT +\| +ID +\| +ROLE +\| +TERM +\| +LEADER +\| +COMMIT +\| +APPLIED +\| +LAG/);
  const json = await cli(['status', '--json', '--endpoints', endpoints]);
  t.is((JSON.parse(json.out) as unknown[]).length, 3);
});

test.serial(
  'the shop from the command line: add, start, done, and the spool loses the job weight',
  async (t) => {
    const e = ['--endpoints', endpoints];
    t.is(
      (await cli(['printers', 'add', '--id', 'p1', '--company', 'Prusa', '--model', 'MK4', ...e])).out,
      'added printer p1',
    );
    t.is(
      (
        await cli([
          'filaments',
          'add',
          '--id',
          'f1',
          '--type',
          'pla',
          '--color',
          'red',
          '--total',
          '1000',
          ...e,
        ])
      ).out,
      'added filament f1',
    );
    const job = await cli([
      'jobs',
      'add',
      '--id',
      'j1',
      '--printer',
      'p1',
      '--filament',
      'f1',
      '--file',
      'a.gcode',
      '--weight',
      '120',
      ...e,
    ]);
    t.is(job.code, 0, job.err);
    t.is((await cli(['job', 'start', 'j1', ...e])).out, 'job j1 is now Running');
    t.is((await cli(['job', 'done', 'j1', ...e])).out, 'job j1 is now Done');
    const spool = JSON.parse((await cli(['filaments', 'get', 'f1', '--json', ...e])).out) as Record<
      string,
      number
    >;
    t.is(spool['remaining_weight_in_grams'], 880);
    const list = await cli(['jobs', 'list', '--status', 'done', ...e]);
    t.regex(list.out, /\| j1 +\| Done +\| p1 +\| f1 +\| 120 +\| a\.gcode \|/);
  },
);

test.serial('a refused request is one line from the problem+json, with exit code 1', async (t) => {
  const e = ['--endpoints', endpoints];
  const tooHeavy = await cli([
    'jobs',
    'add',
    '--printer',
    'p1',
    '--filament',
    'f1',
    '--file',
    'b.gcode',
    '--weight',
    '5000',
    ...e,
  ]);
  t.is(tooHeavy.code, 1);
  t.regex(tooHeavy.err, /^raft3d: Not enough filament: .*5000.* \(409 filament_capacity\)$/);
  const invalid = await cli(['filaments', 'add', '--type', 'wood', '--total', 'lots', ...e]);
  t.is(invalid.code, 1);
  t.is(invalid.err.split('\n').length, 1);
  t.regex(
    invalid.err,
    /Invalid request: type: must be one of PLA, PETG, ABS, TPU; .*total_weight_in_grams: must be an integer number of grams \(400 invalid_request\)/,
  );
  const missing = await cli(['printers', 'get', 'nope', ...e]);
  t.is(missing.code, 1);
  t.regex(missing.err, /\(404 printer_not_found\)/);
  const final = await cli(['job', 'cancel', 'j1', ...e]);
  t.regex(final.err, /\(409 invalid_transition\)/);
});

test.serial('the command line itself is checked: exit code 2 and no stack trace', async (t) => {
  for (const args of [
    ['--bogus'],
    ['frobnicate'],
    ['job', 'start'],
    ['printers', 'get'],
    ['watch', '--count', 'x'],
  ]) {
    const { code, err } = await cli([...args, '--endpoints', endpoints]);
    t.is(code, 2, `${args.join(' ')}: ${err}`);
    t.notRegex(err, /\n\s+at /);
  }
  const help = await cli(['--help']);
  t.is(help.code, 0);
  t.regex(help.out, /exit codes/);
});

test.serial('a dead endpoint is skipped, and nothing answering is exit code 3', async (t) => {
  const withDead = await cli(['printers', 'list', '--endpoints', `http://127.0.0.1:1,${endpoints}`]);
  t.is(withDead.code, 0, withDead.err);
  t.regex(withDead.out, /\| p1 /);
  const none = await cli(['printers', 'list', '--endpoints', 'http://127.0.0.1:1', '--timeout', '0.5']);
  t.is(none.code, 3);
  t.regex(none.err, /connection refused/);
});

test.serial('admin commands send the token; without it they are refused with exit code 4', async (t) => {
  const e = ['--endpoints', endpoints];
  const refused = await cli(['snapshot', ...e]);
  t.is(refused.code, 4, refused.err);
  t.regex(refused.err, /401 unauthorized/);
  const taken = await cli(['snapshot', ...e], { RAFT3D_TOKEN: 's3cret' });
  t.is(taken.code, 0, taken.err);
  t.regex(taken.out, /^n\d took a snapshot at index \d+ \(term \d+\)$/);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'raft3d-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'shop.bin');
  const saved = await cli(['backup', '-o', file, '--token', 's3cret', '--json', ...e]);
  t.is(saved.code, 0, saved.err);
  const info = JSON.parse(saved.out) as { sha256: string; bytes: number };
  t.is(createHash('sha256').update(readFileSync(file)).digest('hex'), info.sha256);
  t.true(info.bytes > 0);
});

test.serial('watch prints each applied change as a line, from the index asked for', async (t) => {
  const e = ['--endpoints', endpoints];
  // From the index the cluster is at now: the two writes below come next, however late the watch connects.
  const [first] = JSON.parse((await cli(['status', '--json', ...e])).out) as {
    status: { applied: number };
  }[];
  const printed = cli(['watch', '--after', String(first!.status.applied), '--count', '2', ...e]);
  await cli(['printers', 'add', '--id', 'p2', '--company', 'Bambu', '--model', 'X1', ...e]);
  await cli(['printers', 'add', '--id', 'p3', '--company', 'Bambu', '--model', 'P1S', ...e]);
  const { code, out } = await printed;
  t.is(code, 0);
  const lines = out.split('\n');
  t.is(lines.length, 2, out);
  t.regex(lines[0]!, /^\d\d:\d\d:\d\d #\d+ t\d+ printer p2 added: Bambu X1$/);
  t.regex(lines[1]!, /printer p3 added: Bambu P1S$/);
  // Asked again later from the same index, it replays the history.
  const history = await cli(['watch', '--after', String(first!.status.applied), '--count', '1', ...e]);
  t.regex(history.out, /printer p2 added: Bambu X1$/);
});

test.serial(
  'through one port-forwarded member: it works and names the members it cannot reach',
  async (t) => {
    const leader = await cluster.waitForLeader();
    // What a port-forward looks like from here: the member answers, the addresses it gives
    // for the others (cluster-internal names) do not. Only the leader's view is changed.
    const others = cluster.followers(leader.id);
    for (const o of others) leader.node.setApiAddress(o.id, `http://127.0.0.1:${1 + others.indexOf(o)}`);
    t.teardown(() => {
      for (const o of others) leader.node.setApiAddress(o.id, o.url);
    });
    const status = await cli(['status', '--endpoints', leader.url]);
    t.is(status.code, 0, status.err);
    t.regex(
      status.err,
      /could not be reached from here\. Through `kubectl port-forward` only the forwarded pod answers/,
    );
    for (const o of others) t.true(status.err.includes(o.id));
    const write = await cli([
      'printers',
      'add',
      '--company',
      'Voron',
      '--model',
      '2.4',
      '--endpoints',
      leader.url,
    ]);
    t.is(write.code, 0, write.err);
  },
);

test.serial('after the leader stops, leader names the new one and writes go on', async (t) => {
  const old = await cluster.waitForLeader();
  await cluster.stopNode(old.id);
  t.teardown(() => cluster.restartNode(old.id));
  const answer = await cli(['leader', '--json', '--endpoints', endpoints, '--timeout', '10']);
  t.is(answer.code, 0, answer.err);
  t.not((JSON.parse(answer.out) as { id: string }).id, old.id);
  const write = await cli([
    'printers',
    'add',
    '--company',
    'Creality',
    '--model',
    'K1',
    '--endpoints',
    endpoints,
    '--timeout',
    '10',
  ]);
  t.is(write.code, 0, write.err);
});
