// The initial configuration a member bootstrapped with, kept in its data dir. The Raft core
// treats `initialVoters` as the base configuration under every log entry, so it must never
// change for a member once it has state: flags and env may change later (a Helm upgrade
// that scales the StatefulSet changes RAFT3D_REPLICAS), this file does not.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const BOOTSTRAP_FILE = 'bootstrap.json';

export class BootstrapError extends Error {
  readonly code = 'invalid-bootstrap';
}

interface BootstrapRecord {
  readonly version: 1;
  readonly voters: readonly string[];
}

/** The voters this data dir was bootstrapped with, or null if it never was. */
export function readBootstrap(dataDir: string): string[] | null {
  const file = path.join(dataDir, BOOTSTRAP_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw new BootstrapError(
      `${file} is not valid JSON; restore it from a backup or move the data dir away and rejoin`,
    );
  }
  const r = record as Partial<BootstrapRecord>;
  if (
    r.version !== 1 ||
    !Array.isArray(r.voters) ||
    r.voters.length === 0 ||
    !r.voters.every((v) => typeof v === 'string' && v !== '')
  ) {
    throw new BootstrapError(`${file} does not hold a version 1 list of voters`);
  }
  return [...r.voters];
}

/** Writes the record atomically and durably (temp file, fsync, rename, fsync dir). */
export function writeBootstrap(dataDir: string, voters: readonly string[]): void {
  const file = path.join(dataDir, BOOTSTRAP_FILE);
  const temp = `${file}.tmp`;
  const record: BootstrapRecord = { version: 1, voters: [...voters] };
  writeFileSync(temp, `${JSON.stringify(record)}\n`);
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, file);
  const dir = openSync(dataDir, 'r');
  fsyncSync(dir);
  closeSync(dir);
}

/**
 * The base configuration to start the core with: the recorded one if this data dir was
 * bootstrapped before (a differing current setting is reported, not used), else the
 * configured one, recorded now, before the node writes anything.
 */
export function resolveBootstrap(
  dataDir: string,
  configured: readonly string[],
  warn: (message: string) => void,
): string[] {
  const recorded = readBootstrap(dataDir);
  if (recorded === null) {
    writeBootstrap(dataDir, configured);
    return [...configured];
  }
  const same = recorded.length === configured.length && recorded.every((v) => configured.includes(v));
  if (!same) {
    warn(
      `initial cluster setting (${configured.join(',')}) differs from the one this member bootstrapped with ` +
        `(${recorded.join(',')}); keeping the recorded one: membership changes go through the running cluster`,
    );
  }
  return recorded;
}
