// The OpenAPI 3.1 description of this API, served at /api/v1/openapi.json. Request body
// schemas are generated from the zod schemas the routes validate with, so they cannot
// drift; the paths are checked against Express's own router stack by
// test/api/openapi.test.ts (both ways), which also validates every example body.

import { z } from 'zod';
import { FILAMENT_TYPES, JOB_STATUSES } from '../fsm/index.js';
import {
  filamentInput,
  joinInput,
  lenientEnumSchema,
  printerInput,
  printJobInput,
  TARGET_STATUSES,
  transferInput,
} from './validation.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
type JsonObject = { readonly [key: string]: Json };

function requestSchema(schema: z.ZodType): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, Json>;
  return rest;
}

/** Example request bodies (validated against the zod schemas by the sync test). */
export const EXAMPLES = {
  printer: { id: 'p1', company: 'Creality', model: 'Ender 3' },
  filament: {
    id: 'f1',
    type: 'PLA',
    color: 'Blue',
    total_weight_in_grams: 1000,
    remaining_weight_in_grams: 1000,
  },
  printJob: {
    id: 'j1',
    printer_id: 'p1',
    filament_id: 'f1',
    filepath: 'prints/sword/hilt.gcode',
    print_weight_in_grams: 100,
    status: 'Queued',
  },
  transfer: { to: 'n2' },
  join: { id: 'n2~k3f9a2', peer: '10.0.0.12:9090', api: 'http://10.0.0.12:8080' },
} as const;

/** Admin routes: `Authorization: Bearer <admin token>` (open when the node has none configured). */
const admin: JsonObject = { security: [{ adminToken: [] }] };
const unauthorized = (): JsonObject => problem('Missing or wrong admin token (WWW-Authenticate: Bearer)');

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonObject, example?: Json): JsonObject => ({
  'application/json': example === undefined ? { schema } : { schema, example },
});
const problem = (description: string): JsonObject => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const idParam: JsonObject = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const consistencyParam: JsonObject = {
  name: 'consistency',
  in: 'query',
  required: false,
  description:
    'linearizable (default: ReadIndex, also on followers), leader (answered by the leader), stale (local state of this node)',
  schema: { type: 'string', enum: ['linearizable', 'leader', 'stale'] },
};
const statusFilter: JsonObject = {
  name: 'status',
  in: 'query',
  required: false,
  schema: lenientEnumSchema(JOB_STATUSES, `Only jobs in this status: ${JOB_STATUSES.join(', ')}`),
};
const idempotencyHeader: JsonObject = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Replays the first result for the same key and request (header Idempotent-Replayed: true); another request with the key → 422',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

const readErrors: JsonObject = {
  '400': problem('Invalid query parameter'),
  '503': problem('No leader or no quorum; retry after Retry-After seconds'),
  '504': problem('The read barrier timed out'),
};
const writeErrors: JsonObject = {
  '400': problem('Invalid body (errors[] lists each field)'),
  '409': problem('A business rule refused the change (duplicate id, filament weight, status transition)'),
  '413': problem('Body larger than the limit'),
  '415': problem('Body is not application/json'),
  '422': problem('Idempotency-Key reused with a different request'),
  '503': problem('No leader or no quorum; retry after Retry-After seconds'),
  '504': problem('The write did not commit in time; its outcome is unknown'),
};

function list(summary: string, item: string, extra: readonly JsonObject[] = []): JsonObject {
  return {
    summary,
    parameters: [consistencyParam, ...extra],
    responses: {
      '200': { description: 'OK', content: json({ type: 'array', items: ref(item) }) },
      ...readErrors,
    },
  };
}
function one(summary: string, item: string): JsonObject {
  return {
    summary,
    parameters: [idParam, consistencyParam],
    responses: {
      '200': { description: 'OK', content: json(ref(item)) },
      '404': problem('Unknown id'),
      ...readErrors,
    },
  };
}
function create(summary: string, input: string, item: string, example: Json): JsonObject {
  return {
    summary,
    parameters: [idempotencyHeader],
    requestBody: { required: true, content: json(ref(input), example) },
    responses: {
      '201': { description: 'Created (or replayed)', content: json(ref(item)) },
      '404': problem('A referenced printer or filament does not exist'),
      ...writeErrors,
    },
  };
}

