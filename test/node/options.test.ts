// resolveNodeOptions: the driver's one place for defaults and validation (hashicorp/raft's
// DefaultConfig + ValidateConfig), and the process config reading its defaults from it.
import test from 'ava';
import { DEFAULT_NODE_TUNING, coreConfig, resolveNodeOptions } from '../../src/node/options.js';
import type { NodeOptions } from '../../src/node/options.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { InProcessHub, InProcessTransport } from '../../src/transport/index.js';
import { loadConfig } from '../../src/config.js';

const base: NodeOptions<string, string> = {
  id: 'n1',
  initialVoters: ['n1'],
  storage: new MemoryStorage(),
  transport: new InProcessTransport(new InProcessHub(), 'n1'),
  stateMachine: () => ({
    apply: (c: string) => c,
    snapshot: () => new Uint8Array(),
    restore: () => undefined,
  }),
  codec: { encode: (c: string) => new TextEncoder().encode(c), decode: (b) => new TextDecoder().decode(b) },
};

test('every tunable left out takes its default', (t) => {
  const o = resolveNodeOptions(base);
  for (const [name, value] of Object.entries(DEFAULT_NODE_TUNING))
    t.is(o[name as keyof typeof DEFAULT_NODE_TUNING], value, name);
  t.is(o.changed, null);
  t.is(o.metrics, null);
  t.is(o.coreLogger, null);
  t.deepEqual(o.describe('x'), { type: 'command', payload: 'x' });
});

test('maxClockDrift null turns leases off, and leases need CheckQuorum', (t) => {
  t.is(resolveNodeOptions({ ...base, maxClockDrift: null }).maxClockDrift, null);
  t.is(coreConfig(resolveNodeOptions({ ...base, maxClockDrift: null })).leaseReads, undefined);
  t.is(coreConfig(resolveNodeOptions({ ...base, checkQuorum: false })).leaseReads, undefined);
  t.deepEqual(coreConfig(resolveNodeOptions(base)).leaseReads, { maxClockDrift: 0.1 });
});

test('values the driver cannot run with are refused at start, naming the option', (t) => {
  t.throws(() => resolveNodeOptions({ ...base, tickMs: 0 }), { message: /tickMs/ });
  t.throws(() => resolveNodeOptions({ ...base, electionTicks: 2.5 }), { message: /electionTicks/ });
  t.throws(() => resolveNodeOptions({ ...base, heartbeatTicks: 10, electionTicks: 10 }), {
    message: /heartbeatTicks \(10\) must be below electionTicks/,
  });
  t.throws(() => resolveNodeOptions({ ...base, maxInflightAppends: 0 }), { message: /maxInflightAppends/ });
  t.throws(() => resolveNodeOptions({ ...base, snapshotEvery: -1 }), { message: /snapshotEvery/ });
  t.throws(() => resolveNodeOptions({ ...base, maxClockDrift: 1 }), { message: /maxClockDrift/ });
  t.throws(() => resolveNodeOptions({ ...base, readTimeoutMs: Number.NaN }), { message: /readTimeoutMs/ });
});

test('a seed fixes all of a life’s randomness; the snapshot delay stays within half an interval', (t) => {
  const a = resolveNodeOptions({ ...base, seed: 7, snapshotEvery: 100 });
  const b = resolveNodeOptions({ ...base, seed: 7, snapshotEvery: 100 });
  t.deepEqual(a.random, b.random);
  t.is(a.random.coreSeed, 7);
  t.true(a.random.snapshotDelay >= 0 && a.random.snapshotDelay <= 50);
  t.notDeepEqual(resolveNodeOptions({ ...base, seed: 8 }).random, a.random);
});

test('the process config takes its tick and election defaults from the node’s', (t) => {
  const config = loadConfig([], {});
  t.is(config.tickMs, DEFAULT_NODE_TUNING.tickMs);
  t.is(config.electionTicks, DEFAULT_NODE_TUNING.electionTicks);
  t.is(config.heartbeatTicks, DEFAULT_NODE_TUNING.heartbeatTicks);
  t.is(config.maxClockDrift, DEFAULT_NODE_TUNING.maxClockDrift);
  t.is(config.snapshotEvery, DEFAULT_NODE_TUNING.snapshotEvery);
});
