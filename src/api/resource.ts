// The three routes every stored kind has: `POST <path>` (create, 201 with Location),
// `GET <path>` (list) and `GET <path>/:id` (one, 404 with the kind's own code). Printers,
// filaments and print jobs declare what differs; their extra routes stay in their files.

import type { Request } from 'express';
import type { z } from 'zod';
import type { ApiContext } from './context.js';
import { handleWrite, readRoute, route } from './context.js';
import type { ErrorCode } from './errors.js';
import type { JsonObject } from './openapi.js';
import { ApiError } from './problem.js';
import type { ApiRoute } from './route-table.js';
import type { ShopCommand, WriteMeta } from './shop.js';
import { parseBody, parseId } from './validation.js';

export interface ResourceSpec<S extends z.ZodType> {
  /** Collection path, e.g. `/api/v1/printers`. */
  readonly path: string;
  /** What one item is called in messages, e.g. `print job`. */
  readonly noun: string;
  /** Problem code when an id is unknown, e.g. `printer_not_found`. */
  readonly notFoundCode: ErrorCode;
  readonly input: S;
  /** Request checks beyond the schema (throw an ApiError). */
  readonly check?: (input: z.output<S>) => void;
  readonly command: (input: z.output<S>, meta: WriteMeta) => ShopCommand;
  readonly list: (ctx: ApiContext, req: Request) => unknown;
  /** The item, or undefined when there is none with this id. */
  readonly get: (ctx: ApiContext, id: string) => unknown;
  /** The OpenAPI operations of the three routes. */
  readonly docs: { readonly create: JsonObject; readonly list: JsonObject; readonly one: JsonObject };
}

/** The 404 for an unknown id of this kind (also for routes nested under an item). */
export function notFound(spec: Pick<ResourceSpec<z.ZodType>, 'noun' | 'notFoundCode'>, id: string): ApiError {
  return new ApiError(spec.notFoundCode, `no ${spec.noun} with id ${JSON.stringify(id)}`, { id });
}

/** The id of a created item, for its Location header. */
function idOf(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string')
    return encodeURIComponent(value.id);
  return '';
}

export function resourceRoutes<S extends z.ZodType>(spec: ResourceSpec<S>): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: spec.path,
      doc: spec.docs.create,
      handle: (ctx) => [
        route(async (req, res) => {
          const input = parseBody(spec.input, req.body);
          spec.check?.(input);
          const location = (item: unknown): string => `${spec.path}/${idOf(item)}`;
          await handleWrite(ctx, req, res, 201, input, (meta) => spec.command(input, meta), location);
        }),
      ],
    },
    {
      method: 'GET',
      path: spec.path,
      doc: spec.docs.list,
      handle: (ctx) => [readRoute(ctx, (req) => spec.list(ctx, req))],
    },
    {
      method: 'GET',
      path: `${spec.path}/:id`,
      doc: spec.docs.one,
      handle: (ctx) => [
        readRoute(ctx, (req) => {
          const id = parseId(req.params['id'], spec.noun);
          const item = spec.get(ctx, id);
          if (item === undefined) throw notFound(spec, id);
          return item;
        }),
      ],
    },
  ];
}