const timestamp: JsonObject = {
  type: 'string',
  format: 'date-time',
  description: 'Chosen by the node that proposed the change',
};

export const openApiDocument: JsonObject = {
  openapi: '3.1.0',
  info: {
    title: 'Raft3D',
    version: '1.0.0',
    description:
      'System of record for a 3D-print shop, replicated with Raft. Writes are forwarded to the leader; errors are RFC 9457 problem+json.',
  },
  paths: {
    '/api/v1/printers': {
      get: list('List printers', 'Printer'),
      post: create('Create a printer', 'PrinterInput', 'Printer', EXAMPLES.printer),
    },
    '/api/v1/printers/{id}': { get: one('One printer', 'Printer') },
    '/api/v1/printers/{id}/print_jobs': {
      get: {
        summary: "A printer's print jobs",
        parameters: [idParam, consistencyParam, statusFilter],
        responses: {
          '200': { description: 'OK', content: json({ type: 'array', items: ref('PrintJob') }) },
          '404': problem('Unknown printer'),
          ...readErrors,
        },
      },
    },
    '/api/v1/filaments': {
      get: list('List filaments', 'Filament'),
      post: create('Create a filament', 'FilamentInput', 'Filament', EXAMPLES.filament),
    },
    '/api/v1/filaments/{id}': { get: one('One filament', 'Filament') },
    '/api/v1/print_jobs': {
      get: list('List print jobs', 'PrintJob', [statusFilter]),
      post: create('Create a print job (always Queued)', 'PrintJobInput', 'PrintJob', EXAMPLES.printJob),
    },
    '/api/v1/print_jobs/{id}': { get: one('One print job', 'PrintJob') },
    '/api/v1/print_jobs/{id}/status': {
      post: {
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
    },
    '/api/v1/events': {
      get: {
        summary:
          'The event log (the changes made: refused commands and idempotent replays are not events), paged; or a Server-Sent Events stream with watch=true',
        parameters: [
          {
            name: 'after',
            in: 'query',
            required: false,
            description: 'A log index: events after it',
            schema: { type: 'integer', minimum: 0 },
          },
          {
            name: 'limit',
            in: 'query',
            required: false,
            description:
              'Events per page (fewer only at the end of the log, or after 10,000 log entries that are not events)',
            schema: { type: 'integer', minimum: 1, maximum: 1000 },
          },
          { name: 'watch', in: 'query', required: false, schema: { type: 'boolean' } },
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description:
              'A page of events, or an event stream (id: = log index). A reader that has not drained for 30 s gets a last `closed` event (id: and data.last_event_id say where to resume) and the connection is closed',
            content: { ...json(ref('EventsPage')), 'text/event-stream': { schema: { type: 'string' } } },
          },
          '400': problem('Invalid query parameter'),
          '410': problem(
            'The requested history was compacted into a snapshot (earliest_index says where it starts)',
          ),
        },
      },
    },
    '/api/v1/openapi.json': {
      get: {
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } },
      },
    },
    '/cluster/status': {
      get: {
        summary: "This node's view of the cluster",
        responses: { '200': { description: 'OK', content: json(ref('ClusterStatus')) } },
      },
    },
    '/cluster/transfer-leadership': {
      post: {
        ...admin,
        summary: 'Hand leadership to another voter (default: the most up-to-date one)',
        requestBody: { required: false, content: json(ref('TransferInput'), EXAMPLES.transfer) },
        responses: {
          '200': {
            description: 'Leadership moved',
            content: json({
              type: 'object',
              properties: { from: { type: 'string' }, to: { type: 'string' } },
            }),
          },
          '400': problem('Invalid target'),
          '401': unauthorized(),
          '503': problem('No leader'),
          '504': problem('The transfer did not finish in time'),
        },
      },
    },
    '/cluster/join': {
      post: {
        security: [{ adminToken: [] }, { clusterSecret: [] }],
        summary:
          'Admit a member, one step per call: add it as a learner, remove its earlier incarnations, promote it once caught up',
        requestBody: { required: true, content: json(ref('JoinInput'), EXAMPLES.join) },
        responses: {
          '200': {
            description: 'The member is a voter',
            content: json({
              type: 'object',
              properties: { state: { const: 'voter' }, id: { type: 'string' } },
            }),
          },
          '202': {
            description: 'A step was taken (or must wait); ask again',
            content: json({
              type: 'object',
              properties: { state: { const: 'joining' }, id: { type: 'string' }, step: { type: 'object' } },
            }),
          },
          '400': problem('Invalid request'),
          '401': problem('Missing or wrong cluster secret / admin token'),
          '403': problem('Refused: e.g. its StatefulSet ordinal is being scaled away'),
          '503': problem('No leader, or a membership change is still in progress'),
        },
      },
    },
    '/cluster/state-hash': {
      get: {
        summary: "sha-256 of this node's state-machine snapshot, and the applied index it reflects",
        responses: {
          '200': {
            description: 'OK',
            content: json({
              type: 'object',
              required: ['id', 'applied', 'hash'],
              properties: { id: { type: 'string' }, applied: { type: 'integer' }, hash: { type: 'string' } },
            }),
          },
        },
      },
    },
    '/cluster/backup': {
      get: {
        ...admin,
        summary:
          'Download the state-machine snapshot (after a read barrier at the requested consistency); restore with npm run restore',
        parameters: [consistencyParam],
        responses: {
          '200': {
            description: 'Snapshot bytes; X-Raft3D-Applied-Index and X-Raft3D-State-Hash headers',
            content: {
              'application/octet-stream': {
                schema: { type: 'string', contentMediaType: 'application/octet-stream' },
              },
            },
          },
          '401': unauthorized(),
          '503': problem('No leader'),
        },
      },
    },
    '/cluster/snapshot': {
      post: {
        ...admin,
        summary: 'Snapshot the state machine on this node and compact its log',
        responses: {
          '200': {
            description: 'Snapshot taken',
            content: json({
              type: 'object',
              properties: { id: { type: 'string' }, index: { type: 'integer' }, term: { type: 'integer' } },
            }),
          },
          '401': unauthorized(),
        },
      },
    },
    '/cluster/timeline': {
      get: {
        summary: "This node's role and leader changes since it started (wall-clock times, newest last)",
        responses: {
          '200': {
            description: 'OK',
            content: json({
              type: 'object',
              required: ['id', 'changes'],
              properties: {
                id: { type: 'string' },
                changes: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['at', 'kind', 'term', 'role', 'leader'],
                    properties: {
                      at: { type: 'string', format: 'date-time' },
                      kind: { type: 'string', enum: ['started', 'role'] },
                      term: { type: 'integer' },
                      role: { type: 'string' },
                      leader: { type: ['string', 'null'] },
                      previousRole: { type: 'string' },
                      previousLeader: { type: ['string', 'null'] },
                    },
                  },
                },
              },
            }),
          },
        },
      },
    },
    '/': {
      get: {
        summary: 'The web console (HTML; CSP, ETag, gzip)',
        responses: {
          '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
          '304': { description: 'Not modified' },
        },
      },
    },
    '/console/{file}': {
      get: {
        summary: "The console's script and stylesheet, named by content hash (cached for a year)",
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'The file' },
          '304': { description: 'Not modified' },
          '404': problem('No such file'),
        },
      },
    },
    '/healthz': {
      get: { summary: 'Liveness', responses: { '200': { description: 'The process answers' } } },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: a leader is known and this node has caught up',
        responses: { '200': { description: 'Ready' }, '503': problem('Not ready') },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (raft3d_*)',
        responses: {
          '200': {
            description: 'Text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      adminToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'The admin token (Kubernetes: Secret key admin-token)',
      },
      clusterSecret: { type: 'http', scheme: 'bearer', description: 'The cluster secret members share' },
    },
    schemas: {
      PrinterInput: requestSchema(printerInput),
      FilamentInput: requestSchema(filamentInput),
      PrintJobInput: requestSchema(printJobInput),
      TransferInput: requestSchema(transferInput),
      JoinInput: requestSchema(joinInput),
      Printer: {
        type: 'object',
        required: ['id', 'company', 'model', 'created_at'],
        properties: {
          id: { type: 'string' },
          company: { type: 'string' },
          model: { type: 'string' },
          created_at: timestamp,
        },
      },
      Filament: {
        type: 'object',
        required: [
          'id',
          'type',
          'color',
          'total_weight_in_grams',
          'remaining_weight_in_grams',
          'reserved_weight_in_grams',
          'available_weight_in_grams',
          'created_at',
          'updated_at',
        ],
        properties: {
          id: { type: 'string' },
          type: { type: 'string', enum: [...FILAMENT_TYPES] },
          color: { type: 'string' },
          total_weight_in_grams: { type: 'integer' },
          remaining_weight_in_grams: { type: 'integer' },
          reserved_weight_in_grams: { type: 'integer', description: 'Grams held by Queued/Running jobs' },
          available_weight_in_grams: { type: 'integer', description: 'remaining minus reserved' },
          created_at: timestamp,
          updated_at: timestamp,
        },
      },
      PrintJob: {
        type: 'object',
        required: [
          'id',
          'printer_id',
          'filament_id',
          'filepath',
          'print_weight_in_grams',
          'status',
          'created_at',
          'updated_at',
        ],
        properties: {
          id: { type: 'string' },
          printer_id: { type: 'string' },
          filament_id: { type: 'string' },
          filepath: { type: 'string' },
          print_weight_in_grams: { type: 'integer' },
          status: { type: 'string', enum: [...JOB_STATUSES] },
          created_at: timestamp,
          updated_at: timestamp,
        },
      },
      Event: {
        type: 'object',
        required: ['index', 'term', 'type', 'payload'],
        properties: {
          index: { type: 'integer' },
          term: { type: 'integer' },
          type: { type: 'string' },
          payload: {},
        },
      },
      EventsPage: {
        type: 'object',
        required: ['events', 'next_after', 'applied_index'],
        properties: {
          events: { type: 'array', items: ref('Event') },
          next_after: { type: 'integer' },
          applied_index: { type: 'integer' },
        },
      },
      ClusterStatus: {
        type: 'object',
        required: [
          'id',
          'role',
          'term',
          'leader',
          'commit',
          'applied',
          'peers',
          'config',
          'lastContactMs',
          'apiAddresses',
          'pod',
          'fsyncP99Ms',
        ],
        properties: {
          id: { type: 'string' },
          role: { type: 'string', enum: ['follower', 'pre-candidate', 'candidate', 'leader'] },
          term: { type: 'integer' },
          leader: { type: ['string', 'null'] },
          commit: { type: 'integer' },
          applied: { type: 'integer' },
          peers: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                match: { type: 'integer' },
                lag: { type: 'integer' },
                lastContactMs: {
                  type: ['integer', 'null'],
                  description: 'ms since the leader last heard from this peer',
                },
              },
            },
          },
          config: {
            type: 'object',
            properties: {
              voters: { type: 'array', items: { type: 'string' } },
              learners: { type: 'array', items: { type: 'string' } },
            },
          },
          lastContactMs: {
            type: ['integer', 'null'],
            description: 'On a follower: ms since it last heard from its leader',
          },
          apiAddresses: {
            type: 'object',
            additionalProperties: { type: 'string' },
            description: "Each member's API base URL, by id (what the console and the CLI follow)",
          },
          pod: { type: ['string', 'null'], description: 'The Kubernetes pod name (null outside Kubernetes)' },
          fsyncP99Ms: {
            type: ['number', 'null'],
            description: "p99 of this node's durable writes over the last 60 s, in ms",
          },
        },
      },
      Problem: {
        type: 'object',
        description: 'RFC 9457 problem details',
        required: ['type', 'title', 'status', 'detail', 'code'],
        properties: {
          type: { type: 'string' },
          code: { type: 'string', description: 'Stable machine-readable error code' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          instance: { type: 'string' },
          errors: {
            type: 'array',
            items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
  },
};
