// The container's preStop hook (`node dist/tools/pre-stop.js`, run by the kubelet before it
// sends SIGTERM). A pod the StatefulSet is removing because spec.replicas went below its
// ordinal must leave the Raft configuration while it still runs: otherwise the cluster
// counts a member that is gone, and a shrink by more than the tolerated failures loses its
// quorum. So the hook reads spec.replicas and, if this pod is being scaled away, waits until
// the leader's configuration no longer lists this member (the leader's reconciler removes
// it, handing leadership over first if it leads). Any other stop (rolling update, delete
// pod, drain) returns at once: SIGTERM hands leadership over itself. The hook never fails.

import { readFileSync } from 'node:fs';
import { AppsV1Api } from '@kubernetes/client-node';
import { Agent, fetch } from 'undici';
import type { KubeConfig } from '@kubernetes/client-node';
import { memberAddress, ordinalOf } from '../config.js';
import type { Config } from '../config.js';
import { replicasOf } from './membership-reconciler.js';
import { withDeadline } from './retry.js';

export interface PreStopOptions {
  readonly config: Config;
  readonly kubeConfig: KubeConfig;
  /** Give up (and let the pod stop) after this long; keep it under terminationGracePeriodSeconds. */
  readonly deadlineMs: number;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export type PreStopOutcome = 'not-leaving' | 'removed' | 'timed-out' | 'unknown';

interface StatusView {
  readonly id?: string;
  readonly role?: string;
  readonly leaderApi?: string | null;
  readonly config?: { readonly voters: readonly string[]; readonly learners: readonly string[] };
}

export async function preStop(options: PreStopOptions): Promise<PreStopOutcome> {
  const { config, kubeConfig, log = () => undefined } = options;
  const k = config.kubernetes;
  if (!k) return 'not-leaving';
  const deadline = Date.now() + options.deadlineMs;
  let replicas: number;
  try {
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const sts = await withDeadline(
      apps.readNamespacedStatefulSet({ name: k.statefulSet, namespace: k.namespace }),
      Math.min(5_000, options.deadlineMs),
      'read statefulset',
    );
    replicas = replicasOf(sts);
  } catch (error) {
    log(`pre-stop: cannot read StatefulSet ${k.statefulSet} (${String(error)}); stopping without waiting`);
    return 'unknown';
  }
  const ordinal = ordinalOf(k, k.podName);
  if (ordinal < replicas) return 'not-leaving';

  log(
    `pre-stop: ${k.podName} is being scaled away (replicas ${replicas}); waiting until it left the configuration`,
  );
  const tls = config.tls?.api ? config.tls : null;
  const local = `${tls ? 'https' : 'http'}://127.0.0.1:${config.api.port}`;
  // Over TLS: this pod's own API on loopback (no name to verify), the leader against the CA.
  const loopback = new Agent(tls ? { connect: { rejectUnauthorized: false } } : {});
  const remote = new Agent(tls ? { connect: { ca: readFileSync(tls.ca ?? tls.cert) } } : {});
  try {
    while (Date.now() < deadline) {
      const self = await status(local, loopback);
      const id = self?.id;
      if (id !== undefined) {
        // The leader's view decides: a removed member may never hear that its removal
        // committed, and then campaigns (in vain) and forgets who leads; so when this member
        // knows no leader, ask the members that stay.
        const staying = Array.from(
          { length: replicas },
          (_, i) => memberAddress(config, `${k.statefulSet}-${i}`).api,
        );
        const view = await leaderView([self?.leaderApi ?? null, ...staying], remote);
        const members = view?.config ? [...view.config.voters, ...view.config.learners] : null;
        if (members !== null && !members.includes(id)) {
          log(`pre-stop: ${id} is no longer a member; stopping`);
          return 'removed';
        }
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }
  } finally {
    await Promise.all([loopback.close(), remote.close()]);
  }
  log(`pre-stop: ${k.podName} was not removed within ${options.deadlineMs} ms; stopping anyway`);
  return 'timed-out';
}

/** The status of the first of `urls` that says it leads. */
async function leaderView(urls: readonly (string | null)[], dispatcher: Agent): Promise<StatusView | null> {
  for (const url of new Set(urls)) {
    if (url === null) continue;
    const view = await status(url, dispatcher);
    if (view?.role === 'leader') return view;
  }
  return null;
}

async function status(base: string, dispatcher: Agent): Promise<StatusView | null> {
  try {
    const res = await fetch(`${base}/cluster/status`, { signal: AbortSignal.timeout(2_000), dispatcher });
    return res.ok ? ((await res.json()) as StatusView) : null;
  } catch {
    return null;
  }
}
