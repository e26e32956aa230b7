// The web console on every node: `GET /` (the page) and `GET /console/<name>.<hash>.<ext>`
// (its script and stylesheet, src/api/console-assets.ts). The page may run only its own
// script (CSP without 'unsafe-inline') and talk only to this cluster's members; it changes
// state only through the same API routes, with the same validation, as any other client.
// The HTML is revalidated on every load (ETag); the hashed files are cached for a year.

import type { Request, Response, Router } from 'express';
import type { ApiContext } from './context.js';
import { route } from './context.js';
import { memberOrigins } from './cors.js';
import type { ConsoleAsset } from './console-assets.js';
import { loadConsole } from './console-assets.js';
import { ApiError } from './problem.js';

/** The console's Content-Security-Policy: its own files, and fetches to the cluster's members. */
export function consolePolicy(connect: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${connect.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function send(req: Request, res: Response, file: ConsoleAsset, cacheControl: string): void {
  res.setHeader('Content-Type', file.type);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('ETag', file.etag);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.vary('Accept-Encoding');
  if (req.headers['if-none-match'] === file.etag) {
    res.status(304).end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? file.gzip : file.body;
  if (gzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', body.length);
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}

async function assets(): ReturnType<typeof loadConsole> {
  try {
    return await loadConsole();
  } catch (error) {
    throw new ApiError(
      'console_unavailable',
      `the web console could not be loaded (${(error as Error).message}); run npm run build, or npm ci for esbuild`,
    );
  }
}

export function consoleRoutes(router: Router, ctx: ApiContext): void {
  router.get(
    '/',
    route(async (req, res) => {
      const loaded = await assets();
      res.setHeader('Content-Security-Policy', consolePolicy(memberOrigins(ctx.node)));
      send(req, res, loaded.index, 'no-cache');
    }),
  );
  router.get(
    '/console/:file',
    route(async (req, res) => {
      const file = (await assets()).files.get(String(req.params['file']));
      if (!file) throw new ApiError('not_found', 'no such console file (reload the page)');
      send(req, res, file, 'public, max-age=31536000, immutable');
    }),
  );
}
