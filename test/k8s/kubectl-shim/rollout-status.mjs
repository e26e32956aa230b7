/* global fetch */
// `kubectl rollout status statefulset/NAME`: waits until every pod answers /readyz (PODS:
// JSON pod -> loopback API port), as the rollout completes when every pod is ready.
const pods = JSON.parse(process.env.PODS);
const deadline = Date.now() + 60_000;
for (const [pod, port] of Object.entries(pods)) {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      console.error(`error: timed out waiting for ${pod} to be ready`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
console.log(`partitioned roll out complete: ${Object.keys(pods).length} new pods have been updated...`);
