// A node started by a supervisor with an IPC channel (`npm run cluster`) lives only as long
// as that supervisor: when the channel closes (the supervisor exited, even by kill -9) the
// node stops, so no orphan keeps the ports and the data dir locked. The supervisor stops the
// whole cluster with a `stop-cluster` message: every member is going, so a leader skips the
// leadership hand-over (it could only time out). A node without the channel is unaffected.

/** The message `npm run cluster` sends to stop every member at once. */
export const STOP_CLUSTER = 'raft3d:stop-cluster';

export type SupervisorStop = 'supervisor exited' | 'cluster stop';

/**
 * Calls `stop` once when the supervisor goes or asks the cluster to stop; returns whether
 * this process has a supervisor at all.
 */
export function followSupervisor(stop: (reason: SupervisorStop) => void): boolean {
  if (typeof process.send !== 'function') return false;
  let stopped = false;
  const once = (reason: SupervisorStop): void => {
    if (stopped) return;
    stopped = true;
    stop(reason);
  };
  process.on('message', (message: unknown) => {
    if (message === STOP_CLUSTER) once('cluster stop');
  });
  process.on('disconnect', () => once('supervisor exited'));
  // The channel may already be gone (the supervisor died while this node started).
  if (!process.connected) once('supervisor exited');
  return true;
}
