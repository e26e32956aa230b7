// /api/v1/print_jobs: create (always Queued), list (optionally `?status=`), one by id,
// and the status change `POST /api/v1/print_jobs/{id}/status?status=Running|Done|Canceled`.
// The transition rules and the filament weight checks run in the FSM, at commit time.

import { handleWrite, route } from './context.js';
import {
  create,
  EXAMPLES,
  idempotencyHeader,
  idParam,
  json,
  list,
  one,
  problem,
  ref,
  statusFilter,
  writeErrors,
} from './openapi.js';
import { resourceRoutes } from './resource.js';
import type { ApiRoute } from './route-table.js';
import { ApiError } from './problem.js';
import {
  CREATE_STATUSES,
  lenientEnumSchema,
  matchEnum,
  parseId,
  parseStatusParam,
  printJobInput,
  queryString,
  TARGET_STATUSES,
} from './validation.js';
import { createPrintJobCommand, getPrintJob, listPrintJobs, setStatusCommand } from './shop.js';

const PRINT_JOBS = '/api/v1/print_jobs';

export const printJobRoutes: readonly ApiRoute[] = [
  ...resourceRoutes({
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
    list: (ctx, req) => {
      const raw = queryString(req.query as Record<string, unknown>, 'status');
      return listPrintJobs(ctx.node.fsm, raw === undefined ? undefined : parseStatusParam(raw));
    },
    get: (ctx, id) => getPrintJob(ctx.node.fsm, id),
    docs: {
      create: create('Create a print job (always Queued)', 'PrintJobInput', 'PrintJob', EXAMPLES.printJob),
      list: list('List print jobs', 'PrintJob', [statusFilter]),
      one: one('One print job', 'PrintJob'),
    },
  }),
  {
    method: 'POST',
    path: `${PRINT_JOBS}/:id/status`,
    doc: {
      summary: 'Change the status of a print job (Queued→Running→Done, Queued|Running→Canceled)',
      parameters: [
        idParam,
        {
          name: 'status',
          in: 'query',
          required: true,
          schema: lenientEnumSchema(
            TARGET_STATUSES,
            `${TARGET_STATUSES.join(', ')} (a job never moves back to Queued)`,
          ),
        },
        idempotencyHeader,
      ],
      responses: {
        '200': { description: 'The updated job', content: json(ref('PrintJob')) },
        '404': problem('Unknown print job'),
        ...writeErrors,
      },
    },
    handle: (ctx) => [
      route(async (req, res) => {
        const id = parseId(req.params['id'], 'print job');
        const status = parseStatusParam(queryString(req.query as Record<string, unknown>, 'status'));
        // A job is Queued only at creation: it can never move (back) to Queued.
        if (status === 'Queued')
          throw new ApiError('invalid_status', 'status must be Running, Done or Canceled');
        await handleWrite(ctx, req, res, 200, { status }, (meta) => setStatusCommand(id, status, meta));
      }),
    ],
  },
];
