// /api/v1/print_jobs: create (always Queued), list (optionally `?status=`), one by id,
// and the status change `POST /api/v1/print_jobs/{id}/status?status=Running|Done|Canceled`.
// The transition rules and the filament weight checks run in the FSM, at commit time.

import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { handleWrite, readRoute, route } from './context.js';
import { ApiError } from './problem.js';
import { matchEnum, parseBody, parseId, parseStatusParam, printJobInput, queryString } from './validation.js';
import { createPrintJobCommand, getPrintJob, listPrintJobs, setStatusCommand } from './shop.js';
import { idOf } from './printers.js';

export const PRINT_JOBS = '/api/v1/print_jobs';

export function printJobRoutes(router: Router, ctx: ApiContext): void {
  router.post(
    PRINT_JOBS,
    route(async (req, res) => {
      const input = parseBody(printJobInput, req.body);
      if (input.status !== undefined && matchEnum(['Queued'], input.status) === null) {
        throw new ApiError(
          400,
          'status_not_allowed',
          `a print job always starts Queued; status ${JSON.stringify(input.status)} cannot be set on creation`,
        );
      }
      await handleWrite(
        ctx,
        req,
        res,
        201,
        input,
        (meta) => createPrintJobCommand(input, meta),
        (j) => `${PRINT_JOBS}/${idOf(j)}`,
      );
    }),
  );
  router.get(
    PRINT_JOBS,
    readRoute(ctx, (req) => {
      const raw = queryString(req.query as Record<string, unknown>, 'status');
      return listPrintJobs(ctx.node.fsm, raw === undefined ? undefined : parseStatusParam(raw));
    }),
  );
  router.get(
    `${PRINT_JOBS}/:id`,
    readRoute(ctx, (req) => {
      const id = parseId(req.params['id'], 'print job');
      const job = getPrintJob(ctx.node.fsm, id);
      if (!job)
        throw new ApiError(404, 'print_job_not_found', `no print job with id ${JSON.stringify(id)}`, { id });
      return job;
    }),
  );
  router.post(
    `${PRINT_JOBS}/:id/status`,
    route(async (req, res) => {
      const id = parseId(req.params['id'], 'print job');
      const status = parseStatusParam(queryString(req.query as Record<string, unknown>, 'status'));
      // A job is Queued only at creation: it can never move (back) to Queued.
      if (status === 'Queued')
        throw new ApiError(400, 'invalid_status', 'status must be Running, Done or Canceled');
      await handleWrite(ctx, req, res, 200, { status }, (meta) => setStatusCommand(id, status, meta));
    }),
  );
}
