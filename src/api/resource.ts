// The three routes every stored kind has: `POST <path>` (create, 201 with Location),
// `GET <path>` (list) and `GET <path>/:id` (one, 404 with the kind's own code). Printers,
// filaments and print jobs declare what differs; their extra routes stay in their files.

import type { Request, Router } from 'express';
import type { z } from 'zod';
import type { ApiContext } from './context.js';
import { handleWrite, readRoute, route } from './context.js';
import type { ErrorCode } from './errors.js';
import { ApiError } from './problem.js';
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
  readonly list: (req: Request) => unknown;
  /** The item, or undefined when there is none with this id. */
  readonly get: (id: string) => unknown;
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

export function resourceRoutes<S extends z.ZodType>(
  router: Router,
  ctx: ApiContext,
  spec: ResourceSpec<S>,
): void {
  router.post(
    spec.path,
    route(async (req, res) => {
      const input = parseBody(spec.input, req.body);
      spec.check?.(input);
      const location = (item: unknown): string => `${spec.path}/${idOf(item)}`;
      await handleWrite(ctx, req, res, 201, input, (meta) => spec.command(input, meta), location);
    }),
  );
  router.get(spec.path, readRoute(ctx, spec.list));
  router.get(
    `${spec.path}/:id`,
    readRoute(ctx, (req) => {
      const id = parseId(req.params['id'], spec.noun);
      const item = spec.get(id);
      if (item === undefined) throw notFound(spec, id);
      return item;
    }),
  );
}
