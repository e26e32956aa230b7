// Who may call the routes that change the cluster. Admin routes (leadership transfer,
// snapshots, backups, membership) need `Authorization: Bearer <admin token>`; the join route
// also takes the cluster secret, which members present when they ask to be admitted. On
// Kubernetes the admin token is required (the chart always provides one); elsewhere a node
// without one leaves the admin routes open and says so at start (development only).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError } from './problem.js';

export interface AccessOptions {
  /** Token for the admin routes; null = open (unless `requireAdminToken`). */
  readonly adminToken: string | null;
  /** The shared cluster secret: also admits members to /cluster/join. */
  readonly clusterSecret: string | null;
  /** Refuse admin routes outright when no admin token is configured (Kubernetes mode). */
  readonly requireAdminToken: boolean;
}

export const OPEN_ACCESS: AccessOptions = { adminToken: null, clusterSecret: null, requireAdminToken: false };

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Whether the request carries `Authorization: Bearer <one of tokens>` (constant-time per token). */
function presents(req: Request, tokens: readonly string[]): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return false;
  const got = digest(header);
  let ok = false;
  for (const token of tokens) ok = timingSafeEqual(got, digest(`Bearer ${token}`)) || ok;
  return ok;
}

function unauthorized(what: string, credential = 'an admin token'): ApiError {
  return new ApiError(
    'unauthorized',
    `${what} needs ${credential}: send "Authorization: Bearer <token>" (on Kubernetes: the admin-token key of the cluster Secret)`,
    {},
    { 'WWW-Authenticate': 'Bearer realm="raft3d"' },
  );
}

/** Guards an admin route. */
export function requireAdmin(access: AccessOptions, what: string): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = access.adminToken;
    if (token === null) {
      if (access.requireAdminToken)
        return next(
          new ApiError(
            'admin_disabled',
            `${what} is disabled: this node has no admin token (add an admin-token key to the cluster Secret)`,
          ),
        );
      return next();
    }
    next(presents(req, [token]) ? undefined : unauthorized(what));
  };
}

/** Guards /cluster/join: the cluster secret (a member asking for itself) or the admin token. */
export function requireMember(access: AccessOptions): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    // Without a cluster secret the peers are not authenticated either: nothing to protect here.
    if (access.clusterSecret === null) return next();
    const tokens = [access.clusterSecret, access.adminToken].filter((t): t is string => t !== null);
    next(
      presents(req, tokens)
        ? undefined
        : unauthorized('joining the cluster', 'the cluster secret or an admin token'),
    );
  };
}
