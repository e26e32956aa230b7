// The identity and initial configuration a member started with, kept in its data dir. The
// Raft core treats `initialVoters` as the base configuration under every log entry, so it
// must never change for a member once it has state; and the member id must never change
// either: votes and acknowledgements were given under it. Flags and env may change later
// (a Helm upgrade, a restart with other settings), this file does not.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const BOOTSTRAP_FILE = 'bootstrap.json';

export class BootstrapError extends Error {
  readonly code = 'invalid_bootstrap';
}

export interface BootstrapRecord {
  /** The member id this data dir belongs to; null in records written before ids were kept (use the configured id). */
  readonly id: string | null;
  /** The configuration the member started with (the cluster's base configuration). */
  readonly voters: readonly string[];
}

interface StoredRecord {
  readonly version: 1 | 2;
  readonly id?: string;
  readonly voters: readonly string[];
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** What this data dir was started as, or null if it never was. */
export function readBootstrap(dataDir: string): BootstrapRecord | null {
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
  const r = record as Partial<StoredRecord>;
  if (
    (r.version !== 1 && r.version !== 2) ||
    !Array.isArray(r.voters) ||
    r.voters.length === 0 ||
    !r.voters.every(nonEmptyString) ||
    (r.id !== undefined && !nonEmptyString(r.id))
  ) {
    throw new BootstrapError(`${file} does not hold a version 1 or 2 record (member id and voters)`);
  }
  return { id: r.version === 2 && r.id !== undefined ? r.id : null, voters: [...r.voters] };
}

/** Writes the record atomically and durably (temp file, fsync, rename, fsync dir). */
export function writeBootstrap(dataDir: string, record: BootstrapRecord): void {
  const file = path.join(dataDir, BOOTSTRAP_FILE);
  const temp = `${file}.tmp`;
  const stored: StoredRecord = {
    version: 2,
    ...(record.id === null ? {} : { id: record.id }),
    voters: [...record.voters],
  };
  writeFileSync(temp, `${JSON.stringify(stored)}\n`);
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, file);
  const dir = openSync(dataDir, 'r');
  fsyncSync(dir);
  closeSync(dir);
}
