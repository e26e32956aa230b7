// The Coalescer under a hand-driven timer: no real time passes in these tests.
import test from 'ava';
import { Coalescer } from '../../src/util/index.js';
import type { CoalescerOptions, Timer } from '../../src/util/index.js';

/** A timer whose waits fire only when the test says so. */
class ManualTimer {
  readonly waits: { ms: number; fire: () => void; cancelled: boolean }[] = [];
  readonly timer: Timer = (ms, fire) => {
    const wait = { ms, fire, cancelled: false };
    this.waits.push(wait);
    return () => {
      wait.cancelled = true;
    };
  };
  pending(): { ms: number; fire: () => void; cancelled: boolean }[] {
    return this.waits.filter((w) => !w.cancelled);
  }
  fireAll(): void {
    for (const w of this.pending()) {
      w.cancelled = true;
      w.fire();
    }
  }
}

/** Lets queued microtasks and promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function worker(overrides: Partial<CoalescerOptions> & Pick<CoalescerOptions, 'step' | 'hasWork'>): {
  coalescer: Coalescer;
  clock: ManualTimer;
  failures: number[];
  recoveries: number;
} {
  const clock = new ManualTimer();
  const seen = { failures: [] as number[], recoveries: 0 };
  const coalescer = new Coalescer({
    backoffMs: (n) => 100 * 2 ** (n - 1),
    onFailure: (_e, n) => seen.failures.push(n),
    onRecovery: () => seen.recoveries++,
    timer: clock.timer,
    ...overrides,
  });
  return {
    coalescer,
    clock,
    get failures() {
      return seen.failures;
    },
    get recoveries() {
      return seen.recoveries;
    },
  };
}

/** A worker that always has work and whose every step fails; `steps()` counts its steps. */
function alwaysFailing(): { w: ReturnType<typeof worker>; steps: () => number } {
  let steps = 0;
  const w = worker({
    hasWork: () => true,
    step: async () => {
      steps++;
      throw new Error('down');
    },
  });
  return { w, steps: () => steps };
}

test('a poke never runs the step inside the caller; it starts on the next microtask', async (t) => {
  let work = 1;
  let steps = 0;
  const { coalescer } = worker({ hasWork: () => work > 0, step: async () => void (steps++, work--) });
  coalescer.poke();
  t.is(steps, 0);
  await settle();
  t.is(steps, 1);
});

test('one step at a time: pokes during a step start no second one', async (t) => {
  let work = 1;
  let inFlight = 0;
  let most = 0;
  const gates: ReturnType<typeof deferred>[] = [];
  const { coalescer } = worker({
    hasWork: () => work > 0,
    step: async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      inFlight--;
      work--;
    },
  });
  coalescer.poke();
  await settle();
  for (let i = 0; i < 5; i++) coalescer.poke();
  await settle();
  t.is(gates.length, 1);
  gates[0]!.resolve();
  await coalescer.idle();
  t.is(most, 1);
});

test('work that arrives while a step runs is done by the same run (a poke is not lost)', async (t) => {
  let work = 1;
  const gates: ReturnType<typeof deferred>[] = [];
  const { coalescer } = worker({
    hasWork: () => work > 0,
    step: async () => {
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      work--;
    },
  });
  coalescer.poke();
  await settle();
  work++; // arrives during the first step
  coalescer.poke();
  gates[0]!.resolve();
  await settle();
  t.is(gates.length, 2);
  gates[1]!.resolve();
  await coalescer.idle();
  t.is(work, 0);
});

test('a poke with nothing to do starts nothing', async (t) => {
  let steps = 0;
  const { coalescer } = worker({ hasWork: () => false, step: async () => void steps++ });
  coalescer.poke();
  await settle();
  t.is(steps, 0);
});

test('a failing step waits a growing backoff before the next; a success resets it', async (t) => {
  let fail = 2;
  let work = 1;
  let steps = 0;
  const w = worker({
    hasWork: () => work > 0,
    step: async () => {
      steps++;
      if (fail-- > 0) throw new Error('api down');
      work--;
    },
  });
  w.coalescer.poke();
  await settle();
  t.is(steps, 1);
  t.deepEqual(w.failures, [1]);
  t.deepEqual(
    w.clock.pending().map((p) => p.ms),
    [100],
  );
  t.is(w.coalescer.failures, 1);
  w.coalescer.poke(); // a poke does not cut the backoff short
  await settle();
  t.is(steps, 1);
  w.clock.fireAll();
  await settle();
  t.is(steps, 2);
  t.deepEqual(
    w.clock.pending().map((p) => p.ms),
    [200],
  );
  w.clock.fireAll();
  await w.coalescer.idle();
  t.is(steps, 3);
  t.is(w.coalescer.failures, 0);
  t.is(w.recoveries, 1);
});

test('after a backoff with nothing left to do the run ends, and the failure count is kept', async (t) => {
  let work = 1;
  const w = worker({
    hasWork: () => work > 0,
    step: async () => {
      work = 0; // the work is gone (say, a newer snapshot replaced it) even though the step failed
      throw new Error('peer down');
    },
  });
  w.coalescer.poke();
  await settle();
  w.clock.fireAll();
  await w.coalescer.idle();
  t.is(w.coalescer.failures, 1);
  work = 1;
  w.coalescer.poke();
  await settle();
  t.deepEqual(
    w.clock.pending().map((p) => p.ms),
    [200],
  );
});

test('resetBackoff ends a wait at once and the next failure waits the shortest backoff', async (t) => {
  const { w, steps } = alwaysFailing();
  w.coalescer.poke();
  await settle();
  w.clock.fireAll();
  await settle();
  t.is(w.coalescer.failures, 2);
  w.coalescer.resetBackoff();
  await settle();
  t.is(steps(), 3);
  t.is(w.clock.pending().at(-1)!.ms, 100);
  await w.coalescer.stop();
});

test('stop ends a backoff wait, waits for the step under way, and later pokes do nothing', async (t) => {
  const { w, steps } = alwaysFailing();
  w.coalescer.poke();
  await settle();
  t.is(w.clock.pending().length, 1);
  await w.coalescer.stop();
  t.is(w.clock.pending().length, 0);
  w.coalescer.poke();
  await settle();
  t.is(steps(), 1);
});

test('stop during a step lets it finish and runs no other', async (t) => {
  let steps = 0;
  const gate = deferred();
  const { coalescer } = worker({
    hasWork: () => true,
    step: async () => {
      steps++;
      await gate.promise;
    },
  });
  coalescer.poke();
  await settle();
  let stopped = false;
  const stopping = coalescer.stop().then(() => (stopped = true));
  await settle();
  t.false(stopped);
  gate.resolve();
  await stopping;
  t.is(steps, 1);
});
