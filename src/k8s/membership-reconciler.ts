// On the leader only: removes the members the StatefulSet no longer wants (ordinals >=
// spec.replicas), one at a time as planned by planMembershipStep, and tells the join route
// which ordinals may join (admit). It learns spec.replicas from a watch on its own
// StatefulSet (fieldSelector metadata.name=<sts>, which is how RBAC `watch` with
// resourceNames is satisfied) plus a periodic GET as a safety net. New pods and new
// incarnations add themselves (src/membership/joiner.ts).

import { Watch } from '@kubernetes/client-node';
import type { AppsV1Api, KubeConfig, V1StatefulSet } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { CATCH_UP_ENTRIES } from '../membership/index.js';
import { planMembershipStep, refuseJoin } from './membership-plan.js';
import type { MembershipStep } from './membership-plan.js';
import type { KubeNode } from './node-port.js';
import { Coalescer } from '../util/index.js';
import { DEFAULT_BACKOFF, backoffDelay, sleep, withDeadline } from './retry.js';
import type { BackoffOptions } from './retry.js';

export interface MembershipReconcilerOptions {
  readonly node: KubeNode;
  readonly apps: AppsV1Api;
  readonly namespace: string;
  readonly statefulSet: string;
  /** When given, a watch on the StatefulSet reacts to scaling at once; polling still runs. */
  readonly kubeConfig?: KubeConfig;
  readonly logger?: Logger;
  /** How often to re-read spec.replicas and re-check learners (default 5,000 ms). */
  readonly pollMs?: number;
  /** After a change, or while waiting for one, how soon to look again (default 500 ms). */
  readonly waitMs?: number;
  /** A voter counts as healthy when within this many entries of the leader (default 64). */
  readonly catchUpEntries?: number;
  readonly requestTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

export class MembershipReconciler {
  private replicas: number | null = null;
  private active: AbortController | null = null;
  /** A reconcile pass is wanted (a poll tick, a watch event, activation, or a failed pass). */
  private dirty = false;
  private readonly worker: Coalescer;
  /** Re-read spec.replicas on the next pass (poll tick, or after an error). */
  private refresh = false;
  /** Counts watch events, so a slower GET never overwrites what the watch saw. */
  private watchEvents = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  private offRole: (() => void) | null = null;
  private stopped = false;
  /** Last step taken or waited on, for logs and tests. */
  lastStep: MembershipStep = { kind: 'idle' };

  constructor(private readonly options: MembershipReconcilerOptions) {
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.worker = new Coalescer({
      hasWork: () => this.dirty && this.active !== null,
      step: () => this.pass(),
      backoffMs: (failures) => backoffDelay(backoff, failures),
      onFailure: (error) => {
        this.options.logger?.warn({ err: error }, 'k8s: membership reconcile failed');
        // Look again after the backoff, re-reading spec.replicas.
        this.refresh = true;
        this.dirty = true;
      },
    });
  }

  start(): void {
    this.offRole = this.options.node.on('role', (change) => {
      if (change.role === 'leader') this.activate();
      else this.deactivate();
    });
    if (this.options.node.status().role === 'leader') this.activate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.offRole?.();
    this.deactivate();
    await this.worker.stop();
  }

  /**
   * Why `id` may not join now (its ordinal is >= spec.replicas), or null. Before this leader
   * has read spec.replicas only the shape of the id is checked.
   */
  admit(id: string): string | null {
    return refuseJoin(this.options.statefulSet, this.replicas, id);
  }

  /** Resolves when no reconcile pass is running (tests). */
  settled(): Promise<void> {
    return this.worker.idle();
  }

  private activate(): void {
    if (this.stopped || this.active) return;
    const active = new AbortController();
    this.active = active;
    this.options.logger?.info(
      { statefulSet: this.options.statefulSet },
      'k8s: membership reconciler active (leader)',
    );
    this.schedule(0);
    if (this.options.kubeConfig) void this.watchLoop(this.options.kubeConfig, active.signal);
  }

  private deactivate(): void {
    if (!this.active) return;
    this.active.abort();
    this.active = null;
    this.replicas = null;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    // A backoff under way ends: the pass after it finds this member no longer leading.
    this.worker.resetBackoff();
  }

