// The node's Prometheus metrics: one prom-client Registry per node (never the global one),
// so several nodes can live in one test process. Every name is prefixed `raft3d_`.
// The driver, the API and the k8s labeller update the typed handles; `/metrics` serialises `registry`.

import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** 1 while this node is the leader, else 0. */
  readonly isLeader: Gauge;
  readonly term: Gauge;
  readonly commitIndex: Gauge;
  readonly appliedIndex: Gauge;
  readonly leaderChanges: Counter;
  /** Proposals by outcome: ok, rejected (not leader / no leader / refused), lost, timeout, error. */
  readonly proposals: Counter<'result'>;
  /** From propose() to the entry applied locally (successful proposals only). */
  readonly proposalSeconds: Histogram;
  /** One storage.save (group commit, fsync included) per Ready. */
  readonly fsyncSeconds: Histogram;
  /** The same durable writes over the last minute, as quantiles (the console's fsync p99). */
  readonly fsyncRecent: Summary;
  readonly snapshots: Counter;
  /** Index of the latest snapshot (set at scrape time): with applied_index, shows snapshots that stall. */
  readonly snapshotIndex: Gauge;
  readonly leaseReads: Counter<'path'>;
  readonly httpRequests: Counter<'method' | 'route' | 'code'>;
  readonly httpSeconds: Histogram<'method' | 'route'>;
  /** Failed attempts to patch this pod's role label (src/k8s). */
  readonly labelSyncFailures: Counter;
}

export interface MetricsOptions {
  /** Collect the default process metrics (CPU, memory, event loop lag...). Default true. */
  readonly defaultMetrics?: boolean;
  /** Constant labels added to every series, e.g. `{ node: 'n1' }`. */
  readonly labels?: Readonly<Record<string, string>>;
}

const PREFIX = 'raft3d_';
/** Buckets from 50 µs to 2.5 s: a local write is well under a millisecond. */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels({ ...options.labels });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const registers = [registry];
  return {
    registry,
    isLeader: new Gauge({
      name: `${PREFIX}is_leader`,
      help: '1 if this node is the Raft leader, else 0',
      registers,
    }),
    term: new Gauge({ name: `${PREFIX}term`, help: 'Current Raft term', registers }),
    commitIndex: new Gauge({
      name: `${PREFIX}commit_index`,
      help: 'Highest log index known committed',
      registers,
    }),
    appliedIndex: new Gauge({
      name: `${PREFIX}applied_index`,
      help: 'Highest log index applied to the state machine',
      registers,
    }),
    leaderChanges: new Counter({
      name: `${PREFIX}leader_changes_total`,
      help: 'Times the known leader changed',
      registers,
    }),
    proposals: new Counter({
      name: `${PREFIX}proposals_total`,
      help: 'Proposals made on this node, by outcome',
      labelNames: ['result'] as const,
      registers,
    }),
    proposalSeconds: new Histogram({
      name: `${PREFIX}proposal_latency_seconds`,
      help: 'Time from proposal to local apply',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    fsyncSeconds: new Histogram({
      name: `${PREFIX}fsync_latency_seconds`,
      help: 'Duration of one durable storage write (one per Ready)',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    fsyncRecent: new Summary({
      name: `${PREFIX}fsync_recent_seconds`,
      help: 'Duration of one durable storage write, quantiles over the last 60 s',
      percentiles: [0.5, 0.99],
      maxAgeSeconds: 60,
      ageBuckets: 6,
      registers,
    }),
    snapshots: new Counter({
      name: `${PREFIX}snapshots_total`,
      help: 'Snapshots taken by this node',
      registers,
    }),
    snapshotIndex: new Gauge({
      name: `${PREFIX}snapshot_index`,
      help: 'Last log index covered by the latest snapshot on this node',
      registers,
    }),
    leaseReads: new Counter({
      name: `${PREFIX}leader_reads_total`,
      help: 'consistency=leader reads on the leader, by how they were confirmed (lease, or read_index when the lease did not hold)',
      labelNames: ['path'] as const,
      registers,
    }),
    httpRequests: new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests served, by route and status code',
      labelNames: ['method', 'route', 'code'] as const,
      registers,
    }),
    httpSeconds: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time to answer an HTTP request, by route',
      labelNames: ['method', 'route'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    labelSyncFailures: new Counter({
      name: `${PREFIX}label_sync_failures_total`,
      help: 'Failed attempts to set this pod’s raft3d.io/role label',
      registers,
    }),
  };
}
