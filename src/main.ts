// The Raft3D node process: configuration from flags and RAFT3D_* env (src/config.ts), then
// who this member is (src/membership/identity.ts: a data dir's recorded id, or for an empty
// one a first start, or a new incarnation of a member that lost its data), durable storage,
// the peer transport, the Raft node with the print-shop FSM, the REST API and, on
// Kubernetes, the cluster secrets, pod self-labelling and scale-down. A member that is not
// a voter asks the cluster to admit it (src/membership/joiner.ts). SIGTERM is handled from
// the first line (src/shutdown.ts); once serving it hands leadership to the most caught-up
// follower, stops taking requests, finishes in-flight ones, flushes and exits 0; a second
// signal exits at once.

import { lifecycle } from './shutdown.js';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import pino from 'pino';
import type { Logger } from 'pino';
import { BootstrapError } from './bootstrap.js';
import { ConfigError, loadConfig, memberAddress } from './config.js';
import type { Config } from './config.js';
import {
  IdentityError,
  InitialClusterStateRegistry,
  Joiner,
  baseOf,
  isIncarnation,
  resolveIdentity,
} from './membership/index.js';
import type { Identity, IdentityRegistry } from './membership/index.js';
import { createMetrics } from './metrics/index.js';
import { SegmentStorage, StorageCorruptionError } from './storage/index.js';
import { HttpTransport, livenessTimings } from './transport/index.js';
import { Forwarder, createApiServer, createApp, startShopNode } from './api/index.js';
import type { ShopNode } from './api/index.js';
import { followSupervisor } from './supervised.js';

/** How long a leader waits for its hand-over to finish before it exits anyway. */
const TRANSFER_TIMEOUT_MS = 3_000;
/** How long in-flight HTTP requests may take to finish on shutdown. */
const DRAIN_TIMEOUT_MS = 5_000;

/** False once the supervisor stops the whole cluster: no follower would take over. */
let handOverOnStop = true;

/** Errors that mean "this data dir or its cluster record says no": exit 1 with the message, no stack. */
const REFUSALS = new Set([
  'invalid_bootstrap',
  'invalid_identity',
  'member_registry',
  'stale_incarnation',
  'cluster_secret',
]);

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
  followSupervisor((reason) => {
    handOverOnStop = false;
    logger.info({ reason }, 'stopping with the whole cluster (npm run cluster)');
    lifecycle.handle('SIGTERM');
  });
  try {
    await run(config, logger);
  } catch (error) {
    if (lifecycle.stopping) return; // a signal ended start-up; the lifecycle exits
    const code = (error as { code?: unknown } | null)?.code;
    if (
      error instanceof StorageCorruptionError ||
      error instanceof BootstrapError ||
      error instanceof IdentityError ||
      (typeof code === 'string' && REFUSALS.has(code))
    ) {
      logger.fatal({ err: error }, 'refusing to start');
      process.stderr.write(`raft3d: ${(error as Error).message}\n`);
      process.exit(1);
    }
    logger.fatal({ err: error }, 'raft3d failed to start');
    process.exit(1);
  }
}

interface Secrets {
  readonly registry: IdentityRegistry;
  readonly clusterSecret: string | null;
  readonly adminToken: string | null;
}

