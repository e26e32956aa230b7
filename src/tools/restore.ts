// `npm run restore -- --from <backup.bin> --data <dir> --initial-cluster <id=host:port,...>`
// (or `node dist/tools/restore.js ...` in the image): turns a backup taken with
// `GET /cluster/backup` into the data dir of one member of a NEW cluster. Run it once per
// member with the same backup and the same member list, then start the members as usual:
// each starts from a snapshot at index 1 holding the backed-up state, so they all agree.
// Like `etcdutl snapshot restore`, it refuses a data dir that already holds Raft state.

import { mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PrintShop } from '../fsm/index.js';
import { SegmentStorage } from '../storage/index.js';
import { parseMemberList } from '../config.js';
import { readBootstrap, writeBootstrap } from '../bootstrap.js';

export class RestoreError extends Error {
  readonly code = 'restore_failed';
}

export interface RestoreOptions {
  /** Bytes of a backup (the print-shop snapshot format). */
  readonly backup: Uint8Array;
  readonly dataDir: string;
  /** Voters of the new cluster, the same list for every member. */
  readonly voters: readonly string[];
}

/** Writes the member's initial state; returns the sha-256 of the restored state. */
export async function restoreMember(options: RestoreOptions): Promise<string> {
  // Validates the backup the way a node would load it: a bad file fails here, not at start.
  const shop = new PrintShop();
  shop.restore(options.backup);
  const data = shop.snapshot();

  mkdirSync(options.dataDir, { recursive: true });
  if (readBootstrap(options.dataDir) !== null) {
    throw new RestoreError(`${options.dataDir} already belongs to a member; restore into an empty directory`);
  }
  const storage = await SegmentStorage.open(options.dataDir);
  try {
    if ((await storage.load()) !== null) {
      throw new RestoreError(`${options.dataDir} already holds Raft state; restore into an empty directory`);
    }
    const config = { voters: [...options.voters], learners: [] };
    await storage.save({
      snapshot: { meta: { index: 1, term: 1, config, configContext: {} }, data },
      hardState: { term: 1, vote: null, commit: 1 },
      entries: [],
    });
  } finally {
    await storage.close();
  }
  writeBootstrap(options.dataDir, { id: null, voters: options.voters });
  return createHash('sha256').update(data).digest('hex');
}

const USAGE =
  'usage: npm run restore -- --from <backup.bin> --data <member data dir> --initial-cluster <id=host:port,...>';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        from: { type: 'string' },
        data: { type: 'string' },
        'initial-cluster': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(
      `${USAGE}\n\nBuilds the data dir of one member of a NEW cluster from a backup (GET /cluster/backup).\n` +
        'Run it once per member with the same backup and the same --initial-cluster list, then start\n' +
        'the members as usual. It refuses a directory that already holds a member (docs/operations.md).\n',
    );
    return;
  }
  if (!values.from || !values.data || !values['initial-cluster']) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  try {
    const voters = [...parseMemberList(values['initial-cluster'], '--initial-cluster').keys()];
    const hash = await restoreMember({
      backup: readFileSync(values.from),
      dataDir: path.resolve(values.data),
      voters,
    });
    process.stdout.write(
      `restored ${values.from} into ${values.data} for members ${voters.join(',')}; state hash ${hash}\n`,
    );
  } catch (error) {
    process.stderr.write(`restore failed: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
