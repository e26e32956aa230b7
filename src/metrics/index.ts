// Public surface of the metrics layer: a per-node prom-client registry with typed handles.
export { createMetrics } from './registry.js';
export type { Metrics, MetricsOptions } from './registry.js';
