// Which member this process is, decided once per data dir before the node writes anything.
// A data dir that holds a bootstrap record restarts as the member it records. An empty one
// asks an IdentityRegistry whether its base id was ever used in this cluster: if not, it
// starts under its base id (a member of the first configuration bootstraps with it, any
// other one joins); if it was, the member lost its data and starts as a new incarnation
// that joins as a learner (see incarnation.ts and docs/kubernetes.md "A wiped member").

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readBootstrap, writeBootstrap } from '../bootstrap.js';
import { baseOf, newIncarnation } from './incarnation.js';

/** etcd's `--initial-cluster-state`: `new` bootstraps an empty data dir, `existing` joins with it. */
export type InitialClusterState = 'new' | 'existing';

export interface Claim {
  /** The id this start uses: the base id, or a new incarnation of it. */
  readonly id: string;
  /** The cluster's base configuration (the same for every member, recorded in bootstrap.json). */
  readonly initialVoters: readonly string[];
}

/** Where a member with an empty data dir learns whether its base id was used before. */
export interface IdentityRegistry {
  /** Decides the id for an empty data dir and durably records it as used before returning. */
  claim(base: string): Promise<Claim>;
  /** A member that has data checks that it is still the current incarnation of its base (throws if not). */
  confirm(base: string, id: string, voters: readonly string[]): Promise<void>;
}

export class IdentityError extends Error {
  readonly code = 'invalid_identity';
}

/** Without Kubernetes: the operator (or `npm run cluster`) says whether the cluster exists. */
export class InitialClusterStateRegistry implements IdentityRegistry {
  constructor(
    private readonly state: InitialClusterState,
    private readonly voters: readonly string[],
  ) {}

  claim(base: string): Promise<Claim> {
    const id = this.state === 'new' ? base : newIncarnation(base);
    return Promise.resolve({ id, initialVoters: this.voters });
  }

  confirm(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Identity {
  readonly id: string;
  readonly base: string;
  readonly initialVoters: readonly string[];
  /**
   * `restarted`: the data dir had a record; `bootstrapped`: first start as a member of the
   * initial configuration; `joining`: first start outside it (a new incarnation, or a pod
   * added by scaling up) that waits to be admitted as a learner.
   */
  readonly start: 'restarted' | 'bootstrapped' | 'joining';
}

export interface ResolveIdentityOptions {
  readonly dataDir: string;
  /** The configured member id (`--id`, or the pod name). */
  readonly base: string;
  /** The configured initial voters, compared with a recorded list only to warn. */
  readonly configuredVoters: readonly string[];
  readonly registry: IdentityRegistry;
  readonly warn: (message: string) => void;
}

export async function resolveIdentity(options: ResolveIdentityOptions): Promise<Identity> {
  const { dataDir, base, registry } = options;
  const recorded = readBootstrap(dataDir);
  if (recorded !== null) {
    const id = recorded.id ?? base;
    if (baseOf(id) !== base)
      throw new IdentityError(
        `${dataDir} belongs to member ${id}, not to ${base}: start it with its own id, or give ${base} its own data dir`,
      );
    const configured = options.configuredVoters;
    const same =
      configured.length === 0 ||
      (recorded.voters.length === configured.length && recorded.voters.every((v) => configured.includes(v)));
    if (!same)
      options.warn(
        `initial cluster setting (${configured.join(',')}) differs from the one this member started with ` +
          `(${recorded.voters.join(',')}); keeping the recorded one: membership changes go through the running cluster`,
      );
    await registry.confirm(base, id, recorded.voters);
    return { id, base, initialVoters: recorded.voters, start: 'restarted' };
  }
  if (holdsRaftData(dataDir))
    throw new IdentityError(
      `${dataDir} holds Raft data but no bootstrap.json, so which member it belongs to is unknown; ` +
        'move the directory away and start the member empty (it rejoins as a new incarnation)',
    );
  // The registry records the id as used before anything else happens: a crash from here on
  // makes the next start a new incarnation, never a second life of this one.
  const claim = await registry.claim(base);
  writeBootstrap(dataDir, { id: claim.id, voters: claim.initialVoters });
  const start = claim.initialVoters.includes(claim.id) ? 'bootstrapped' : 'joining';
  return { id: claim.id, base, initialVoters: claim.initialVoters, start };
}

function holdsRaftData(dataDir: string): boolean {
  return ['wal', 'log', 'snapshots'].some((sub) => {
    const dir = path.join(dataDir, sub);
    return existsSync(dir) && readdirSync(dir).length > 0;
  });
}
