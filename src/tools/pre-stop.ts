// `node dist/tools/pre-stop.js`: the chart's preStop hook (see src/k8s/pre-stop.ts). Same
// environment as the node's container; RAFT3D_PRESTOP_SECONDS bounds the wait (the chart
// sets it a few seconds under terminationGracePeriodSeconds). Always exits 0.

import { pathToFileURL } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../config.js';
import { preStop } from '../k8s/index.js';

async function main(): Promise<void> {
  try {
    const config = loadConfig([], process.env);
    const kubeConfig = new KubeConfig();
    if (process.env['KUBECONFIG']) kubeConfig.loadFromDefault();
    else kubeConfig.loadFromCluster();
    const seconds = Number(process.env['RAFT3D_PRESTOP_SECONDS'] ?? '20');
    await preStop({
      config,
      kubeConfig,
      deadlineMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : 20) * 1000,
      log: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    process.stdout.write(`pre-stop: ${(error as Error).message}; stopping without waiting\n`);
  }
  process.exit(0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
