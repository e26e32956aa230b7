import test from 'ava';
import { Inflights, Progress } from '../../src/raft/progress.js';

test('the inflight window fills, frees acknowledged appends in order, and wraps around', (t) => {
  const w = new Inflights(3);
  w.add(2);
  w.add(4);
  w.add(6);
  t.true(w.full());
  t.throws(() => w.add(8));
  w.freeLE(4);
  t.is(w.count, 1);
  w.add(8);
  w.add(10);
  t.true(w.full());
  w.freeLE(9);
  t.is(w.count, 1);
  w.freeFirst();
  t.is(w.count, 0);
  w.freeFirst();
  t.is(w.count, 0);
});

test('a probing follower gets one append at a time', (t) => {
  const p = new Progress('n2', 5, 4);
  t.false(p.isPaused());
  p.sentEntries(3, 7);
  t.true(p.isPaused());
  t.is(p.next, 5, 'probing does not advance next optimistically');
});

test('replicate streams optimistically until the window is full', (t) => {
  const p = new Progress('n2', 1, 2);
  p.maybeUpdate(0);
  p.becomeReplicate();
  p.sentEntries(2, 2);
  t.is(p.next, 3);
  t.false(p.isPaused());
  p.sentEntries(2, 4);
  t.true(p.isPaused());
  t.true(p.maybeUpdate(2));
  p.inflights.freeLE(2);
  t.false(p.isPaused());
  p.sentEntries(0, 4);
  t.is(p.inflights.count, 1, 'an empty append takes no slot');
});

test('match never goes back and stale updates report no change', (t) => {
  const p = new Progress('n2', 1, 2);
  t.true(p.maybeUpdate(5));
  t.false(p.maybeUpdate(3));
  t.is(p.match, 5);
  t.is(p.next, 6);
});

test('maybeDecrTo: probe follows the hint but never below match+1; stale rejections are ignored', (t) => {
  const p = new Progress('n2', 11, 2);
  p.match = 3;
  t.false(p.maybeDecrTo(7, 2), 'rejection of an index we did not just probe');
  t.true(p.maybeDecrTo(10, 6));
  t.is(p.next, 7);
  t.true(p.maybeDecrTo(6, 1));
  t.is(p.next, 4, 'clamped at match + 1');
  const r = new Progress('n2', 1, 2);
  r.maybeUpdate(5);
  r.becomeReplicate();
  r.sentEntries(3, 8);
  t.false(r.maybeDecrTo(5, 2), 'a rejection at or below match in replicate is stale');
  t.true(r.maybeDecrTo(7, 2));
  t.is(r.next, 6);
});

test('snapshot state pauses sending; probing after it resumes past the snapshot', (t) => {
  const p = new Progress('n2', 1, 2);
  p.becomeSnapshot(50);
  t.true(p.isPaused());
  p.becomeProbe();
  t.is(p.next, 51);
  t.is(p.state, 'probe');
});
