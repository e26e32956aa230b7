// /api/v1/filaments: create (POST), list (GET) and one by id. Every filament view also
// shows the grams reserved by Queued/Running jobs and the grams still available.

import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { handleWrite, readRoute, route } from './context.js';
import { ApiError } from './problem.js';
import { filamentInput, parseBody, parseId } from './validation.js';
import { createFilamentCommand, getFilament, listFilaments } from './shop.js';
import { idOf } from './printers.js';

export const FILAMENTS = '/api/v1/filaments';

export function filamentRoutes(router: Router, ctx: ApiContext): void {
  router.post(
    FILAMENTS,
    route(async (req, res) => {
      const input = parseBody(filamentInput, req.body);
      await handleWrite(
        ctx,
        req,
        res,
        201,
        input,
        (meta) => createFilamentCommand(input, meta),
        (f) => `${FILAMENTS}/${idOf(f)}`,
      );
    }),
  );
  router.get(
    FILAMENTS,
    readRoute(ctx, () => listFilaments(ctx.node.fsm)),
  );
  router.get(
    `${FILAMENTS}/:id`,
    readRoute(ctx, (req) => {
      const id = parseId(req.params['id'], 'filament');
      const filament = getFilament(ctx.node.fsm, id);
      if (!filament)
        throw new ApiError(404, 'filament_not_found', `no filament with id ${JSON.stringify(id)}`, { id });
      return filament;
    }),
  );
}
