// The route table: every route this API serves, in the order Express matches them. The
// Express routes, the `Allow` header of a 405 (src/api/route-table.ts) and the OpenAPI
// document served at /api/v1/openapi.json are all derived from it.

import type { Request, Response } from 'express';
import { clusterRoutes } from './cluster.js';
import { consoleRoutes } from './console.js';
import { eventRoutes } from './events.js';
import { filamentRoutes } from './filaments.js';
import { healthRoutes } from './health.js';
import { membershipRoutes } from './membership.js';
import { json, OPENAPI_PATH, openApiDocumentOf } from './openapi.js';
import type { JsonObject } from './openapi.js';
import { printJobRoutes } from './print-jobs.js';
import { printerRoutes } from './printers.js';
import type { ApiRoute } from './route-table.js';
import { timelineRoutes } from './timeline.js';

const openApiRoute: ApiRoute = {
  method: 'GET',
  path: OPENAPI_PATH,
  doc: {
    summary: 'This document',
    responses: { '200': { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } },
  },
  handle: () => {
    const body = JSON.stringify(openApiDocument);
    return [
      (_req: Request, res: Response) => {
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(body);
      },
    ];
  },
};

export const API_ROUTES: readonly ApiRoute[] = [
  ...printerRoutes,
  ...filamentRoutes,
  ...printJobRoutes,
  ...eventRoutes,
  ...clusterRoutes,
  ...membershipRoutes,
  ...healthRoutes,
  ...timelineRoutes,
  ...consoleRoutes,
  openApiRoute,
];

/** The OpenAPI 3.1 document of API_ROUTES. */
export const openApiDocument: JsonObject = openApiDocumentOf(API_ROUTES);
