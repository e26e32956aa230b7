// The Raft3D node process: configuration from flags and RAFT3D_* env (src/config.ts), then
// durable storage, the peer transport, the Raft node with the print-shop FSM, the REST API
// and, on Kubernetes, pod self-labelling and membership reconcile. SIGTERM hands leadership
// to the most caught-up follower, stops taking requests, finishes in-flight ones, flushes
// and exits 0; a second signal exits at once.

import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import pino from 'pino';
import type { Logger } from 'pino';
import { BootstrapError, resolveBootstrap } from './bootstrap.js';
import { ConfigError, loadConfig } from './config.js';
import type { Config } from './config.js';
import { createMetrics } from './metrics/index.js';
import { LevelStorage, StorageCorruptionError } from './storage/index.js';
import { HttpTransport, livenessTimings } from './transport/index.js';
import { createApiServer, createApp, startShopNode } from './api/index.js';

/** How long a leader waits for its hand-over to finish before it exits anyway. */
const TRANSFER_TIMEOUT_MS = 3_000;
/** How long in-flight HTTP requests may take to finish on shutdown. */
const DRAIN_TIMEOUT_MS = 5_000;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`raft3d: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { node: config.id } });
  try {
    await run(config, logger);
  } catch (error) {
    if (error instanceof StorageCorruptionError || error instanceof BootstrapError) {
      logger.fatal({ err: error }, 'refusing to start: the data directory is corrupt');
      process.stderr.write(`raft3d: ${error.message}\n`);
      process.exit(1);
    }
    logger.fatal({ err: error }, 'raft3d failed to start');
    process.exit(1);
  }
}

async function run(config: Config, logger: Logger): Promise<void> {
  const metrics = createMetrics();
  mkdirSync(config.dataDir, { recursive: true });
  // The node driver times each durable save into raft3d_fsync_latency_seconds.
  const storage = await LevelStorage.open(config.dataDir, { logger });

  const peers = new Map([...config.initialCluster].filter(([id]) => id !== config.id));
  const transport = new HttpTransport({
    id: config.id,
    listen: config.peer,
    peers,
    secret: config.clusterSecret,
    logger,
    ...livenessTimings(config.tickMs * config.electionTicks),
  });
  if (config.clusterSecret === null)
    logger.warn('RAFT3D_CLUSTER_SECRET is not set: peers are not authenticated (development only)');

  const initialVoters = resolveBootstrap(config.dataDir, [...config.initialCluster.keys()], (message) =>
    logger.warn(message),
  );
  const node = await startShopNode({
    id: config.id,
    initialVoters,
    storage,
    transport,
    tickMs: config.tickMs,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    maxClockDrift: config.maxClockDrift,
    snapshotEvery: config.snapshotEvery,
    apiAddresses: config.apiAddresses,
    logger,
    metrics,
  });

  const app = createApp({ node, logger, metrics });
  const server = await listen(app, config);
  logger.info(
    { api: `http://${config.api.host}:${config.api.port}`, peer: `${config.peer.host}:${config.peer.port}` },
    'raft3d node serving',
  );

  // @kubernetes/client-node takes seconds to import: only load it on Kubernetes.
  const kubernetes = config.kubernetes
    ? (await import('./k8s/index.js')).startKubernetesIntegration(node, config, logger, () =>
        metrics.labelSyncFailures.inc(),
      )
    : null;

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    if (node.isLeader() && node.status().config.voters.length > 1) {
      try {
        const to = await withTimeout(node.transferLeadership(), TRANSFER_TIMEOUT_MS);
        logger.info({ to }, 'leadership handed over');
      } catch (error) {
        logger.warn(
          { err: error },
          'leadership transfer did not finish; exiting anyway (the others will elect a leader)',
        );
      }
    }
    await kubernetes?.stop();
    await withTimeout(closeServer(server), DRAIN_TIMEOUT_MS).catch(() => server.closeAllConnections());
    await app.closeApp();
    await node.stop();
    await transport.close();
    await storage.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function listen(app: ReturnType<typeof createApp>, config: Config): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createApiServer(app);
    server.keepAliveTimeout = 65_000;
    server.once('error', reject);
    server.listen(config.api.port, config.api.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Stops accepting connections and resolves once in-flight requests have finished. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

await main();
