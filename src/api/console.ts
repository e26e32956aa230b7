// The web console on every node: `GET /` (the page) and `GET /console/<name>.<hash>.<ext>`
// (its script and stylesheet, src/api/console-assets.ts). The page may run only its own
// script (CSP without 'unsafe-inline') and talk only to this cluster's members; it changes
// state only through the same API routes, with the same validation, like every other client.
// The HTML is revalidated on every load (ETag); the hashed files are cached for a year.

import type { Request, Response } from 'express';
import { route } from './context.js';
import { memberOrigins } from './cors.js';
import type { ConsoleAsset } from './console-assets.js';
import { loadConsole } from './console-assets.js';
import { ApiError } from './problem.js';
import { problem } from './openapi.js';
import type { ApiRoute } from './route-table.js';

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

export const consoleRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/',
    doc: {
      summary: 'The web console (HTML; CSP, ETag, gzip)',
      responses: {
        '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
        '304': { description: 'Not modified' },
      },
    },
    handle: (ctx) => [
      route(async (req, res) => {
        const loaded = await assets();
        res.setHeader('Content-Security-Policy', consolePolicy(memberOrigins(ctx.node)));
        send(req, res, loaded.index, 'no-cache');
      }),
    ],
  },
  {
    method: 'GET',
    path: '/console/:file',
    doc: {
      summary: "The console's script and stylesheet, named by content hash (cached for a year)",
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The file' },
        '304': { description: 'Not modified' },
        '404': problem('No such file'),
      },
    },
    handle: () => [
      route(async (req, res) => {
        const file = (await assets()).files.get(String(req.params['file']));
        if (!file) throw new ApiError('not_found', 'no such console file (reload the page)');
        send(req, res, file, 'public, max-age=31536000, immutable');
      }),
    ],
  },
];
