// The cluster's two secrets, kept in the Secret the chart renders without data (so `helm
// template`, Argo CD and Flux render the same bytes every time): the first member to start
// fills in random values with a merge patch conditional on resourceVersion, every other
// member reads what won. `cluster-secret` authenticates peers to each other, `admin-token`
// guards the admin routes. A value already present is never replaced.

import { randomBytes } from 'node:crypto';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { httpStatus } from './labels.js';
import { DEFAULT_BACKOFF, backoffDelay, sleep, withDeadline } from './retry.js';
import type { BackoffOptions } from './retry.js';

export const CLUSTER_SECRET_KEY = 'cluster-secret';
export const ADMIN_TOKEN_KEY = 'admin-token';

export interface ClusterSecrets {
  readonly clusterSecret: string;
  readonly adminToken: string;
}

export class ClusterSecretError extends Error {
  readonly code = 'cluster_secret';
}

export interface EnsureSecretsOptions {
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly name: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  readonly backoff?: BackoffOptions;
  readonly requestTimeoutMs?: number;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** 48 URL-safe characters (288 random bits). */
function randomValue(): string {
  return randomBytes(36).toString('base64url');
}

export async function ensureClusterSecrets(options: EnsureSecretsOptions): Promise<ClusterSecrets> {
  const { core, namespace, name, logger, signal } = options;
  const timeout = options.requestTimeoutMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new ClusterSecretError('start-up cancelled');
    try {
      const secret = await withDeadline(
        core.readNamespacedSecret({ name, namespace }),
        timeout,
        'read secret',
      );
      const data = secret.data ?? {};
      const decoded = (key: string): string | null => {
        const value = data[key];
        return value ? Buffer.from(value, 'base64').toString('utf8') : null;
      };
      const clusterSecret = decoded(CLUSTER_SECRET_KEY);
      const adminToken = decoded(ADMIN_TOKEN_KEY);
      if (clusterSecret !== null && adminToken !== null) return { clusterSecret, adminToken };
      const fill: Record<string, string> = {};
      if (clusterSecret === null) fill[CLUSTER_SECRET_KEY] = Buffer.from(randomValue()).toString('base64');
      if (adminToken === null) fill[ADMIN_TOKEN_KEY] = Buffer.from(randomValue()).toString('base64');
      const metadata = secret.metadata?.resourceVersion
        ? { resourceVersion: secret.metadata.resourceVersion }
        : {};
      await withDeadline(
        core.patchNamespacedSecret({ name, namespace, body: { metadata, data: fill } }, mergePatch),
        timeout,
        'patch secret',
      );
      logger?.info({ secret: name, keys: Object.keys(fill) }, 'k8s: generated the cluster secrets');
      // Loop once more: read back what is stored now (ours, or a faster member's).
    } catch (error) {
      if (httpStatus(error) === 409) continue;
      if (httpStatus(error) === 404)
        throw new ClusterSecretError(
          `Secret ${name} is missing in namespace ${namespace}; it is part of the Helm chart (helm upgrade puts it back)`,
        );
      logger?.warn({ err: error, attempt }, `k8s: Secret ${name} not available yet; retrying`);
      await sleep(backoffDelay(options.backoff ?? DEFAULT_BACKOFF, attempt), signal);
    }
  }
}
