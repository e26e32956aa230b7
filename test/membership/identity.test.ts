import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { BOOTSTRAP_FILE, readBootstrap, writeBootstrap } from '../../src/bootstrap.js';
import {
  IdentityError,
  InitialClusterStateRegistry,
  baseOf,
  isIncarnation,
  resolveIdentity,
} from '../../src/membership/index.js';
import type { Claim, IdentityRegistry } from '../../src/membership/index.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'raft3d-identity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const quiet = (): void => undefined;

test('first start with initial-cluster-state new bootstraps under the configured id and records it', async (t) => {
  const dir = tempDir(t);
  const identity = await resolveIdentity({
    dataDir: dir,
    base: 'n2',
    configuredVoters: ['n1', 'n2', 'n3'],
    registry: new InitialClusterStateRegistry('new', ['n1', 'n2', 'n3']),
    warn: quiet,
  });
  t.deepEqual(identity, { id: 'n2', base: 'n2', initialVoters: ['n1', 'n2', 'n3'], start: 'bootstrapped' });
  t.deepEqual(readBootstrap(dir), { id: 'n2', voters: ['n1', 'n2', 'n3'] });
});

test('an empty data dir in an existing cluster starts as a new incarnation that joins, never as the old member', async (t) => {
  const dir = tempDir(t);
  const identity = await resolveIdentity({
    dataDir: dir,
    base: 'n2',
    configuredVoters: ['n1', 'n2', 'n3'],
    registry: new InitialClusterStateRegistry('existing', ['n1', 'n2', 'n3']),
    warn: quiet,
  });
  t.not(identity.id, 'n2');
  t.true(isIncarnation(identity.id), identity.id);
  t.is(baseOf(identity.id), 'n2');
  t.is(identity.start, 'joining');
  t.deepEqual(identity.initialVoters, ['n1', 'n2', 'n3']);

  // A restart keeps that incarnation, whatever the flag says now.
  const again = await resolveIdentity({
    dataDir: dir,
    base: 'n2',
    configuredVoters: ['n1', 'n2', 'n3'],
    registry: new InitialClusterStateRegistry('new', ['n1', 'n2', 'n3']),
    warn: quiet,
  });
  t.deepEqual(again, { ...identity, start: 'restarted' });
});

test('a restart keeps the recorded voters even if the setting changes, and says so', async (t) => {
  const dir = tempDir(t);
  writeBootstrap(dir, { id: 'a', voters: ['a', 'b', 'c'] });
  const warnings: string[] = [];
  const resolve = (voters: string[]) =>
    resolveIdentity({
      dataDir: dir,
      base: 'a',
      configuredVoters: voters,
      registry: new InitialClusterStateRegistry('new', voters),
      warn: (m) => warnings.push(m),
    });
  t.deepEqual((await resolve(['a', 'b', 'c', 'd', 'e'])).initialVoters, ['a', 'b', 'c']);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /differs from the one this member started with/);
  await resolve(['c', 'b', 'a']);
  t.is(warnings.length, 1, 'order does not matter');
});

test('a version 1 record (written before ids were kept) restarts under the configured id', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, BOOTSTRAP_FILE), '{"version":1,"voters":["a","b","c"]}');
  const identity = await resolveIdentity({
    dataDir: dir,
    base: 'b',
    configuredVoters: ['a', 'b', 'c'],
    registry: new InitialClusterStateRegistry('existing', ['a', 'b', 'c']),
    warn: quiet,
  });
  t.deepEqual(identity, { id: 'b', base: 'b', initialVoters: ['a', 'b', 'c'], start: 'restarted' });
});

test('a data dir of another member, or Raft data without a record, is refused', async (t) => {
  const registry = new InitialClusterStateRegistry('new', ['a', 'b']);
  const mine = tempDir(t);
  writeBootstrap(mine, { id: 'a~k3f9a2', voters: ['a', 'b'] });
  await t.throwsAsync(
    resolveIdentity({ dataDir: mine, base: 'b', configuredVoters: [], registry, warn: quiet }),
    { instanceOf: IdentityError, message: /belongs to member a~k3f9a2, not to b/ },
  );
  const orphan = tempDir(t);
  mkdirSync(path.join(orphan, 'log'));
  writeFileSync(path.join(orphan, 'log', 'CURRENT'), 'MANIFEST-000001\n');
  await t.throwsAsync(
    resolveIdentity({ dataDir: orphan, base: 'b', configuredVoters: [], registry, warn: quiet }),
    { instanceOf: IdentityError, message: /holds Raft data but no bootstrap.json/ },
  );
  // The same for today's log segments.
  const orphanWal = tempDir(t);
  mkdirSync(path.join(orphanWal, 'wal'));
  writeFileSync(path.join(orphanWal, 'wal', '0000000000000001.wal'), Buffer.alloc(64));
  await t.throwsAsync(
    resolveIdentity({ dataDir: orphanWal, base: 'b', configuredVoters: [], registry, warn: quiet }),
    { instanceOf: IdentityError, message: /holds Raft data but no bootstrap.json/ },
  );
});

test('the registry records the id before the data dir does, and a registry failure leaves the dir empty', async (t) => {
  const dir = tempDir(t);
  const calls: string[] = [];
  const failing: IdentityRegistry = {
    claim: (base: string): Promise<Claim> => {
      calls.push(`claim ${base}`);
      return Promise.reject(new Error('API server unreachable'));
    },
    confirm: () => Promise.resolve(),
  };
  await t.throwsAsync(
    resolveIdentity({ dataDir: dir, base: 'n1', configuredVoters: [], registry: failing, warn: quiet }),
    { message: /unreachable/ },
  );
  t.deepEqual(calls, ['claim n1']);
  t.is(readBootstrap(dir), null, 'nothing recorded: the next start asks again');
});
