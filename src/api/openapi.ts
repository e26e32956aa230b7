// The OpenAPI 3.1 description of this API, served at /api/v1/openapi.json. Its paths are
// the route table's (src/api/routes.ts): each route declares its operation beside its
// handler, with the helpers below. Request body schemas are generated from the zod schemas
// the routes validate with, so they cannot drift; test/api/openapi.test.ts validates every
// example body and checks real responses against the documented shapes.

import { z } from 'zod';
import { FILAMENT_TYPES, JOB_STATUSES } from '../fsm/index.js';
import type { ApiRoute } from './route-table.js';
import { openApiPath } from './route-table.js';
import {
  filamentInput,
  joinInput,
  lenientEnumSchema,
  printerInput,
  printJobInput,
  transferInput,
} from './validation.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

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
export const admin: JsonObject = { security: [{ adminToken: [] }] };
export const unauthorized = (): JsonObject =>
  problem('Missing or wrong admin token (WWW-Authenticate: Bearer)');

export const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: JsonObject, example?: Json): JsonObject => ({
  'application/json': example === undefined ? { schema } : { schema, example },
});
export const problem = (description: string): JsonObject => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

export const idParam: JsonObject = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
export const consistencyParam: JsonObject = {
  name: 'consistency',
  in: 'query',
  required: false,
  description:
    'linearizable (default: ReadIndex, also on followers), leader (answered by the leader), stale (local state of this node)',
  schema: { type: 'string', enum: ['linearizable', 'leader', 'stale'] },
};
export const statusFilter: JsonObject = {
  name: 'status',
  in: 'query',
  required: false,
  schema: lenientEnumSchema(JOB_STATUSES, `Only jobs in this status: ${JOB_STATUSES.join(', ')}`),
};
export const idempotencyHeader: JsonObject = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Replays the first result for the same key and request (header Idempotent-Replayed: true); another request with the key → 422',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

export const readErrors: JsonObject = {
  '400': problem('Invalid query parameter'),
  '503': problem('No leader or no quorum; retry after Retry-After seconds'),
  '504': problem('The read barrier timed out'),
};
export const writeErrors: JsonObject = {
  '400': problem('Invalid body (errors[] lists each field)'),
  '409': problem('A business rule refused the change (duplicate id, filament weight, status transition)'),
  '413': problem('Body larger than the limit'),
  '415': problem('Body is not application/json'),
  '422': problem('Idempotency-Key reused with a different request'),
  '503': problem('No leader or no quorum; retry after Retry-After seconds'),
  '504': problem('The write did not commit in time; its outcome is unknown'),
};

export function list(summary: string, item: string, extra: readonly JsonObject[] = []): JsonObject {
  return {
    summary,
    parameters: [consistencyParam, ...extra],
    responses: {
      '200': { description: 'OK', content: json({ type: 'array', items: ref(item) }) },
      ...readErrors,
    },
  };
}
export function one(summary: string, item: string): JsonObject {
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
export function create(summary: string, input: string, item: string, example: Json): JsonObject {
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

/** The OpenAPI paths object: each route's operation under its path and method. */
function pathsOf(routes: readonly ApiRoute[]): JsonObject {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = r.doc;
  return paths;
}

/** The whole document for the route table `routes`. */
export function openApiDocumentOf(routes: readonly ApiRoute[]): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Raft3D',
      version: '1.0.0',
      description:
        'System of record for a 3D-print shop, replicated with Raft. Writes are forwarded to the leader; errors are RFC 9457 problem+json.',
    },
    paths: pathsOf(routes),
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
            pod: {
              type: ['string', 'null'],
              description: 'The Kubernetes pod name (null outside Kubernetes)',
            },
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
              items: {
                type: 'object',
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}
