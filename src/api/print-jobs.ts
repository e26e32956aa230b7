// /api/v1/print_jobs: create (always Queued), list (optionally `?status=`), one by id,
// and the status change `POST /api/v1/print_jobs/{id}/status?status=Running|Done|Canceled`.
// The transition rules and the filament weight checks run in the FSM, at commit time.

import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { handleWrite, route } from './context.js';
import { resourceRoutes } from './resource.js';
import { ApiError } from './problem.js';
import {
  CREATE_STATUSES,
  matchEnum,
  parseId,
  parseStatusParam,
  printJobInput,
  queryString,
} from './validation.js';
import { createPrintJobCommand, getPrintJob, listPrintJobs, setStatusCommand } from './shop.js';

const PRINT_JOBS = '/api/v1/print_jobs';

export function printJobRoutes(router: Router, ctx: ApiContext): void {
  resourceRoutes(router, ctx, {
    path: PRINT_JOBS,
    noun: 'print job',
    notFoundCode: 'print_job_not_found',
    input: printJobInput,
    check: (input) => {
      if (input.status !== undefined && matchEnum(CREATE_STATUSES, input.status) === null) {
        throw new ApiError(
          'status_not_allowed',
          `a print job always starts Queued; status ${JSON.stringify(input.status)} cannot be set on creation`,
        );
      }
    },
    command: createPrintJobCommand,
    list: (req) => {
      const raw = queryString(req.query as Record<string, unknown>, 'status');
      return listPrintJobs(ctx.node.fsm, raw === undefined ? undefined : parseStatusParam(raw));
    },
    get: (id) => getPrintJob(ctx.node.fsm, id),
  });
  router.post(
    `${PRINT_JOBS}/:id/status`,
    route(async (req, res) => {
      const id = parseId(req.params['id'], 'print job');
      const status = parseStatusParam(queryString(req.query as Record<string, unknown>, 'status'));
      // A job is Queued only at creation: it can never move (back) to Queued.
      if (status === 'Queued')
        throw new ApiError('invalid_status', 'status must be Running, Done or Canceled');
      await handleWrite(ctx, req, res, 200, { status }, (meta) => setStatusCommand(id, status, meta));
    }),
  );
}
