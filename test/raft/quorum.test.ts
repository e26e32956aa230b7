import test from 'ava';
import { committedIndex, hasQuorum, majority, voteResult } from '../../src/raft/quorum.js';

test('majority of n voters', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6, 7].map(majority), [1, 2, 2, 3, 3, 4, 4]);
});

test('committedIndex is the highest index a majority has matched', (t) => {
  const match = (m: Record<string, number>) => (id: string) => m[id] ?? 0;
  t.is(committedIndex(['a'], match({ a: 7 })), 7);
  t.is(committedIndex(['a', 'b', 'c'], match({ a: 5, b: 3, c: 1 })), 3);
  t.is(committedIndex(['a', 'b', 'c', 'd'], match({ a: 5, b: 3, c: 4, d: 1 })), 3);
  t.is(committedIndex(['a', 'b', 'c', 'd', 'e'], match({ a: 9, b: 9, c: 2, d: 1, e: 0 })), 2);
  t.is(committedIndex([], match({})), 0);
  t.is(committedIndex(['a', 'b', 'c'], match({ a: 5, x: 5, y: 5 })), 0, 'non-voters never count');
});

test('voteResult: won with a majority, lost once a majority is impossible, pending otherwise', (t) => {
  const voters = ['a', 'b', 'c', 'd', 'e'];
  const v = (entries: [string, boolean][]) => new Map(entries);
  t.is(voteResult(voters, v([['a', true]])), 'pending');
  t.is(
    voteResult(
      voters,
      v([
        ['a', true],
        ['b', true],
        ['c', true],
      ]),
    ),
    'won',
  );
  t.is(
    voteResult(
      voters,
      v([
        ['a', true],
        ['b', false],
        ['c', false],
        ['d', false],
      ]),
    ),
    'lost',
  );
  t.is(
    voteResult(
      voters,
      v([
        ['a', true],
        ['x', true],
        ['y', true],
      ]),
    ),
    'pending',
    'outsiders do not count',
  );
  t.is(voteResult(['a'], v([['a', true]])), 'won');
});

test('hasQuorum counts only voters', (t) => {
  t.true(hasQuorum(['a', 'b', 'c'], new Set(['a', 'b'])));
  t.false(hasQuorum(['a', 'b', 'c'], new Set(['a', 'x', 'y'])));
  t.false(hasQuorum([], new Set(['a'])));
});
