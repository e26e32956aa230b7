import test from 'ava';
import { SeededPrng } from '../../src/raft/prng.js';

test('the same seed replays the same sequence', (t) => {
  const a = new SeededPrng(42);
  const b = new SeededPrng(42);
  const xs = Array.from({ length: 100 }, () => a.next());
  const ys = Array.from({ length: 100 }, () => b.next());
  t.deepEqual(xs, ys);
});

test('different seeds give different sequences', (t) => {
  const a = new SeededPrng(1);
  const b = new SeededPrng(2);
  t.notDeepEqual(
    Array.from({ length: 10 }, () => a.next()),
    Array.from({ length: 10 }, () => b.next()),
  );
});

test('values stay in [0, 1) and int(n) covers [0, n) roughly evenly', (t) => {
  const prng = new SeededPrng(7);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 40_000; i++) {
    const x = prng.next();
    t.true(x >= 0 && x < 1);
    counts[prng.int(4)]!++;
  }
  for (const c of counts) t.true(c > 9_000 && c < 11_000, `bucket count ${c}`);
});
