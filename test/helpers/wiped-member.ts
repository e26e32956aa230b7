// The wiped-member scenario of issue 11 on real processes, shared by the test and
// `npm run check:wiped-member`. Three members; one follower (C) is frozen so that every
// write acknowledged from then on is held by the leader (A) and the other follower (B) only.
// Then, under load: B is killed and its data dir deleted (kubectl delete pvc + pod), B comes
// back at once, and A is killed right after. C resumes. If B could vote under its old id,
// C (without the last writes) and the empty B would elect C and those acknowledged writes
// would be overwritten when A returns. With incarnations B is `B~xxxxxx`, not a voter: no
// leader can be elected until A is back, A's log wins, and B~xxxxxx replaces B.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { baseOf, isIncarnation } from '../../src/membership/index.js';
import { FakeApiServer } from '../k8s/fake-api-server.js';
import { waitCaughtUp } from './failover.js';
import { LoadWriter, printerIds } from './load.js';
import { ProcessCluster, sleep } from './process-cluster.js';

export type WipeMode = 'kubernetes' | 'local';

export interface WipeRun {
  readonly mode: WipeMode;
  readonly leader: string;
  readonly wiped: string;
  readonly lagging: string;
  /** Writes acknowledged during the run. */
  readonly acked: number;
  /** Of those, acknowledged after C froze: held by A and B only when acknowledged. */
  readonly ackedWithoutC: number;
  /** Acknowledged writes missing from any member at the end. */
  readonly lost: readonly string[];
  /** A member that led while A was down (with the fix: none; it could only win with B's lost vote). */
  readonly leaderWhileDown: string | null;
  /** The id the wiped member came back as, once it is a voter and its old id is gone; null if never. */
  readonly replacedBy: string | null;
  readonly voters: readonly string[];
  readonly ms: number;
  /** When each step finished, in ms since the run started. */
  readonly phases: Readonly<Record<string, number>>;
}

export interface WipeOptions {
  readonly mode: WipeMode;
  readonly label?: string;
  /** How long A stays down after the wipe (the window in which C and B could wrongly elect). */
  readonly downMs?: number;
}

export async function runWipedMember(options: WipeOptions): Promise<WipeRun> {
  const started = performance.now();
  const phases: Record<string, number> = {};
  const phase = (name: string): void => {
    phases[name] = Math.round(performance.now() - started);
  };
  const k8s = options.mode === 'kubernetes';
  const root = mkdtempSync(path.join(os.tmpdir(), 'raft3d-wipe-'));
  const api = k8s ? await new FakeApiServer('shop').start() : null;
  if (api) {
    api.setReplicas('raft3d', 3);
    api.addConfigMap('raft3d-members');
  }
  const cluster = await ProcessCluster.start({
    size: 3,
    tickMs: 20,
    electionTicks: 10,
    ...(api
      ? {
          ids: ['raft3d-0', 'raft3d-1', 'raft3d-2'],
          kubernetes: {
            kubeconfig: api.writeKubeconfig(path.join(root, 'kubeconfig')),
            namespace: 'shop',
            statefulSet: 'raft3d',
          },
        }
      : {}),
  });
  try {
    const leader = await cluster.waitForLeader(30_000);
    phase('leader');
    const [wiped, lagging] = cluster.nodes.filter((n) => n.id !== leader.id);
    if (!wiped || !lagging) throw new Error('expected two followers');
    const writer = new LoadWriter(() => (leader.process ? [leader.url] : []), options.label ?? 'wipe', 4);
    writer.start();
    await sleep(300);
    cluster.pause(lagging.id); // from here on every acknowledgement is A + B
    const frozenAt = performance.now();
    const withoutC = (): number => writer.acks.filter((a) => a.at > frozenAt).length;
    // At least 700 ms, and enough writes held by A and B only to make a loss visible.
    while (performance.now() - frozenAt < 700 || (withoutC() < 20 && performance.now() - frozenAt < 10_000))
      await sleep(50);

    await cluster.kill(wiped.id);
    cluster.wipe(wiped.id);
    // Back at once, as the StatefulSet recreates the pod with a new, empty volume. Without
    // Kubernetes, `npm run cluster` restarts a member whose data dir is gone with `existing`.
    cluster.startNode(wiped.id, k8s ? [] : ['--initial-cluster-state=existing']);
    await cluster.kill(leader.id);
    phase('wiped and leader killed');
    await writer.stop();
    cluster.resume(lagging.id);

    // The window: A is down; only C and the returning B are up.
    let leaderWhileDown: string | null = null;
    const downUntil = performance.now() + (options.downMs ?? 4_000);
    while (performance.now() < downUntil) {
      for (const n of [wiped, lagging]) {
        const s = await cluster.status(n.id);
        if (s?.role === 'leader') leaderWhileDown ??= s.id;
      }
      await sleep(100);
    }
    cluster.startNode(leader.id); // the pod comes back with its volume

    await waitCaughtUp(cluster, 30_000);
    phase('leader back, caught up');
    const replacedBy = await waitReplaced(cluster, wiped.id, 30_000);
    phase('replaced');
    await waitCaughtUp(cluster, 30_000);
    const lost = new Set<string>();
    for (const node of cluster.nodes) {
      const ids = await printerIds(node.url);
      for (const a of writer.acks) if (!ids.has(a.id)) lost.add(a.id);
    }
    const now = await cluster.waitForLeader(10_000);
    const voters = (await statusConfig(cluster, now.id))?.voters ?? [];
    phase('checked');
    return {
      mode: options.mode,
      leader: leader.id,
      wiped: wiped.id,
      lagging: lagging.id,
      acked: writer.acks.length,
      ackedWithoutC: withoutC(),
      lost: [...lost],
      leaderWhileDown,
      replacedBy,
      voters,
      ms: performance.now() - started,
      phases,
    };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${cluster.dump()}`);
  } finally {
    await cluster.stop();
    await api?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function statusConfig(
  cluster: ProcessCluster,
  id: string,
): Promise<{ voters: string[]; learners: string[] } | null> {
  const s = (await cluster.status(id)) as { config?: { voters: string[]; learners: string[] } } | null;
  return s?.config ?? null;
}

/** The new incarnation of `base` once the leader's configuration holds it as a voter and no longer holds `base`. */
async function waitReplaced(
  cluster: ProcessCluster,
  base: string,
  timeoutMs: number,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const leader = await cluster.waitForLeader(timeoutMs);
    const config = await statusConfig(cluster, leader.id);
    const incarnation = config?.voters.find((v) => baseOf(v) === base && isIncarnation(v));
    if (config && incarnation && !config.voters.includes(base) && config.learners.length === 0)
      return incarnation;
    await sleep(100);
  }
  return null;
}
