// The members ConfigMap: the durable memory, outside every member's volume, of which base
// ids (pod names) were ever started and under which incarnation each runs now. A pod whose
// volume is empty reads it before doing anything: if its pod name was never used it starts
// under that name (bootstrapping when it is in the first configuration, which the first pod
// to start records from spec.replicas), otherwise it lost its data and starts as a new
// incarnation `<pod>~<suffix>`, recorded here before it starts (src/membership/identity.ts).
// Writes are merge patches conditional on resourceVersion: two pods never both win.

import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { AppsV1Api, CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { newIncarnation } from '../membership/index.js';
import type { Claim, IdentityRegistry } from '../membership/index.js';
import { httpStatus } from './labels.js';
import { DEFAULT_BACKOFF, backoffDelay, sleep, withDeadline } from './retry.js';
import type { BackoffOptions } from './retry.js';

export const MEMBERS_KEY = 'members.json';

/** What the ConfigMap holds under `members.json`. */
export interface MemberRecord {
  readonly version: 1;
  /** The first configuration; every member starts its log on top of it. */
  readonly initialVoters: readonly string[];
  /** Base id (pod name) → the id its current incarnation runs under. */
  readonly members: Readonly<Record<string, string>>;
}

export class MemberRegistryError extends Error {
  readonly code = 'member_registry';
}

/** This volume holds an incarnation the cluster has since replaced: starting it would bring back a vote it lost. */
export class StaleIncarnationError extends Error {
  readonly code = 'stale_incarnation';
}

export interface ConfigMapRegistryOptions {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly namespace: string;
  readonly configMap: string;
  readonly statefulSet: string;
  /** Size of the first configuration when set (RAFT3D_REPLICAS); otherwise spec.replicas. */
  readonly replicas: number | null;
  readonly logger?: Logger;
  /** Start-up is given up when this aborts (SIGTERM). */
  readonly signal?: AbortSignal;
  readonly backoff?: BackoffOptions;
  readonly requestTimeoutMs?: number;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type Update<T> = (
  record: MemberRecord | null,
) => Promise<{ readonly next: MemberRecord | null; readonly result: T }>;

export class ConfigMapRegistry implements IdentityRegistry {
  constructor(private readonly options: ConfigMapRegistryOptions) {}

  claim(base: string): Promise<Claim> {
    return this.update(async (record) => {
      const initialVoters = record?.initialVoters ?? (await this.firstConfiguration());
      const used = record?.members[base] !== undefined;
      const id = used ? newIncarnation(base) : base;
      if (used)
        this.options.logger?.warn(
          { base, previous: record?.members[base], id },
          'k8s: this pod ran before and its volume is empty: starting as a new incarnation that joins as a learner',
        );
      return {
        next: { version: 1, initialVoters, members: { ...record?.members, [base]: id } },
        result: { id, initialVoters },
      };
    }, Infinity);
  }

  async confirm(base: string, id: string, voters: readonly string[]): Promise<void> {
    try {
      await this.update((record) => {
        const current = record?.members[base];
        if (current === id) return Promise.resolve({ next: null, result: undefined });
        if (current !== undefined)
          throw new StaleIncarnationError(
            `this volume holds member ${id}, but the cluster replaced ${base} with ${current} since: ` +
              `it must not come back (it would vote with state the cluster no longer counts on). ` +
              `Delete this pod's PersistentVolumeClaim and the pod; it restarts empty and joins again`,
          );
        // A member from before the ConfigMap existed (an upgrade): record it.
        const next: MemberRecord = {
          version: 1,
          initialVoters: record?.initialVoters ?? voters,
          members: { ...record?.members, [base]: id },
        };
        return Promise.resolve({ next, result: undefined });
      }, 3);
    } catch (error) {
      if (error instanceof StaleIncarnationError || error instanceof MemberRegistryError) throw error;
      // A member whose data is intact is safe to start without the record (the API may be down).
      this.options.logger?.warn(
        { err: error },
        'k8s: could not check the members ConfigMap; starting anyway',
      );
    }
  }

  /** The record as stored (for the leader's status and tests). */
  async read(): Promise<MemberRecord | null> {
    return parseRecord(await this.readConfigMap(), this.options.configMap);
  }

  private async firstConfiguration(): Promise<string[]> {
    const { apps, namespace, statefulSet, replicas } = this.options;
    let size = replicas;
    if (size === null) {
      const sts = await withDeadline(
        apps.readNamespacedStatefulSet({ name: statefulSet, namespace }),
        this.timeoutMs(),
        'read statefulset',
      );
      size = sts.spec?.replicas ?? 1;
    }
    return Array.from({ length: size }, (_, i) => `${statefulSet}-${i}`);
  }

  private timeoutMs(): number {
    return this.options.requestTimeoutMs ?? 5_000;
  }

  private async readConfigMap(): Promise<V1ConfigMap> {
    const { core, namespace, configMap } = this.options;
    try {
      return await withDeadline(
        core.readNamespacedConfigMap({ name: configMap, namespace }),
        this.timeoutMs(),
        'read configmap',
      );
    } catch (error) {
      if (httpStatus(error) === 404)
        throw new MemberRegistryError(
          `ConfigMap ${configMap} is missing in namespace ${namespace}; it is part of the Helm chart ` +
            `(helm upgrade puts it back). Without it a pod with an empty volume cannot tell a first ` +
            `install from a member that lost its data, so it does not start`,
        );
      throw error;
    }
  }

  /** Read-modify-write with a resourceVersion precondition, retried on conflicts and transient errors. */
  private async update<T>(fn: Update<T>, attempts: number): Promise<T> {
    const { core, namespace, configMap, logger, signal } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new MemberRegistryError('start-up cancelled');
      try {
        const cm = await this.readConfigMap();
        const { next, result } = await fn(parseRecord(cm, configMap));
        if (next === null) return result;
        const metadata = cm.metadata?.resourceVersion ? { resourceVersion: cm.metadata.resourceVersion } : {};
        await withDeadline(
          core.patchNamespacedConfigMap(
            { name: configMap, namespace, body: { metadata, data: { [MEMBERS_KEY]: JSON.stringify(next) } } },
            mergePatch,
          ),
          this.timeoutMs(),
          'patch configmap',
        );
        return result;
      } catch (error) {
        if (error instanceof MemberRegistryError || error instanceof StaleIncarnationError) throw error;
        if (httpStatus(error) === 409) continue; // another pod wrote first: read again
        if (attempt >= attempts) throw error;
        logger?.warn(
          { err: error, attempt },
          `k8s: members ConfigMap ${configMap} not available yet; retrying`,
        );
        await sleep(backoffDelay(this.options.backoff ?? DEFAULT_BACKOFF, attempt), signal);
      }
    }
  }
}

function parseRecord(cm: V1ConfigMap, name: string): MemberRecord | null {
  const text = cm.data?.[MEMBERS_KEY];
  if (text === undefined || text === '') return null;
  let record: Partial<MemberRecord>;
  try {
    record = JSON.parse(text) as Partial<MemberRecord>;
  } catch {
    throw new MemberRegistryError(`ConfigMap ${name} key ${MEMBERS_KEY} is not valid JSON`);
  }
  const ok =
    record.version === 1 &&
    Array.isArray(record.initialVoters) &&
    record.initialVoters.every((v) => typeof v === 'string') &&
    typeof record.members === 'object' &&
    record.members !== null &&
    Object.values(record.members).every((v) => typeof v === 'string');
  if (!ok)
    throw new MemberRegistryError(`ConfigMap ${name} key ${MEMBERS_KEY} is not a version 1 member record`);
  return record as MemberRecord;
}
