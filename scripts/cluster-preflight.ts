// Checks `npm run cluster` makes before it starts a node: every port it needs is free (a
// second cluster on the same ports would otherwise answer for this one), and the data root
// holds no member that the requested node count leaves out (3-node data started with
// `--nodes 1` could never elect a leader). Each check returns the message to print, or null
// when all is well.

import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { readBootstrap } from '../src/bootstrap.js';

/** Whether something already listens on host:port (an `EADDRINUSE` on bind). */
function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** The ports among `ports` that are taken on `host`, or a refusal message naming them. */
export async function portsInUse(host: string, ports: readonly number[]): Promise<string | null> {
  const taken: number[] = [];
  for (const port of ports) if (await portTaken(host, port)) taken.push(port);
  if (taken.length === 0) return null;
  return (
    `port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} on ${host} ${taken.length > 1 ? 'are' : 'is'} in use ` +
    `(another Raft3D cluster? see \`ss -ltnp | grep ${taken[0]}\`). Stop it, or pick other ports with ` +
    '--api-port and --peer-port.'
  );
}

/**
 * A refusal when the data under `root` holds members that `ids` leaves out (`shown` is how
 * the user wrote the path): started without them, the cluster could lose its quorum for good
 * and those members' data would be orphaned. More members than the data holds is fine: the
 * new ones start empty and join the existing cluster (`--initial-cluster-state existing`).
 */
export function memberMismatch(root: string, shown: string, ids: readonly string[]): string | null {
  if (!existsSync(root)) return null;
  const existing = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^n\d+$/.test(entry.name))
    .map((entry) => entry.name)
    .filter((id) => {
      try {
        return readBootstrap(path.join(root, id)) !== null;
      } catch {
        return true; // a member with a damaged record: it says so itself when it starts
      }
    })
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const left = existing.filter((id) => !ids.includes(id));
  if (left.length === 0) return null;
  return (
    `${shown}/ holds the data of ${existing.length} members (${existing.join(', ')}); --nodes ${ids.length} would leave out ${left.join(', ')}. ` +
    `Run with --nodes ${existing.length} (or more), or add --fresh to delete that data and start a new ${ids.length}-node cluster.`
  );
}
