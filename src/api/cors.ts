// Cross-origin access for the web console and nothing else. The console loaded from one
// member keeps working when that member dies by talking to the others, which are other
// origins (another port or host). Only the cluster's own members' API origins are allowed
// (the loopback names of a member's port count as that member); every other origin gets no
// CORS headers, so a web page elsewhere cannot drive the API from a visitor's browser.

import type { NextFunction, Request, Response } from 'express';
import type { ShopNode } from './shop.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const ALLOW_HEADERS = 'Content-Type, Idempotency-Key, Authorization, Last-Event-ID';
const EXPOSE_HEADERS = 'X-Raft3D-Leader, Retry-After, Location, Idempotent-Replayed';

/** The API origins (`http://host:port`) of every member this node knows, itself included. */
export function memberOrigins(node: ShopNode): string[] {
  const { voters, learners } = node.status().config;
  const out = new Set<string>();
  for (const id of [node.id, ...voters, ...learners]) {
    const url = node.apiAddress(id);
    if (url === null) continue;
    try {
      out.add(new URL(url).origin);
    } catch {
      // A malformed address is refused at start; nothing to allow here.
    }
  }
  return [...out];
}

/** Whether `origin` is one of the members' (a loopback alias of a loopback member counts). */
export function isMemberOrigin(node: ShopNode, origin: string): boolean {
  let asked: URL;
  try {
    asked = new URL(origin);
  } catch {
    return false;
  }
  return memberOrigins(node).some((allowed) => {
    const member = new URL(allowed);
    if (member.origin === asked.origin) return true;
    return (
      member.protocol === asked.protocol &&
      member.port === asked.port &&
      LOOPBACK.has(member.hostname) &&
      LOOPBACK.has(asked.hostname)
    );
  });
}

/** Adds CORS headers for member origins and answers their preflight requests. */
export function memberCors(node: ShopNode) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !isMemberOrigin(node, origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.vary('Origin');
    res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
      res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
