// Kubernetes mode: the pod labels itself with its Raft role (so the leader Service finds
// the leader) and, while leader, reconciles Raft membership with the StatefulSet's
// replicas. main.ts calls startKubernetesIntegration when RAFT3D_K8S is on.

import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statefulSetHost } from '../config.js';
import type { Config } from '../config.js';
import { MembershipReconciler } from './membership-reconciler.js';
import type { KubeNode } from './node-port.js';
import { PodLabeller } from './pod-labeller.js';
import type { BackoffOptions } from './retry.js';

export { PodLabeller } from './pod-labeller.js';
export type { PodLabellerOptions } from './pod-labeller.js';
export { MembershipReconciler, replicasOf } from './membership-reconciler.js';
export type { MembershipReconcilerOptions } from './membership-reconciler.js';
export { planMembershipStep, memberOrdinal } from './membership-plan.js';
export type { MembershipStep, PlanInput } from './membership-plan.js';
export type { KubeNode, KubeNodeStatus, MembershipChange, MemberProgress, RoleEvent } from './node-port.js';
export { ROLE_LABEL, TERM_LABEL } from './labels.js';

export interface KubernetesIntegration {
  stop(): Promise<void>;
}

export interface KubernetesIntegrationOptions {
  /** Default: $KUBECONFIG when set (a node run outside the cluster, tests), else the pod's service account. */
  readonly kubeConfig?: KubeConfig;
  /** Turn off the membership reconciler (labelling stays on). Default true. */
  readonly reconcile?: boolean;
  readonly pollMs?: number;
  readonly catchUpEntries?: number;
  readonly requestTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

export function startKubernetesIntegration(
  node: KubeNode,
  config: Config,
  logger: Logger,
  onLabelFailure: () => void,
  options: KubernetesIntegrationOptions = {},
): KubernetesIntegration {
  const k = config.kubernetes;
  if (!k) throw new Error('startKubernetesIntegration needs Kubernetes mode (RAFT3D_K8S=true)');
  const kubeConfig = options.kubeConfig ?? defaultKubeConfig();
  const log = logger.child({ component: 'k8s' });
  const timing = {
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
  };

  const labeller = new PodLabeller({
    core: kubeConfig.makeApiClient(CoreV1Api),
    namespace: k.namespace,
    podName: k.podName,
    onFailure: onLabelFailure,
    logger: log,
    ...timing,
  });
  // Follower first: a label left over from a previous life must not attract writes.
  const initial = node.status();
  labeller.set('follower', initial.term);
  if (initial.role === 'leader') labeller.set('leader', initial.term);
  const offRole = node.on('role', (change) => labeller.set(change.role, change.term));

  let reconciler: MembershipReconciler | null = null;
  if (options.reconcile ?? true) {
    reconciler = new MembershipReconciler({
      node,
      apps: kubeConfig.makeApiClient(AppsV1Api),
      namespace: k.namespace,
      statefulSet: k.statefulSet,
      hostOf: (ordinal) => statefulSetHost(k, ordinal),
      peerPort: config.peer.port,
      apiPort: config.api.port,
      kubeConfig,
      logger: log,
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      ...(options.catchUpEntries !== undefined ? { catchUpEntries: options.catchUpEntries } : {}),
      ...timing,
    });
    reconciler.start();
  }

  return {
    async stop() {
      offRole();
      await reconciler?.stop();
      await labeller.stop();
    },
  };
}

/** In a pod: the service account (KubeConfig.loadFromCluster()). Outside: an explicit $KUBECONFIG. */
function defaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (process.env['KUBECONFIG']) kubeConfig.loadFromDefault();
  else kubeConfig.loadFromCluster();
  return kubeConfig;
}
