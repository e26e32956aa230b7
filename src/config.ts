// Process configuration: flags and RAFT3D_* environment variables (flag wins), checked
// once at start. A bad setting stops the process with a message naming the setting;
// nothing downstream re-validates. The names are the contract in docs/architecture.md §6.

import { parseArgs } from 'node:util';
import path from 'node:path';
import { baseOf } from './membership/index.js';
import { DEFAULT_NODE_TUNING } from './node/index.js';
import type { InitialClusterState } from './membership/index.js';

/** Listen hosts that are no address another member could reach. */
const WILDCARDS: readonly string[] = ['0.0.0.0', '::', '[::]', ''];

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface KubernetesConfig {
  readonly podName: string;
  readonly namespace: string;
  readonly statefulSet: string;
  readonly peerService: string;
  readonly clusterDomain: string;
  /**
   * RAFT3D_REPLICAS: members of the first configuration, when set (tests). The chart leaves
   * it unset: the first member to start reads spec.replicas and records the configuration in
   * the members ConfigMap, so the pod template never changes when the cluster scales.
   */
  readonly replicas: number | null;
  /** ConfigMap that records each member's current incarnation (src/k8s/member-registry.ts). */
  readonly membersConfigMap: string;
  /** Secret whose cluster-secret and admin-token keys the first member fills in (null: env only). */
  readonly secretName: string | null;
}

/** TLS from a mounted certificate (cert-manager's tls.crt, tls.key, ca.crt); paths, read at start. */
export interface TlsConfig {
  readonly cert: string;
  readonly key: string;
  /** CA the members verify each other against; null: the certificate itself (self-signed). */
  readonly ca: string | null;
  /** Serve the API (and expect the other members' APIs) over HTTPS. */
  readonly api: boolean;
  /** Serve and talk TLS on the peer port. */
  readonly peer: boolean;
}

