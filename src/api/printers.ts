// /api/v1/printers: create, list, one by id, and one printer's jobs (optionally `?status=`).

import { readRoute } from './context.js';
import {
  consistencyParam,
  create,
  EXAMPLES,
  idParam,
  json,
  list,
  one,
  problem,
  readErrors,
  ref,
  statusFilter,
} from './openapi.js';
import { notFound, resourceRoutes } from './resource.js';
import type { ApiRoute } from './route-table.js';
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

export const printerRoutes: readonly ApiRoute[] = [
  ...resourceRoutes({
    ...printers,
    list: (ctx) => listPrinters(ctx.node.fsm),
    get: (ctx, id) => getPrinter(ctx.node.fsm, id),
    docs: {
      create: create('Create a printer', 'PrinterInput', 'Printer', EXAMPLES.printer),
      list: list('List printers', 'Printer'),
      one: one('One printer', 'Printer'),
    },
  }),
  {
    method: 'GET',
    path: `${PRINTERS}/:id/print_jobs`,
    doc: {
      summary: "A printer's print jobs",
      parameters: [idParam, consistencyParam, statusFilter],
      responses: {
        '200': { description: 'OK', content: json({ type: 'array', items: ref('PrintJob') }) },
        '404': problem('Unknown printer'),
        ...readErrors,
      },
    },
    handle: (ctx) => [
      readRoute(ctx, (req) => {
        const id = parseId(req.params['id'], printers.noun);
        const raw = queryString(req.query as Record<string, unknown>, 'status');
        const jobs = listPrinterJobs(ctx.node.fsm, id, raw === undefined ? undefined : parseStatusParam(raw));
        if (!jobs) throw notFound(printers, id);
        return jobs;
      }),
    ],
  },
];
