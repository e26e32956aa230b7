// A linearizability checker for client histories of the simulation (Wing & Gong's search,
// with Lowe's memoization over (set of linearized operations, model state), as in
// porcupine). A history is linearizable iff some total order of its operations respects
// real time (an op that returned before another was called comes first) and replays
// correctly on the sequential model.
//
// Operations whose outcome is unknown (a write whose client timed out or whose node
// crashed) have `ret: Infinity`: they may take effect at any point after their call, or
// never (linearizing them last is the same as never).

export interface Operation<I, O> {
  readonly client: number;
  readonly input: I;
  /** Ignored for pending operations (`ret === Infinity`). */
  readonly output: O;
  readonly call: number;
  readonly ret: number;
}

export interface Model<S, I, O> {
  readonly init: S;
  /** Applies `input` to `state`; `ok` is false when `output` is not what the model would return. */
  step(state: S, input: I, output: O, pending: boolean): { ok: boolean; state: S };
  /** A stable key for memoization; equal states must give equal keys. */
  key(state: S): string;
}

export type RegisterInput = { readonly kind: 'write'; readonly value: number } | { readonly kind: 'read' };
/** A register holds numbers; `null` before the first write. */
export const registerModel: Model<number | null, RegisterInput, number | null> = {
  init: null,
  step(state, input, output, pending) {
    if (input.kind === 'write') return { ok: true, state: input.value };
    return { ok: pending || output === state, state };
  },
  key: (state) => String(state),
};

export type CounterInput = { readonly kind: 'add'; readonly delta: number } | { readonly kind: 'read' };
export const counterModel: Model<number, CounterInput, number | null> = {
  init: 0,
  step(state, input, output, pending) {
    if (input.kind === 'add') return { ok: true, state: state + input.delta };
    return { ok: pending || output === state, state };
  },
  key: (state) => String(state),
};

export interface CheckResult {
  readonly ok: boolean;
  /** Search steps taken (for reporting and tuning). */
  readonly steps: number;
  /** When `ok` is false: the longest linearizable prefix the search found, as op indices. */
  readonly longestPrefix: readonly number[];
  /** True when the search gave up after `maxSteps` (the result is then `ok: true`, unknown). */
  readonly gaveUp: boolean;
}

interface Node {
  /** Operation index. */
  readonly id: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call: its return node. */
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

/** Checks one history against one model. Operations with `ret < call` are rejected as malformed. */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  maxSteps = 5_000_000,
): CheckResult {
  const n = history.length;
  if (n === 0) return { ok: true, steps: 0, longestPrefix: [], gaveUp: false };
  const events: Node[] = [];
  history.forEach((op, id) => {
    if (!(op.ret >= op.call))
      throw new Error(`operation ${id} returns (${op.ret}) before its call (${op.call})`);
    const ret: Node = { id, isCall: false, time: op.ret, match: null, prev: null, next: null };
    const call: Node = { id, isCall: true, time: op.call, match: ret, prev: null, next: null };
    events.push(call, ret);
  });
  // Calls before returns at the same instant: ops that touch in time are concurrent.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Node = { id: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const lift = (call: Node): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Node): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const bitKey = (): string => Array.from(linearized, (w) => w.toString(36)).join(',');
  const cache = new Set<string>();
  const stack: { call: Node; state: S }[] = [];
  let state = model.init;
  let entry: Node | null = head.next;
  let steps = 0;
  let longest: number[] = [];

  while (head.next !== null) {
    if (++steps > maxSteps) return { ok: true, steps, longestPrefix: [], gaveUp: true };
    if (entry === null) throw new Error('linearizability search ran off the list');
    if (entry.isCall) {
      const op = history[entry.id]!;
      const pending = op.ret === Infinity;
      const result = model.step(state, op.input, op.output, pending);
      let advanced = false;
      if (result.ok) {
        const word = entry.id >>> 5;
        const bit = 1 << (entry.id & 31);
        linearized[word] = linearized[word]! | bit;
        const key = `${bitKey()}|${model.key(result.state)}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ call: entry, state });
          state = result.state;
          lift(entry);
          entry = head.next;
          advanced = true;
          if (stack.length > longest.length) longest = stack.map((s) => s.call.id);
        } else {
          linearized[word] = linearized[word]! & ~bit;
        }
      }
      if (!advanced) entry = entry.next;
    } else {
      // A return reached before its call was linearized: undo the last choice.
      const top = stack.pop();
      if (!top) return { ok: false, steps, longestPrefix: longest, gaveUp: false };
      const word = top.call.id >>> 5;
      linearized[word] = linearized[word]! & ~(1 << (top.call.id & 31));
      state = top.state;
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { ok: true, steps, longestPrefix: [], gaveUp: false };
}

/** A short human-readable rendering of a history, for failure reports. */
export function describeHistory<I, O>(history: readonly Operation<I, O>[]): string {
  return history
    .map(
      (op, i) =>
        `#${i} c${op.client} [${op.call}, ${op.ret === Infinity ? '∞' : op.ret}] ${JSON.stringify(op.input)} -> ${op.ret === Infinity ? '?' : JSON.stringify(op.output)}`,
    )
    .join('\n');
}
