// The snapshot scheduler alone: its one predicate for an automatic snapshot, and its phases
// (idle -> encoding -> storing -> idle) with one snapshot in flight at a time.
import test from 'ava';
import pino from 'pino';
import { SnapshotScheduler } from '../../src/node/snapshot-scheduler.js';
import type { SnapshotHost } from '../../src/node/snapshot-scheduler.js';
import type { LogIndex, Snapshot, SnapshotMeta } from '../../src/raft/index.js';

function meta(index: LogIndex): SnapshotMeta {
  return { index, term: 1, config: { voters: ['n1'], learners: [] }, configContext: {} };
}

function host(overrides: Partial<SnapshotHost> = {}): {
  scheduler: SnapshotScheduler;
  stored: Snapshot[];
  setApplied: (index: LogIndex) => void;
  releaseStore: () => void;
} {
  let applied = 0;
  const stored: Snapshot[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const scheduler = new SnapshotScheduler({
    id: 'n1',
    fsm: { snapshot: () => new Uint8Array([applied]) },
    core: { compact: (index) => meta(index), snapshotMeta: () => null },
    storage: {
      saveSnapshot: async (s) => {
        await gate;
        stored.push(s);
      },
    },
    clock: { now: () => 0, after: () => () => undefined, yield: () => Promise.resolve() },
    logger: pino({ enabled: false }),
    metrics: null,
    every: 10,
    firstDelay: 3,
    applied: () => applied,
    stopped: () => false,
    inLoop: async (fn) => fn(),
    fail: (error) => {
      throw error;
    },
    ...overrides,
  });
  return { scheduler, stored, setApplied: (i) => (applied = i), releaseStore: () => release() };
}

test('the first automatic snapshot waits its interval plus the delay; later ones the interval alone', async (t) => {
  const h = host();
  h.setApplied(12);
  t.false(h.scheduler.shouldSnapshot());
  h.setApplied(13);
  t.true(h.scheduler.shouldSnapshot());
  h.releaseStore();
  h.scheduler.maybeSnapshot();
  await h.scheduler.settled();
  t.deepEqual(
    h.stored.map((s) => s.meta.index),
    [13],
  );
  h.setApplied(22);
  t.false(h.scheduler.shouldSnapshot());
  h.setApplied(23);
  t.true(h.scheduler.shouldSnapshot());
});

test('snapshotEvery 0 never snapshots automatically', (t) => {
  const h = host({ every: 0, firstDelay: 0 });
  h.setApplied(1_000_000);
  t.false(h.scheduler.shouldSnapshot());
});

test('one snapshot in flight: encoding, then storing, then idle; none starts meanwhile', async (t) => {
  const h = host({ firstDelay: 0 });
  h.setApplied(10);
  t.is(h.scheduler.state, 'idle');
  const taken = h.scheduler.take();
  t.is(h.scheduler.state, 'encoding');
  h.setApplied(30);
  t.false(h.scheduler.shouldSnapshot(), 'no automatic snapshot while one is in flight');
  await new Promise((resolve) => setImmediate(resolve));
  t.is(h.scheduler.state, 'storing');
  h.releaseStore();
  t.is((await taken).index, 10);
  await h.scheduler.settled();
  t.is(h.scheduler.state, 'idle');
  t.is(h.scheduler.latestIndex(), 10);
  t.true(h.scheduler.shouldSnapshot());
});

test('asked while one is in flight, it waits for that one and then takes a newer one', async (t) => {
  const h = host({ firstDelay: 0 });
  h.setApplied(10);
  const first = h.scheduler.take();
  h.setApplied(15);
  const second = h.scheduler.take();
  h.releaseStore();
  t.is((await first).index, 10);
  t.is((await second).index, 15);
});

test('nothing applied since the last snapshot: take() answers with it, storing nothing', async (t) => {
  const h = host();
  h.scheduler.installed(meta(20));
  h.setApplied(20);
  t.is((await h.scheduler.take()).index, 20);
  t.is(h.stored.length, 0);
});
