// The HTTP transport's options with their defaults and their validation in one place (as
// hashicorp/raft's DefaultConfig and ValidateConfig): HttpTransport and its PeerSenders
// read only what resolveTransportOptions() returns, never `options.x ?? default`.

import type { NodeId } from '../raft/index.js';
import type { PeerTls, TransportLogger } from './types.js';

export interface UnauthorizedRequest {
  readonly remote: string;
  /** 'secret': missing or wrong credentials (401); 'peer': an unknown sender id (403). */
  readonly reason: 'secret' | 'peer';
  readonly from?: string;
}

export interface HttpTransportOptions {
  readonly id: NodeId;
  readonly listen: { readonly host: string; readonly port: number };
  /** Peer addresses (`host:port`) by id; this node's own id is ignored if present. */
  readonly peers: ReadonlyMap<NodeId, string>;
  /** Shared cluster secret; null runs without authentication (development only). */
  readonly secret: string | null;
  /** Serve and talk TLS (certificate, key, CA the peers are verified against); default plain TCP. */
  readonly tls?: PeerTls | null;
  readonly logger?: TransportLogger;
  /** Called for every refused request (e.g. to count them in a metric). */
  readonly onUnauthorized?: (request: UnauthorizedRequest) => void;
  /** Messages queued per peer before the oldest are dropped (default 4096). */
  readonly maxQueue?: number;
  /** Soft size limit of one batch, the frame of one socket write on a message stream (default 4 MiB). */
  readonly maxBatchBytes?: number;
  /** Largest frame accepted on an incoming message stream (default 64 MiB). */
  readonly maxRequestBytes?: number;
  /** Largest snapshot accepted (default 1 GiB). */
  readonly maxSnapshotBytes?: number;
  /** Size of the pieces a snapshot is streamed in (default 1 MiB). */
  readonly snapshotChunkBytes?: number;
  /** First retry delay after a failure (default 10 ms), doubling up to backoffCapMs (default 1000 ms). */
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /**
   * How long a peer may take to answer before the attempt counts as failed (default 5000 ms):
   * the opening of a message stream (at most 2 s of it), a full socket draining, a snapshot
   * POST (at least 60 s).
   */
  readonly requestTimeoutMs?: number;
  /** A message stream whose frames stay unacknowledged this long is reopened (default 1000 ms). */
  readonly silenceMs?: number;
  /** How long a TCP connect to a peer may take (default 1000 ms). */
  readonly connectTimeoutMs?: number;
  /**
   * The known peer an unknown id runs as, or null (the default for every id). A new
   * incarnation `<base>~<suffix>` of a member runs where that member ran, before any
   * configuration this node has applied names it: its messages are accepted and messages to
   * it go to that member's address. A member that joins an existing cluster knows only the
   * first configuration, and its leader may itself be an incarnation.
   */
  readonly runsAs?: (id: NodeId) => NodeId | null;
}

/** The tunables' defaults. */
export const DEFAULT_TRANSPORT_OPTIONS = {
  maxQueue: 4096,
  maxBatchBytes: 4 * 1024 * 1024,
  maxRequestBytes: 64 * 1024 * 1024,
  maxSnapshotBytes: 1024 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  backoffBaseMs: 10,
  backoffCapMs: 1000,
  requestTimeoutMs: 5000,
  silenceMs: 1000,
  connectTimeoutMs: 1000,
} as const satisfies Partial<HttpTransportOptions>;

type Tunable = keyof typeof DEFAULT_TRANSPORT_OPTIONS;

/** Every option with its value decided: the tunables, TLS, and the CA peers are verified against. */
export interface ResolvedTransportOptions
  extends Omit<HttpTransportOptions, Tunable | 'tls'>, Readonly<Record<Tunable, number>> {
  readonly tls: PeerTls | null;
  /** The CA a peer's certificate is verified against (our own certificate when none is given); null without TLS. */
  readonly tlsCa: string | Buffer | null;
}

/** `options` with every default filled in; throws a RangeError naming an option that cannot work. */
export function resolveTransportOptions(options: HttpTransportOptions): ResolvedTransportOptions {
  const resolved: ResolvedTransportOptions = {
    ...DEFAULT_TRANSPORT_OPTIONS,
    ...options,
    tls: options.tls ?? null,
    tlsCa: options.tls ? (options.tls.ca ?? options.tls.cert) : null,
  };
  for (const name of Object.keys(DEFAULT_TRANSPORT_OPTIONS) as Tunable[]) {
    const value = resolved[name];
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`transport option ${name} must be a positive number, not ${value}`);
  }
  if (resolved.backoffBaseMs > resolved.backoffCapMs)
    throw new RangeError(
      `transport option backoffBaseMs (${resolved.backoffBaseMs}) must not exceed backoffCapMs (${resolved.backoffCapMs})`,
    );
  return resolved;
}

/**
 * The liveness settings for a cluster whose election timeout is `electionTimeoutMs`: a dead
 * stream is noticed within one election timeout, and after a heal the next connect attempt
 * starts within about one more, so that members that can reach each other again elect a
 * leader in a few election timeouts, not after TCP's retransmission back-off (up to 2 min).
 */
export function livenessTimings(
  electionTimeoutMs: number,
): Pick<HttpTransportOptions, 'silenceMs' | 'connectTimeoutMs' | 'backoffCapMs'> {
  const e = Math.max(100, electionTimeoutMs);
  return { silenceMs: e, connectTimeoutMs: e, backoffCapMs: Math.min(1000, e / 2) };
}
