// /api/v1/printers: create (POST), list (GET), one by id, and one printer's jobs (optionally `?status=`).

import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { handleWrite, readRoute, route } from './context.js';
import { ApiError } from './problem.js';
import { parseBody, parseId, parseStatusParam, printerInput, queryString } from './validation.js';
import { createPrinterCommand, getPrinter, listPrinterJobs, listPrinters } from './shop.js';

export const PRINTERS = '/api/v1/printers';

export function printerRoutes(router: Router, ctx: ApiContext): void {
  router.post(
    PRINTERS,
    route(async (req, res) => {
      const input = parseBody(printerInput, req.body);
      await handleWrite(
        ctx,
        req,
        res,
        201,
        input,
        (meta) => createPrinterCommand(input, meta),
        (p) => `${PRINTERS}/${idOf(p)}`,
      );
    }),
  );
  router.get(
    PRINTERS,
    readRoute(ctx, () => listPrinters(ctx.node.fsm)),
  );
  router.get(
    `${PRINTERS}/:id`,
    readRoute(ctx, (req) => {
      const id = parseId(req.params['id'], 'printer');
      const printer = getPrinter(ctx.node.fsm, id);
      if (!printer)
        throw new ApiError(404, 'printer_not_found', `no printer with id ${JSON.stringify(id)}`, { id });
      return printer;
    }),
  );
  router.get(
    `${PRINTERS}/:id/print_jobs`,
    readRoute(ctx, (req) => {
      const id = parseId(req.params['id'], 'printer');
      const raw = queryString(req.query as Record<string, unknown>, 'status');
      const jobs = listPrinterJobs(ctx.node.fsm, id, raw === undefined ? undefined : parseStatusParam(raw));
      if (!jobs)
        throw new ApiError(404, 'printer_not_found', `no printer with id ${JSON.stringify(id)}`, { id });
      return jobs;
    }),
  );
}

/** The id of a created resource, for its Location header. */
export function idOf(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string')
    return encodeURIComponent(value.id);
  return '';
}
