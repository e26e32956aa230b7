// The route table's shape and what is derived from it. Each route is declared once —
// method, path, OpenAPI operation (parameters, request body schema, responses) and the
// handlers it runs — and from the table come the Express routes, the `Allow` header of a
// 405, and the OpenAPI document's paths (src/api/routes.ts holds the table itself).
// A 405 is found by Express's own matcher: each path gets one last catch-all route.

import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { ApiContext } from './context.js';
import type { JsonObject } from './openapi.js';
import { ApiError } from './problem.js';

export type Method = 'GET' | 'POST';

export interface ApiRoute {
  readonly method: Method;
  /** Express syntax, e.g. `/api/v1/printers/:id`. */
  readonly path: string;
  /** The OpenAPI operation object: summary, parameters, request body, responses, security. */
  readonly doc: JsonObject;
  /** The guards and the handler, for one app. */
  readonly handle: (ctx: ApiContext) => readonly RequestHandler[];
}

/** Each path of the table with the methods it takes, in table order. */
function allowedMethods(routes: readonly ApiRoute[]): Map<string, Method[]> {
  const out = new Map<string, Method[]>();
  for (const r of routes) {
    const methods = out.get(r.path) ?? [];
    if (!methods.includes(r.method)) methods.push(r.method);
    out.set(r.path, methods);
  }
  return out;
}

/**
 * Registers every route, then a catch-all per path answering the methods it does not take
 * with 405 and `Allow`. OPTIONS passes through it: Express's router answers OPTIONS itself
 * with the methods of the routes it matched.
 */
export function mountRoutes(router: Router, routes: readonly ApiRoute[], ctx: ApiContext): void {
  for (const r of routes) {
    const handlers = r.handle(ctx);
    if (r.method === 'GET') router.get(r.path, ...handlers);
    else router.post(r.path, ...handlers);
  }
  for (const [path, methods] of allowedMethods(routes)) {
    const allow = methods.join(', ');
    router.all(path, (req: Request, _res: Response, next: NextFunction) => {
      if (req.method === 'OPTIONS') {
        next();
        return;
      }
      next(
        new ApiError(
          'method_not_allowed',
          `${req.method} is not allowed on ${req.path}`,
          { allow },
          { Allow: allow },
        ),
      );
    });
  }
}

/** `/api/v1/printers/:id` as OpenAPI writes it: `/api/v1/printers/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}
