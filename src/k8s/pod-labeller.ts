// Keeps this pod's `raft3d.io/role` and `raft3d.io/term` labels in step with the node's
// role, so the leader Service routes to the current leader. Updates coalesce (only the
// latest wanted label is ever sent), failed patches retry with capped exponential
// backoff and count through `onFailure`, and nothing here can stop the node serving.
// A new leader also demotes any other member's pod still labelled leader with an older
// term, reading each by name (RBAC grants get/patch on this release's pod names only).

import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ROLE_LABEL, TERM_LABEL, httpStatus, roleLabel } from './labels.js';
import type { RoleLabel } from './labels.js';
import { Coalescer } from '../util/index.js';
import { DEFAULT_BACKOFF, backoffDelay, withDeadline } from './retry.js';
import type { BackoffOptions } from './retry.js';

export interface PodLabellerOptions {
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly podName: string;
  /** Called once per failed API call (the `label_sync_failures` counter). */
  readonly onFailure: () => void;
  readonly logger?: Logger;
  readonly backoff?: BackoffOptions;
  /** Deadline of one API call (default 5,000 ms). */
  readonly requestTimeoutMs?: number;
  /** Pod names of the other members, checked for a stale leader label by a new leader. */
  readonly peers: () => readonly string[];
}

interface Wanted {
  readonly role: RoleLabel;
  readonly term: number;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

class ConflictError extends Error {}

export class PodLabeller {
  private wanted: Wanted | null = null;
  private applied: Wanted | null = null;
  /** Leader term whose stale-leader sweep has completed. */
  private sweptTerm = -1;
  /** Conflicts in a row: the first few are looked at again at once, later ones back off. */
  private conflicts = 0;
  /** What the step under way tries, for the failure's log line. */
  private attempt = '';
  private stopped = false;
  private readonly worker: Coalescer;
  private readonly timeoutMs: number;

  constructor(private readonly options: PodLabellerOptions) {
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.worker = new Coalescer({
      hasWork: () => this.pending(),
      step: () => this.step(),
      backoffMs: (failures) => backoffDelay(backoff, failures),
      onFailure: (error) => this.failed(error, this.attempt),
    });
  }

  /** Wants this pod labelled for `role` in `term`; returns at once, the patch happens in the background. */
  set(role: string, term: number): void {
    if (this.stopped) return;
    this.wanted = { role: roleLabel(role), term };
    this.worker.poke();
  }

  /** Resolves once nothing is pending (or after stop); for tests and orderly shutdown. */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  /** Stops retrying, then makes one last attempt to label this pod follower. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.worker.stop();
    if (this.applied?.role === 'follower') return;
    try {
      await this.patchOwn({ role: 'follower', term: this.wanted?.term ?? this.applied?.term ?? 0 });
    } catch (error) {
      this.failed(error, 'final follower label');
    }
  }

  private pending(): boolean {
    const want = this.wanted;
    if (!want) return false;
    if (!same(want, this.applied)) return true;
    return want.role === 'leader' && this.sweptTerm < want.term;
  }

  /** Labels this pod as wanted, or (a leader, labelled) sweeps stale leader labels once per term. */
  private async step(): Promise<void> {
    const want = this.wanted!;
    try {
      if (!same(want, this.applied)) {
        this.attempt = `label ${want.role}`;
        await this.patchOwn(want);
        this.applied = want;
      } else {
        this.attempt = 'stale leader sweep';
        await this.demoteStaleLeaders(want.term);
        this.sweptTerm = Math.max(this.sweptTerm, want.term);
      }
      this.conflicts = 0;
    } catch (error) {
      // Someone changed a pod under us: look again at once, a few times, before backing off.
      if (error instanceof ConflictError && ++this.conflicts <= 3) return;
      throw error;
    }
  }

  private failed(error: unknown, what: string): void {
    this.options.onFailure();
    this.options.logger?.warn({ err: error, pod: this.options.podName }, `k8s: ${what} failed`);
  }

  private async patchOwn(want: Wanted): Promise<void> {
    const { core, namespace, podName } = this.options;
    const body = { metadata: { labels: { [ROLE_LABEL]: want.role, [TERM_LABEL]: String(want.term) } } };
    await withDeadline(
      core.patchNamespacedPod({ name: podName, namespace, body }, mergePatch),
      this.timeoutMs,
      'patch pod',
    );
    this.options.logger?.info({ pod: podName, role: want.role, term: want.term }, 'k8s: pod labelled');
  }

  /** Relabels as follower every other member's pod still labelled leader with an older term. */
  private async demoteStaleLeaders(term: number): Promise<void> {
    const { core, namespace, podName, logger } = this.options;
    for (const name of new Set(this.options.peers())) {
      if (name === podName) continue;
      let pod;
      try {
        pod = await withDeadline(core.readNamespacedPod({ name, namespace }), this.timeoutMs, 'read pod');
      } catch (error) {
        // 404: not created yet, or gone. 403: not one of this release's pod names (RBAC lists
        // ordinals below replicas; a member being scaled away is about to leave): nothing to fix.
        if (httpStatus(error) === 404 || httpStatus(error) === 403) continue;
        throw error;
      }
      const labels = pod.metadata?.labels ?? {};
      if (labels[ROLE_LABEL] !== 'leader') continue;
      const theirs = Number(labels[TERM_LABEL]);
      if (Number.isInteger(theirs) && theirs >= term) continue;
      // resourceVersion makes this conditional: if that pod relabelled itself meanwhile, we get 409 and look again.
      const metadata: Record<string, unknown> = { labels: { [ROLE_LABEL]: 'follower' } };
      if (pod.metadata?.resourceVersion) metadata['resourceVersion'] = pod.metadata.resourceVersion;
      try {
        await withDeadline(
          core.patchNamespacedPod({ name, namespace, body: { metadata } }, mergePatch),
          this.timeoutMs,
          'patch stale leader',
        );
      } catch (error) {
        if (httpStatus(error) === 409) throw new ConflictError(`pod ${name} changed`);
        if (httpStatus(error) === 404) continue;
        throw error;
      }
      logger?.info(
        { pod: name, theirTerm: labels[TERM_LABEL] ?? null, term },
        'k8s: stale leader label cleared',
      );
    }
  }
}

function same(a: Wanted, b: Wanted | null): boolean {
  return b !== null && a.role === b.role && a.term === b.term;
}
