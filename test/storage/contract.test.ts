// The RaftStorage contract, run against both implementations: what save() stores, how
// it truncates, snapshots and compaction, and what load() gives back after a restart.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Entry, Snapshot } from '../../src/raft/messages.js';
import { LevelStorage, MemoryStorage, SegmentStorage } from '../../src/storage/index.js';
import type { RaftStorage } from '../../src/storage/index.js';

interface Harness {
  storage: RaftStorage;
  /** Simulates a process restart: close, then open the same data again. */
  restart(): Promise<RaftStorage>;
}

const cmd = (index: number, term: number, text = `c${index}`): Entry => ({
  index,
  term,
  type: 'command',
  data: new TextEncoder().encode(text),
});
const snap = (index: number, term: number, bytes = 64): Snapshot => ({
  meta: {
    index,
    term,
    config: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
    configContext: { n2: '127.0.0.1:9091', n4: '{"peer":"h:1"}' },
  },
  data: Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + index) & 0xff),
});

/** A durable store on a temp dir, reopened on restart. */
function onDisk(openStore: (dir: string) => Promise<RaftStorage>): (t: ExecutionContext) => Promise<Harness> {
  return async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'raft3d-contract-'));
    let storage = await openStore(dir);
    t.teardown(async () => {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    });
    return {
      storage,
      restart: async () => {
        await storage.close();
        storage = await openStore(dir);
        return storage;
      },
    };
  };
}

const implementations: Record<string, (t: ExecutionContext) => Promise<Harness>> = {
  memory: () => {
    const storage = new MemoryStorage();
    return Promise.resolve({
      storage,
      restart: async () => {
        await storage.close();
        storage.reopen();
        return storage;
      },
    });
  },
  level: onDisk((dir) => LevelStorage.open(dir)),
  segment: onDisk((dir) => SegmentStorage.open(dir)),
  // Segments of 300 bytes: nearly every save rolls over to a new one, and snapshots delete old ones.
  'segment (tiny segments)': onDisk((dir) => SegmentStorage.open(dir, { segmentBytes: 300 })),
};