export interface Config {
  readonly id: string;
  readonly api: HostPort;
  readonly peer: HostPort;
  readonly dataDir: string;
  /** Peer address (`host:port`) of every initial member, by id. */
  readonly initialCluster: ReadonlyMap<string, string>;
  /** API base URL (`http://host:port`) of every known member, by id. */
  readonly apiAddresses: ReadonlyMap<string, string>;
  readonly clusterSecret: string | null;
  /** Bearer token of the admin routes (null: open, development only; on Kubernetes: from the Secret). */
  readonly adminToken: string | null;
  /** What an empty data dir does without Kubernetes: bootstrap (`new`) or join as a new incarnation. */
  readonly initialClusterState: InitialClusterState;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Clock-rate difference between members that leader leases allow for; null: no leases. */
  readonly maxClockDrift: number | null;
  readonly snapshotEvery: number;
  readonly logLevel: string;
  readonly kubernetes: KubernetesConfig | null;
  readonly tls: TlsConfig | null;
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

const options = {
  id: { type: 'string' },
  api: { type: 'string' },
  peer: { type: 'string' },
  data: { type: 'string' },
  'initial-cluster': { type: 'string' },
  'api-addresses': { type: 'string' },
  'cluster-secret': { type: 'string' },
  'admin-token': { type: 'string' },
  'initial-cluster-state': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-api': { type: 'string' },
  'tls-peer': { type: 'string' },
  'tick-ms': { type: 'string' },
  'election-ticks': { type: 'string' },
  'heartbeat-ticks': { type: 'string' },
  'max-clock-drift': { type: 'string' },
  'snapshot-every': { type: 'string' },
  'log-level': { type: 'string' },
  k8s: { type: 'boolean' },
} as const;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function parseHostPort(value: string, setting: string): HostPort {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new ConfigError(`${setting}: expected host:port, got ${JSON.stringify(value)}`);
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Parses `id=value,id=value`; ids must be unique and non-empty. */
export function parseMemberList(value: string, setting: string): Map<string, string> {
  const members = new Map<string, string>();
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const id = part.slice(0, eq).trim();
    const address = part.slice(eq + 1).trim();
    if (eq <= 0 || address === '') {
      throw new ConfigError(`${setting}: expected id=address, got ${JSON.stringify(part)}`);
    }
    if (members.has(id)) throw new ConfigError(`${setting}: member ${id} is listed twice`);
    members.set(id, address);
  }
  return members;
}

function positiveInt(value: string | undefined, fallback: number, setting: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new ConfigError(`${setting}: expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function kubernetesConfig(env: NodeJS.ProcessEnv): KubernetesConfig {
  const podName = env['POD_NAME'];
  const namespace = env['POD_NAMESPACE'];
  if (!podName || !namespace) {
    throw new ConfigError('RAFT3D_K8S: POD_NAME and POD_NAMESPACE must come from the downward API');
  }
  const statefulSet = env['RAFT3D_STATEFULSET'] || 'raft3d';
  const replicas = env['RAFT3D_REPLICAS'];
  const k = {
    podName,
    namespace,
    statefulSet,
    peerService: env['RAFT3D_PEER_SERVICE'] || 'raft3d-peers',
    clusterDomain: env['RAFT3D_CLUSTER_DOMAIN'] || 'cluster.local',
    replicas: replicas ? positiveInt(replicas, 3, 'RAFT3D_REPLICAS') : null,
    membersConfigMap: env['RAFT3D_MEMBERS_CONFIGMAP'] || `${statefulSet}-members`,
    secretName: env['RAFT3D_SECRET_NAME'] || null,
  };
  ordinalOf(k, podName);
  return k;
}

/** The StatefulSet ordinal of a pod name `<sts>-<i>` (or of a member id whose base it is). */
export function ordinalOf(k: KubernetesConfig, podName: string): number {
  const prefix = `${k.statefulSet}-`;
  const ordinal = podName.startsWith(prefix) ? Number(podName.slice(prefix.length)) : NaN;
  if (!Number.isInteger(ordinal) || ordinal < 0) {
    throw new ConfigError(`POD_NAME ${JSON.stringify(podName)} is not a pod of StatefulSet ${k.statefulSet}`);
  }
  return ordinal;
}

/** Member `i` of a StatefulSet, as a stable DNS name (never an IP). */
export function statefulSetHost(k: KubernetesConfig, ordinal: number): string {
  return `${k.statefulSet}-${ordinal}.${k.peerService}.${k.namespace}.svc.${k.clusterDomain}`;
}

/** `off` turns leader leases off; otherwise a fraction in [0, 1) (default 0.1, see docs/api.md). */
function clockDrift(raw: string | undefined): number | null {
  if (raw === undefined || raw === '') return DEFAULT_NODE_TUNING.maxClockDrift;
  if (raw.toLowerCase() === 'off') return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value >= 1)
    throw new ConfigError(
      `RAFT3D_MAX_CLOCK_DRIFT: expected a fraction in [0, 1) or "off", got ${JSON.stringify(raw)}`,
    );
  return value;
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const pick = (flag: keyof typeof values, name: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : env[name];
  };

  const k8sFlag = values.k8s ?? ['1', 'true', 'yes'].includes((env['RAFT3D_K8S'] ?? '').toLowerCase());
  const kubernetes = k8sFlag ? kubernetesConfig(env) : null;

  const id = pick('id', 'RAFT3D_NODE_ID') ?? kubernetes?.podName ?? 'n1';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(id)) {
    throw new ConfigError(`RAFT3D_NODE_ID: ${JSON.stringify(id)} is not a valid member id`);
  }
  const api = parseHostPort(pick('api', 'RAFT3D_API_LISTEN') ?? '127.0.0.1:8080', 'RAFT3D_API_LISTEN');
  const tls = tlsConfig(pick);
  const scheme = tls?.api ? 'https' : 'http';
  const peer = parseHostPort(pick('peer', 'RAFT3D_PEER_LISTEN') ?? '127.0.0.1:9090', 'RAFT3D_PEER_LISTEN');

  let initialCluster: Map<string, string>;
  let apiAddresses: Map<string, string>;
  const clusterFlag = pick('initial-cluster', 'RAFT3D_INITIAL_CLUSTER');
  if (kubernetes && !clusterFlag) {
    initialCluster = new Map();
    apiAddresses = new Map();
    for (let i = 0; i < (kubernetes.replicas ?? 0); i++) {
      const host = statefulSetHost(kubernetes, i);
      initialCluster.set(`${kubernetes.statefulSet}-${i}`, `${host}:${peer.port}`);
      apiAddresses.set(`${kubernetes.statefulSet}-${i}`, `${scheme}://${host}:${api.port}`);
    }
  } else {
    initialCluster = clusterFlag
      ? parseMemberList(clusterFlag, 'RAFT3D_INITIAL_CLUSTER')
      : new Map([[id, `${hostForUrl(peer.host)}:${peer.port}`]]);
    for (const [member, address] of initialCluster)
      parseHostPort(address, `RAFT3D_INITIAL_CLUSTER (${member})`);
    apiAddresses = new Map([[id, `${scheme}://${hostForUrl(api.host)}:${api.port}`]]);
  }
  const apiFlag = pick('api-addresses', 'RAFT3D_API_ADDRESSES');
  if (apiFlag) {
    for (const [member, url] of parseMemberList(apiFlag, 'RAFT3D_API_ADDRESSES')) {
      if (!/^https?:\/\/[^/\s]+$/.test(url)) {
        throw new ConfigError(
          `RAFT3D_API_ADDRESSES: ${member} needs a base URL like http://host:port, got ${url}`,
        );
      }
      apiAddresses.set(member, url);
    }
  }
  const state = pick('initial-cluster-state', 'RAFT3D_INITIAL_CLUSTER_STATE') ?? 'new';
  if (state !== 'new' && state !== 'existing') {
    throw new ConfigError(
      `RAFT3D_INITIAL_CLUSTER_STATE: expected new or existing, got ${JSON.stringify(state)}`,
    );
  }

