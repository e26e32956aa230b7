// A stopped member whose Raft log has one damaged record must refuse to start, naming the
// file and what to do, instead of silently truncating possibly committed data; the rest of
// the cluster keeps serving meanwhile.

import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { readFrames } from '../../src/storage/wal-records.js';
import { ProcessCluster } from '../helpers/process-cluster.js';
import { postJson } from '../helpers/load.js';
import { waitCaughtUp } from '../helpers/failover.js';

/** The log segments inside a member's data dir (the folder named wal). */
function findSegments(root: string): string[] {
  for (const name of readdirSync(root)) {
    const full = path.join(root, name);
    if (!statSync(full).isDirectory()) continue;
    if (name === 'wal')
      return readdirSync(full)
        .filter((n) => n.endsWith('.wal'))
        .sort()
        .map((n) => path.join(full, n));
    try {
      return findSegments(full);
    } catch {
      // not in this folder
    }
  }
  throw new Error(`no log segments under ${root}`);
}

/** Flips one byte in a frame in the middle of the stored log (not its last write). */
function corruptOneFrame(dataDir: string): void {
  const file = findSegments(dataDir)[0]!;
  const bytes = readFileSync(file);
  const frames: [number, number][] = [];
  readFrames(bytes, (payload, offset) => frames.push([offset, payload.length]));
  if (frames.length < 3) throw new Error(`only ${frames.length} frames in ${file}`);
  const [offset, length] = frames[Math.floor(frames.length / 2)]!;
  const at = offset + 8 + Math.floor(length / 2);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(file, bytes);
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
  corruptOneFrame(victim.dataDir);

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
