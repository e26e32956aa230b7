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
 * A refusal when the data under `root` holds another set of members than `ids` (`shown` is
 * how the user wrote the path). Fewer: the cluster could lose its quorum for good and the
 * left-out members' data would be orphaned. More: a member started with no data beside an
 * existing cluster would have to learn the cluster's first configuration from its peers, and
 * `--initial-cluster` cannot tell it (it would list the new members as if they had been
 * there from the start), so the script does not grow a cluster.
 */
export function memberMismatch(root: string, shown: string, ids: readonly string[]): string | null {
  if (!existsSync(root)) return null;
  // The first configuration every member recorded (a wiped member's empty dir adds nothing:
  // the others still name it, and it rejoins as a new incarnation).
  const recorded = new Set<string>();
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !/^n\d+$/.test(entry.name)) continue;
    try {
      for (const voter of readBootstrap(path.join(root, entry.name))?.voters ?? []) recorded.add(voter);
    } catch {
      // A member with a damaged record says so itself when it starts.
    }
  }
  if (recorded.size === 0) return null;
  const members = [...recorded].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const left = members.filter((id) => !ids.includes(id));
  const added = ids.filter((id) => !recorded.has(id));
  if (left.length === 0 && added.length === 0) return null;
  const change =
    left.length > 0 ? `would leave out ${left.join(', ')}` : `would add ${added.join(', ')} beside them`;
  return (
    `${shown}/ holds the data of a ${members.length}-member cluster (${members.join(', ')}); --nodes ${ids.length} ${change}. ` +
    `Run with --nodes ${members.length}, or add --fresh to delete that data and start a new ${ids.length}-node cluster.`
  );
}