  // On Kubernetes a pod whose ordinal is past the initial replicas joins an existing cluster:
  // it starts with the initial configuration and waits for the leader to add it. Elsewhere a
  // member added later does the same with `existing`, reached where it listens.
  if (!initialCluster.has(id) && !kubernetes) {
    if (state === 'new')
      throw new ConfigError(
        `RAFT3D_INITIAL_CLUSTER must list this member (${id}), or, for a member added to a running cluster, ` +
          'set RAFT3D_INITIAL_CLUSTER_STATE=existing and keep RAFT3D_INITIAL_CLUSTER the first configuration',
      );
    if (WILDCARDS.includes(peer.host) || WILDCARDS.includes(api.host))
      throw new ConfigError(
        `${id} is not in RAFT3D_INITIAL_CLUSTER, so the others reach it where it listens: ` +
          'RAFT3D_PEER_LISTEN and RAFT3D_API_LISTEN must name an address, not a wildcard',
      );
  }
  if (kubernetes && !apiAddresses.has(id))
    apiAddresses.set(id, `${scheme}://${statefulSetHost(kubernetes, ordinalOf(kubernetes, id))}:${api.port}`);

  const logLevel = (pick('log-level', 'RAFT3D_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError(`RAFT3D_LOG_LEVEL: expected one of ${[...LOG_LEVELS].join(', ')}`);
  }
  const electionTicks = positiveInt(
    pick('election-ticks', 'RAFT3D_ELECTION_TICKS'),
    DEFAULT_NODE_TUNING.electionTicks,
    'RAFT3D_ELECTION_TICKS',
  );
  const heartbeatTicks = positiveInt(
    pick('heartbeat-ticks', 'RAFT3D_HEARTBEAT_TICKS'),
    DEFAULT_NODE_TUNING.heartbeatTicks,
    'RAFT3D_HEARTBEAT_TICKS',
  );
  if (heartbeatTicks >= electionTicks) {
    throw new ConfigError('RAFT3D_HEARTBEAT_TICKS must be smaller than RAFT3D_ELECTION_TICKS');
  }

  return {
    id,
    api,
    peer,
    dataDir: path.resolve(pick('data', 'RAFT3D_DATA_DIR') ?? path.join('data', id)),
    initialCluster,
    apiAddresses,
    clusterSecret: pick('cluster-secret', 'RAFT3D_CLUSTER_SECRET') || null,
    adminToken: pick('admin-token', 'RAFT3D_ADMIN_TOKEN') || null,
    initialClusterState: state,
    tickMs: positiveInt(pick('tick-ms', 'RAFT3D_TICK_MS'), DEFAULT_NODE_TUNING.tickMs, 'RAFT3D_TICK_MS'),
    electionTicks,
    heartbeatTicks,
    maxClockDrift: clockDrift(pick('max-clock-drift', 'RAFT3D_MAX_CLOCK_DRIFT')),
    snapshotEvery: positiveInt(
      pick('snapshot-every', 'RAFT3D_SNAPSHOT_EVERY'),
      DEFAULT_NODE_TUNING.snapshotEvery,
      'RAFT3D_SNAPSHOT_EVERY',
    ),
    logLevel,
    kubernetes,
    tls,
  };
}

function flag(value: string | undefined, fallback: boolean, setting: string): boolean {
  if (value === undefined || value === '') return fallback;
  if (['1', 'true', 'yes'].includes(value.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(value.toLowerCase())) return false;
  throw new ConfigError(`${setting}: expected true or false, got ${JSON.stringify(value)}`);
}

function tlsConfig(
  pick: (
    flag: 'tls-cert' | 'tls-key' | 'tls-ca' | 'tls-api' | 'tls-peer',
    name: string,
  ) => string | undefined,
): TlsConfig | null {
  const cert = pick('tls-cert', 'RAFT3D_TLS_CERT') || null;
  const key = pick('tls-key', 'RAFT3D_TLS_KEY') || null;
  if (cert === null && key === null) return null;
  if (cert === null || key === null)
    throw new ConfigError('RAFT3D_TLS_CERT and RAFT3D_TLS_KEY go together: set both or neither');
  return {
    cert,
    key,
    ca: pick('tls-ca', 'RAFT3D_TLS_CA') || null,
    api: flag(pick('tls-api', 'RAFT3D_TLS_API'), true, 'RAFT3D_TLS_API'),
    peer: flag(pick('tls-peer', 'RAFT3D_TLS_PEER'), true, 'RAFT3D_TLS_PEER'),
  };
}

/**
 * Where member `id` is reached: its peer address (`host:port`) and API base URL. A new
 * incarnation lives where its base did (the same pod, the same flags): the configured maps
 * first, then on Kubernetes the StatefulSet DNS name of the base's ordinal, then for this
 * member itself the address it listens on.
 */
export function memberAddress(config: Config, id: string): { peer: string | null; api: string | null } {
  const base = baseOf(id);
  const k = config.kubernetes;
  const ordinal =
    k && base.startsWith(`${k.statefulSet}-`) ? Number(base.slice(k.statefulSet.length + 1)) : NaN;
  const host = k && Number.isInteger(ordinal) && ordinal >= 0 ? statefulSetHost(k, ordinal) : null;
  // A member added after the first configuration is not in --initial-cluster (which lists
  // that configuration only): it is reached where it listens, unless that is a wildcard.
  const own = base === config.id && host === null;
  const listening = (at: HostPort): string | null =>
    own && !WILDCARDS.includes(at.host) ? `${at.host}:${at.port}` : null;
  const peer =
    config.initialCluster.get(base) ??
    (host === null ? listening(config.peer) : `${host}:${config.peer.port}`);
  const scheme = config.tls?.api ? 'https' : 'http';
  const ownApi = listening(config.api);
  const api =
    config.apiAddresses.get(base) ??
    (host === null
      ? ownApi === null
        ? null
        : `${scheme}://${ownApi}`
      : `${scheme}://${host}:${config.api.port}`);
  return { peer, api };
}
