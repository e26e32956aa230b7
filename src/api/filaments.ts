// /api/v1/filaments: create, list, one by id. Each filament also shows the weight its
// Queued/Running jobs reserve and what is still available.

import { create, EXAMPLES, list, one } from './openapi.js';
import { resourceRoutes } from './resource.js';
import type { ApiRoute } from './route-table.js';
import { filamentInput } from './validation.js';
import { createFilamentCommand, getFilament, listFilaments } from './shop.js';

export const filamentRoutes: readonly ApiRoute[] = resourceRoutes({
  path: '/api/v1/filaments',
  noun: 'filament',
  notFoundCode: 'filament_not_found',
  input: filamentInput,
  command: createFilamentCommand,
  list: (ctx) => listFilaments(ctx.node.fsm),
  get: (ctx, id) => getFilament(ctx.node.fsm, id),
  docs: {
    create: create('Create a filament', 'FilamentInput', 'Filament', EXAMPLES.filament),
    list: list('List filaments', 'Filament'),
    one: one('One filament', 'Filament'),
  },
});
