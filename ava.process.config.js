// Real-process tests (test/process): run one file at a time, after the unit tests, so
// timing assertions (failover within 2 s, SIGTERM gap) are not fighting the simulation
// for the 2 CPUs. `npm test` runs them; `npm run test:process` runs only them.
export default {
  files: [
    'test/process/**/*.test.ts',
    'test/k8s/routing-chain.test.ts',
    'test/k8s/scale-down.test.ts',
    'test/k8s/notes-walk.test.ts',
  ],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  concurrency: 1,
  timeout: '180s',
};
