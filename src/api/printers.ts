// /api/v1/printers: create, list, one by id, and one printer's jobs (optionally `?status=`).

import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { readRoute } from './context.js';
import { notFound, resourceRoutes } from './resource.js';
import { parseId, parseStatusParam, printerInput, queryString } from './validation.js';
import { createPrinterCommand, getPrinter, listPrinterJobs, listPrinters } from './shop.js';

const PRINTERS = '/api/v1/printers';

const printers = {
  path: PRINTERS,
  noun: 'printer',
  notFoundCode: 'printer_not_found',
  input: printerInput,
  command: createPrinterCommand,
} as const;

export function printerRoutes(router: Router, ctx: ApiContext): void {
  resourceRoutes(router, ctx, {
    ...printers,
    list: () => listPrinters(ctx.node.fsm),
    get: (id) => getPrinter(ctx.node.fsm, id),
  });
  router.get(
    `${PRINTERS}/:id/print_jobs`,
    readRoute(ctx, (req) => {
      const id = parseId(req.params['id'], printers.noun);
      const raw = queryString(req.query as Record<string, unknown>, 'status');
      const jobs = listPrinterJobs(ctx.node.fsm, id, raw === undefined ? undefined : parseStatusParam(raw));
      if (!jobs) throw notFound(printers, id);
      return jobs;
    }),
  );
}