  private schedule(ms: number): void {
    if (!this.active) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.trigger(true);
    }, ms);
  }

  private trigger(refresh: boolean): void {
    this.dirty = true;
    this.refresh ||= refresh;
    this.worker.poke();
  }

  /** One reconcile pass: spec.replicas (re-read when asked), one planned step, the next look scheduled. */
  private async pass(): Promise<void> {
    this.dirty = false;
    const signal = this.active!.signal;
    let next = this.options.pollMs ?? 5_000;
    if (this.refresh || this.replicas === null) {
      this.refresh = false;
      const seen = this.watchEvents;
      const replicas = await this.readReplicas();
      // A watch event that arrived while the GET was in flight is newer than its answer.
      if (this.watchEvents === seen || this.replicas === null) this.replicas = replicas;
    }
    const step = await this.applyOnce(this.replicas);
    // After a change (or while waiting), look again soon; the pause also keeps a node whose
    // status lags behind its own changes from being flooded with the same proposal.
    if (step.kind !== 'idle') next = this.options.waitMs ?? 500;
    if (!signal.aborted) this.schedule(next);
  }

  private async readReplicas(): Promise<number> {
    const { apps, namespace, statefulSet } = this.options;
    const sts = await withDeadline(
      apps.readNamespacedStatefulSet({ name: statefulSet, namespace }),
      this.options.requestTimeoutMs ?? 5_000,
      'read statefulset',
    );
    return replicasOf(sts);
  }

  private async applyOnce(replicas: number): Promise<MembershipStep> {
    const { node, statefulSet, logger } = this.options;
    const step = planMembershipStep({
      status: node.status(),
      replicas,
      statefulSet,
      catchUpEntries: this.options.catchUpEntries ?? CATCH_UP_ENTRIES,
    });
    const changed =
      step.kind !== this.lastStep.kind || JSON.stringify(step) !== JSON.stringify(this.lastStep);
    this.lastStep = step;
    switch (step.kind) {
      case 'idle':
        return step;
      case 'wait':
        if (changed) logger?.info({ reason: step.reason, replicas }, 'k8s: membership change waiting');
        return step;
      case 'transfer':
        logger?.info({ to: step.to, replicas }, 'k8s: handing leadership over before this member is removed');
        await node.transferLeadership(step.to);
        return step;
      case 'remove':
        logger?.info({ node: step.node, replicas }, 'k8s: removing member');
        await node.changeMembership({ kind: 'remove', node: step.node });
        return step;
    }
  }

  private async watchLoop(kubeConfig: KubeConfig, signal: AbortSignal): Promise<void> {
    const { namespace, statefulSet, logger } = this.options;
    const path = `/apis/apps/v1/namespaces/${namespace}/statefulsets`;
    let attempt = 0;
    while (!signal.aborted) {
      const ended = new Promise<unknown>((resolve) => {
        const onEvent = (phase: string, object: V1StatefulSet): void => {
          attempt = 0;
          if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
          this.watchEvents += 1;
          const replicas = replicasOf(object);
          if (replicas !== this.replicas) {
            logger?.info({ replicas }, 'k8s: statefulset replicas changed');
            this.replicas = replicas;
            this.trigger(false);
          }
        };
        new Watch(kubeConfig)
          .watch(
            path,
            { fieldSelector: `metadata.name=${statefulSet}`, allowWatchBookmarks: false },
            onEvent,
            resolve,
          )
          .then((controller) => {
            if (signal.aborted) controller.abort();
            else signal.addEventListener('abort', () => controller.abort(), { once: true });
          }, resolve);
      });
      const error = await ended;
      if (signal.aborted) return;
      attempt += 1;
      if (error) logger?.debug({ err: error }, 'k8s: statefulset watch ended');
      await sleep(backoffDelay(this.options.backoff ?? DEFAULT_BACKOFF, attempt), signal);
    }
  }
}

/** spec.replicas, which Kubernetes defaults to 1. */
export function replicasOf(sts: V1StatefulSet): number {
  return sts.spec?.replicas ?? 1;
}