for (const [name, make] of Object.entries(implementations)) {
  test(`${name}: an empty store loads as null (first boot)`, async (t) => {
    const h = await make(t);
    t.is(await h.storage.load(), null);
    t.is(await (await h.restart()).load(), null);
  });

  test(`${name}: entries of every type and the hard state survive a restart`, async (t) => {
    const h = await make(t);
    const entries: Entry[] = [
      { index: 1, term: 1, type: 'noop' },
      {
        index: 2,
        term: 1,
        type: 'config',
        change: { kind: 'add-learner', node: 'n4', context: '{"peer":"10.0.0.4:9090"}' },
      },
      { index: 3, term: 2, type: 'config', change: { kind: 'remove', node: 'n2' } },
      cmd(4, 2),
      { index: 5, term: 2, type: 'command', data: Uint8Array.from([0, 255, 1, 254, 0]) },
      { index: 6, term: 2, type: 'command', data: new Uint8Array(0) },
    ];
    await h.storage.save({ entries, hardState: { term: 2, vote: 'n1', commit: 4 } });
    const loaded = await (await h.restart()).load();
    t.deepEqual(loaded, { hardState: { term: 2, vote: 'n1', commit: 4 }, snapshot: null, entries });
  });

  test(`${name}: a vote for nobody is kept apart from a vote for the empty id`, async (t) => {
    const h = await make(t);
    await h.storage.save({ entries: [], hardState: { term: 3, vote: null, commit: 0 } });
    t.deepEqual((await (await h.restart()).load())?.hardState, { term: 3, vote: null, commit: 0 });
  });

  test(`${name}: entries overwrite and truncate the stored suffix from entries[0].index`, async (t) => {
    const h = await make(t);
    await h.storage.save({
      entries: Array.from({ length: 10 }, (_, i) => cmd(i + 1, 1)),
      hardState: { term: 1, vote: 'n1', commit: 3 },
    });
    await h.storage.save({
      entries: [cmd(6, 2, 'x6'), cmd(7, 2, 'x7'), cmd(8, 2, 'x8')],
      hardState: { term: 2, vote: 'n2', commit: 5 },
    });
    const loaded = await (await h.restart()).load();
    t.deepEqual(
      loaded?.entries.map((e) => [e.index, e.term]),
      [
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 1],
        [5, 1],
        [6, 2],
        [7, 2],
        [8, 2],
      ],
    );
    t.deepEqual(loaded?.entries[5], cmd(6, 2, 'x6'));
    // A later append continues after the new tail.
    const s = await h.restart();
    await s.save({ entries: [cmd(9, 2)] });
    t.deepEqual(
      (await (await h.restart()).load())?.entries.map((e) => e.index),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  test(`${name}: a batch that would leave a hole in the log is refused`, async (t) => {
    const h = await make(t);
    await h.storage.save({ entries: [cmd(1, 1), cmd(2, 1)] });
    await t.throwsAsync(h.storage.save({ entries: [cmd(4, 1)] }), { message: /gap/ });
  });

  test(`${name}: a commit index past the end of the log is refused at save time`, async (t) => {
    const h = await make(t);
    await t.throwsAsync(
      h.storage.save({ entries: [cmd(1, 1)], hardState: { term: 1, vote: null, commit: 2 } }),
      {
        message: /commit 2 is past the end of the log \(1\)/,
      },
    );
    await h.storage.save({ entries: [cmd(1, 1), cmd(2, 1)], hardState: { term: 1, vote: null, commit: 2 } });
    t.is((await (await h.restart()).load())?.hardState.commit, 2);
  });

  test(`${name}: a local snapshot compacts the entries it covers`, async (t) => {
    const h = await make(t);
    await h.storage.save({
      entries: Array.from({ length: 10 }, (_, i) => cmd(i + 1, i < 5 ? 1 : 2)),
      hardState: { term: 2, vote: null, commit: 8 },
    });
    await h.storage.saveSnapshot(snap(7, 2));
    let loaded = await (await h.restart()).load();
    t.deepEqual(loaded?.snapshot, snap(7, 2));
    t.deepEqual(
      loaded?.entries.map((e) => e.index),
      [8, 9, 10],
    );
    // A newer snapshot replaces the older one; an older one is ignored.
    const s = await h.restart();
    await s.saveSnapshot(snap(9, 2, 1000));
    await s.saveSnapshot(snap(8, 2));
    loaded = await (await h.restart()).load();
    t.deepEqual(loaded?.snapshot, snap(9, 2, 1000));
    t.deepEqual(
      loaded?.entries.map((e) => e.index),
      [10],
    );
    t.deepEqual(loaded?.hardState, { term: 2, vote: null, commit: 8 });
  });

  test(`${name}: a snapshot installed from the leader replaces the log`, async (t) => {
    const h = await make(t);
    await h.storage.save({
      entries: Array.from({ length: 6 }, (_, i) => cmd(i + 1, 1)),
      hardState: { term: 1, vote: null, commit: 2 },
    });
    await h.storage.save({
      snapshot: snap(20, 3),
      entries: [],
      hardState: { term: 3, vote: null, commit: 20 },
    });
    let loaded = await (await h.restart()).load();
    t.deepEqual(loaded?.snapshot, snap(20, 3));
    t.deepEqual(loaded?.entries, []);
    t.is(loaded?.hardState.commit, 20);
    const s = await h.restart();
    await s.save({ entries: [cmd(21, 3), cmd(22, 3)], hardState: { term: 3, vote: null, commit: 21 } });
    loaded = await (await h.restart()).load();
    t.deepEqual(
      loaded?.entries.map((e) => e.index),
      [21, 22],
    );
    // Entries in the same batch as the snapshot, some already covered by it.
    const s2 = await h.restart();
    await s2.save({
      snapshot: snap(30, 4),
      entries: [cmd(30, 4), cmd(31, 4)],
      hardState: { term: 4, vote: null, commit: 30 },
    });
    loaded = await (await h.restart()).load();
    t.is(loaded?.snapshot?.meta.index, 30);
    t.deepEqual(
      loaded?.entries.map((e) => e.index),
      [31],
    );
  });

  test(`${name}: stored data is a copy, so later mutation by the caller cannot leak in`, async (t) => {
    const h = await make(t);
    const data = Uint8Array.from([1, 2, 3]);
    const s = snap(0 + 2, 1);
    await h.storage.save({ entries: [cmd(1, 1), { index: 2, term: 1, type: 'command', data }] });
    data[0] = 99;
    await h.storage.saveSnapshot(s);
    s.data[0] = 99;
    await h.storage.save({ entries: [{ index: 3, term: 1, type: 'command', data }] });
    const first = await (await h.restart()).load();
    const e3 = first?.entries[0];
    t.true(e3?.type === 'command' && e3.data[0] === 99);
    if (e3?.type === 'command') e3.data[0] = 5;
    const again = await (await h.restart()).load();
    const e3again = again?.entries[0];
    t.true(e3again?.type === 'command' && e3again.data[0] === 99);
    t.not(again?.snapshot?.data[0], 99);
  });
}
