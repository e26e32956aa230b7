import test from 'ava';
import { checkLinearizable, counterModel, registerModel } from './linearizability.js';
import type { CounterInput, Operation, RegisterInput } from './linearizability.js';

type RegOp = Operation<RegisterInput, number | null>;
const w = (client: number, value: number, call: number, ret: number): RegOp => ({
  client,
  input: { kind: 'write', value },
  output: null,
  call,
  ret,
});
const r = (client: number, output: number | null, call: number, ret: number): RegOp => ({
  client,
  input: { kind: 'read' },
  output,
  call,
  ret,
});

type CountOp = Operation<CounterInput, number | null>;
const add = (client: number, delta: number, call: number, ret: number): CountOp => ({
  client,
  input: { kind: 'add', delta },
  output: null,
  call,
  ret,
});
const cr = (client: number, output: number, call: number, ret: number): CountOp => ({
  client,
  input: { kind: 'read' },
  output,
  call,
  ret,
});

test('an empty history is linearizable', (t) => {
  t.true(checkLinearizable(registerModel, []).ok);
});

test('sequential writes and reads that see the last write are linearizable', (t) => {
  t.true(
    checkLinearizable(registerModel, [
      r(0, null, 0, 1),
      w(0, 1, 2, 3),
      r(1, 1, 4, 5),
      w(1, 2, 6, 7),
      r(0, 2, 8, 9),
    ]).ok,
  );
});

test('a read of a value never written is rejected', (t) => {
  t.false(checkLinearizable(registerModel, [w(0, 1, 0, 1), r(1, 7, 2, 3)]).ok);
});

test('a stale read after a completed write is rejected', (t) => {
  // write 1 completes, then write 2 completes, then a read returns 1: not linearizable.
  const result = checkLinearizable(registerModel, [w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 4, 5)]);
  t.false(result.ok);
  t.false(result.gaveUp);
});

test('a read concurrent with a write may see either value', (t) => {
  t.true(checkLinearizable(registerModel, [w(0, 1, 0, 1), w(0, 2, 2, 10), r(1, 1, 3, 4)]).ok);
  t.true(checkLinearizable(registerModel, [w(0, 1, 0, 1), w(0, 2, 2, 10), r(1, 2, 3, 4)]).ok);
});

test('two reads may not see a concurrent write go back in time', (t) => {
  // r1 sees the new value 2 and returns; r2 starts later and sees the old value 1: rejected.
  t.false(checkLinearizable(registerModel, [w(0, 1, 0, 1), w(0, 2, 2, 20), r(1, 2, 3, 4), r(2, 1, 5, 6)]).ok);
  // Overlapping reads may disagree in that order only if they overlap each other.
  t.true(checkLinearizable(registerModel, [w(0, 1, 0, 1), w(0, 2, 2, 20), r(1, 2, 3, 6), r(2, 1, 4, 5)]).ok);
});

test('a read before its write was called is rejected', (t) => {
  t.false(checkLinearizable(registerModel, [r(1, 5, 0, 1), w(0, 5, 2, 3)]).ok);
});

test('a pending write may take effect late or never', (t) => {
  t.true(
    checkLinearizable(registerModel, [w(0, 1, 0, 1), w(1, 2, 2, Infinity), r(2, 1, 3, 4), r(2, 2, 5, 6)]).ok,
  );
  t.true(
    checkLinearizable(registerModel, [w(0, 1, 0, 1), w(1, 2, 2, Infinity), r(2, 1, 3, 4), r(2, 1, 50, 60)])
      .ok,
  );
  // ...but once observed it cannot be undone.
  t.false(
    checkLinearizable(registerModel, [w(0, 1, 0, 1), w(1, 2, 2, Infinity), r(2, 2, 3, 4), r(2, 1, 5, 6)]).ok,
  );
  // ...and it cannot take effect before it was called.
  t.false(checkLinearizable(registerModel, [w(0, 1, 0, 1), r(2, 2, 3, 4), w(1, 2, 5, Infinity)]).ok);
});

test('a lost update on a counter is rejected', (t) => {
  // Two completed increments, then a read of 1.
  t.false(checkLinearizable(counterModel, [add(0, 1, 0, 2), add(1, 1, 1, 3), cr(2, 1, 4, 5)]).ok);
  t.true(checkLinearizable(counterModel, [add(0, 1, 0, 2), add(1, 1, 1, 3), cr(2, 2, 4, 5)]).ok);
  t.true(checkLinearizable(counterModel, [add(0, 1, 0, 2), add(1, 1, 1, 6), cr(2, 1, 4, 5)]).ok);
});

test('a counter read that skips a value two concurrent readers agree on is rejected', (t) => {
  const history = [add(0, 1, 0, 10), add(1, 1, 0, 10), cr(2, 2, 1, 2), cr(3, 1, 3, 4)];
  t.false(checkLinearizable(counterModel, history).ok);
});

test('a long interleaved history with many concurrent ops is checked quickly', (t) => {
  // 60 clients' worth of overlapping writes; each read sees the most recent completed write or a concurrent one.
  const ops: RegOp[] = [];
  let time = 0;
  let last = 0;
  for (let i = 1; i <= 200; i++) {
    ops.push(w(i % 5, i, time, time + 3));
    ops.push(r((i + 1) % 5, i % 2 === 0 ? last : i, time + 1, time + 4));
    last = i;
    time += 2;
  }
  const ok = checkLinearizable(registerModel, ops);
  t.true(ok.ok, `steps ${ok.steps}`);
  // Break it: the final read sees a value overwritten long ago.
  ops.push(r(9, 3, time + 10, time + 11));
  const bad = checkLinearizable(registerModel, ops);
  t.false(bad.ok);
  t.false(bad.gaveUp);
});

test('an operation returning before its call is malformed', (t) => {
  t.throws(() => checkLinearizable(registerModel, [w(0, 1, 5, 4)]));
});