async function run(config: Config, baseLogger: Logger): Promise<void> {
  // @kubernetes/client-node takes seconds to import: only load it on Kubernetes.
  const k8s = config.kubernetes ? await import('./k8s/index.js') : null;
  const prepared: Secrets = k8s
    ? await k8s.prepareKubernetesStart(config, baseLogger, lifecycle.startup)
    : {
        registry: new InitialClusterStateRegistry(config.initialClusterState, [
          ...config.initialCluster.keys(),
        ]),
        clusterSecret: config.clusterSecret,
        adminToken: config.adminToken,
      };

  mkdirSync(config.dataDir, { recursive: true });
  const identity = await resolveIdentity({
    dataDir: config.dataDir,
    base: config.id,
    configuredVoters: [...config.initialCluster.keys()],
    registry: prepared.registry,
    warn: (message) => baseLogger.warn(message),
  });
  const logger = identity.id === config.id ? baseLogger : baseLogger.child({ member: identity.id });
  logger.info(
    { id: identity.id, start: identity.start, initialVoters: identity.initialVoters },
    'member identity',
  );

  const tls = config.tls && {
    cert: readFileSync(config.tls.cert),
    key: readFileSync(config.tls.key),
    ca: config.tls.ca === null ? null : readFileSync(config.tls.ca),
  };
  const metrics = createMetrics();
  // The node driver times each durable save into raft3d_fsync_latency_seconds.
  const storage = await SegmentStorage.open(config.dataDir, { logger });
  lifecycle.onStartupAbort(() => storage.close());

  const peers = new Map<string, string>();
  const apiAddresses = new Map<string, string>();
  for (const id of new Set([...identity.initialVoters, identity.id])) {
    const where = memberAddress(config, id);
    if (where.peer !== null && id !== identity.id) peers.set(id, where.peer);
    if (where.api !== null) apiAddresses.set(id, where.api);
  }
  const transport = new HttpTransport({
    id: identity.id,
    listen: config.peer,
    peers,
    secret: prepared.clusterSecret,
    logger,
    runsAs: (id) => (isIncarnation(id) ? baseOf(id) : null),
    ...livenessTimings(config.tickMs * config.electionTicks),
  });
  if (prepared.clusterSecret === null)
    logger.warn('RAFT3D_CLUSTER_SECRET is not set: peers are not authenticated (development only)');
  if (prepared.adminToken === null && !config.kubernetes)
    logger.warn('RAFT3D_ADMIN_TOKEN is not set: the admin routes are open (development only)');

  const node = await startShopNode({
    id: identity.id,
    initialVoters: identity.initialVoters,
    storage,
    transport,
    tickMs: config.tickMs,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    maxClockDrift: config.maxClockDrift,
    snapshotEvery: config.snapshotEvery,
    apiAddresses,
    logger,
    metrics,
  });
  lifecycle.onStartupAbort(() => node.stop());

  const kubernetes = k8s
    ? k8s.startKubernetesIntegration(node, config, logger, () => metrics.labelSyncFailures.inc())
    : null;
  const apiTls = tls && config.tls?.api ? tls : null;
  const app = createApp({
    node,
    logger,
    metrics,
    ...(apiTls ? { forwarder: new Forwarder(identity.id, 10_000, apiTls.ca ?? apiTls.cert) } : {}),
    access: {
      adminToken: prepared.adminToken,
      clusterSecret: prepared.clusterSecret,
      requireAdminToken: config.kubernetes !== null,
    },
    ...(kubernetes ? { admitJoin: (id: string) => kubernetes.admitJoin(id) } : {}),
    podName: config.kubernetes?.podName ?? null,
  });
  const server = await listen(app, config, apiTls);
  logger.info(
    {
      api: `${apiTls ? 'https' : 'http'}://${config.api.host}:${config.api.port}`,
      peer: `${config.peer.host}:${config.peer.port}`,
      tls: { api: apiTls !== null, peer: tls !== null && config.tls?.peer === true },
    },
    'raft3d node serving',
  );
  const joiner = startJoiner(
    config,
    identity,
    node,
    prepared.clusterSecret,
    apiTls && (apiTls.ca ?? apiTls.cert),
    logger,
  );

  let stopping = false;
  lifecycle.serving(async (signal) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await joiner?.stop();
    if (handOverOnStop && node.isLeader() && node.status().config.voters.length > 1) {
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
    app.endStreams();
    await withTimeout(closeServer(server), DRAIN_TIMEOUT_MS).catch(() => server.closeAllConnections());
    await app.closeApp();
    await node.stop();
    await transport.close();
    await storage.close();
    logger.info('stopped');
    process.exit(0);
  });
}

/**
 * A member that may not be a voter asks to be admitted: on Kubernetes every member on every
 * start (a pod scaled up, a new incarnation, a member re-added after a scale-down: the
 * leader answers "voter" at once when it already is one), elsewhere a member that started
 * outside the first configuration or is an incarnation.
 */
function startJoiner(
  config: Config,
  identity: Identity,
  node: ShopNode,
  clusterSecret: string | null,
  tlsCa: Buffer | null,
  logger: Logger,
): Joiner | null {
  const ask = config.kubernetes !== null || identity.start === 'joining' || isIncarnation(identity.id);
  if (!ask) return null;
  const own = memberAddress(config, identity.id);
  if (own.peer === null || own.api === null) {
    logger.warn({ id: identity.id }, 'cannot ask to join: this member has no peer or API address configured');
    return null;
  }
  const joiner = new Joiner({
    request: { id: identity.id, peer: own.peer, api: own.api },
    endpoints: () => {
      // The leader first when known, then every other member this node knows an API address for.
      const leader = node.status().leaderApi;
      const others = [...new Set([...identity.initialVoters, ...node.status().config.voters])]
        .filter((id) => baseOf(id) !== identity.base)
        .map((id) => node.apiAddress(id) ?? memberAddress(config, id).api)
        .filter((url): url is string => url !== null);
      return [...new Set([...(leader === null ? [] : [leader]), ...others])];
    },
    authorization: clusterSecret === null ? null : `Bearer ${clusterSecret}`,
    admitted: () => node.isLeader() && node.status().config.voters.includes(identity.id),
    tlsCa,
    logger,
  });
  joiner.start();
  return joiner;
}

function listen(
  app: ReturnType<typeof createApp>,
  config: Config,
  tls: { readonly cert: Buffer; readonly key: Buffer } | null,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createApiServer(app, tls);
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
