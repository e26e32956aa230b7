// A stopped member whose Raft log has one damaged record must refuse to start, naming the
// file and what to do, instead of silently truncating possibly committed data; the rest of
// the cluster keeps serving meanwhile.

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ClassicLevel } from 'classic-level';
import { ProcessCluster } from '../helpers/process-cluster.js';
import { postJson } from '../helpers/load.js';
import { waitCaughtUp } from '../helpers/failover.js';

/** The classic-level database inside a member's data dir (the folder holding CURRENT). */
function findLevelDir(root: string): string {
  for (const name of readdirSync(root)) {
    const full = path.join(root, name);
    if (name === 'CURRENT') return root;
    if (statSync(full).isDirectory()) {
      try {
        return findLevelDir(full);
      } catch {
        // not in this folder
      }
    }
  }
  throw new Error(`no classic-level database under ${root}`);
}

/** Flips one payload byte of a command entry in the middle of the stored log. */
async function corruptOneEntry(dataDir: string): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(findLevelDir(dataDir), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  try {
    const commands: [Buffer, Buffer][] = [];
    for await (const [key, value] of db.iterator()) {
      // Entry records: version 1, type 1 (command), index, term, payload length, payload, crc.
      if (value.length > 30 && value[0] === 1 && value[1] === 1) commands.push([key, value]);
    }
    const victim = commands[Math.floor(commands.length / 2)];
    if (!victim) throw new Error('no command entries found to corrupt');
    const [key, value] = victim;
    const damaged = Buffer.from(value);
    damaged[damaged.length - 10] = damaged[damaged.length - 10]! ^ 0xff;
    await db.put(key, damaged);
  } finally {
    await db.close();
  }
}

test('a member with a corrupt log record refuses to start with a clear message; the cluster keeps serving', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, tickMs: 50 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader(20_000);
  for (let i = 0; i < 30; i++) {
    const res = await postJson(`${leader.url}/api/v1/printers`, {
      id: `p${i}`,
      company: 'Prusa',
      model: 'MK4',
    });
    t.is(res.status, 201);
  }
  await waitCaughtUp(cluster);
  const victim = cluster.nodes.find((n) => n.id !== leader.id)!;
  t.is(await cluster.terminate(victim.id), 0);
  await corruptOneEntry(victim.dataDir);

  cluster.startNode(victim.id);
  const code = await victim.exit;
  t.not(code, 0, 'the corrupt member must not start');
  t.regex(victim.output, /corrupt/i);
  t.true(victim.output.includes(victim.dataDir), `the message names the data dir:\n${victim.output}`);
  t.regex(victim.output, /restore this member from a peer/i);

  const res = await postJson(`${leader.url}/api/v1/printers`, {
    id: 'still-serving',
    company: 'Prusa',
    model: 'MK4',
  });
  t.is(res.status, 201, 'the other two members keep serving');
});
