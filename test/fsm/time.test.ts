import test from 'ava';
import fc from 'fast-check';
import { MAX_TIMESTAMP_MS, isoTime } from '../../src/fsm/index.js';

const seed = Number(process.env['FSM_SEED'] ?? 20261126);

test('isoTime matches Date#toISOString at the edges and on leap days', (t) => {
  const edges = [
    0,
    1,
    86_399_999,
    86_400_000,
    Date.UTC(2000, 1, 29),
    Date.UTC(2100, 1, 28, 23, 59, 59, 999),
    Date.UTC(2100, 2, 1),
    Date.UTC(2024, 11, 31, 23, 59, 59, 999),
    MAX_TIMESTAMP_MS,
  ];
  for (const ms of edges) t.is(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
});

test('isoTime matches Date#toISOString for any timestamp in range', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }),
      (ms) => isoTime(ms) === new Date(ms).toISOString(),
    ),
    { seed, numRuns: 20_000 },
  );
  t.pass();
});

test('isoTime refuses timestamps it cannot write with a four-digit year', (t) => {
  for (const ms of [-1, MAX_TIMESTAMP_MS + 1, 1.5, Number.NaN])
    t.throws(() => isoTime(ms), { instanceOf: RangeError });
});
