// /api/v1/filaments: create, list, one by id. Each filament also shows the weight its
// Queued/Running jobs reserve and what is still available.

import type { Router } from 'express';
import type { ApiContext } from './context.js';
import { resourceRoutes } from './resource.js';
import { filamentInput } from './validation.js';
import { createFilamentCommand, getFilament, listFilaments } from './shop.js';

export function filamentRoutes(router: Router, ctx: ApiContext): void {
  resourceRoutes(router, ctx, {
    path: '/api/v1/filaments',
    noun: 'filament',
    notFoundCode: 'filament_not_found',
    input: filamentInput,
    command: createFilamentCommand,
    list: () => listFilaments(ctx.node.fsm),
    get: (id) => getFilament(ctx.node.fsm, id),
  });
}
