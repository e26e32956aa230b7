// The metrics registry on its own: every series is prefixed raft3d_, the default process
// metrics included, and two nodes in one process keep separate registries.

import test from 'ava';
import { createMetrics } from '../../src/metrics/index.js';

test('default process metrics carry the raft3d_ prefix', async (t) => {
  const metrics = createMetrics({ labels: { node: 'n1' } });
  const text = await metrics.registry.metrics();
  t.regex(text, /^raft3d_process_cpu_user_seconds_total\{node="n1"\} /m);
  t.regex(text, /^raft3d_nodejs_eventloop_lag_seconds\{node="n1"\} /m);
  const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
  t.true(names.length > 20);
  for (const name of names) t.true(name.startsWith('raft3d_'), name);
});

test('two registries in one process do not share series', async (t) => {
  const a = createMetrics({ defaultMetrics: false });
  const b = createMetrics({ defaultMetrics: false });
  a.isLeader.set(1);
  b.isLeader.set(0);
  a.labelSyncFailures.inc();
  t.regex(await a.registry.metrics(), /^raft3d_is_leader 1$/m);
  t.regex(await b.registry.metrics(), /^raft3d_is_leader 0$/m);
  t.regex(await a.registry.metrics(), /^raft3d_label_sync_failures_total 1$/m);
  t.regex(await b.registry.metrics(), /^raft3d_label_sync_failures_total 0$/m);
});
