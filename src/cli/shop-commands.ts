// The shop from a terminal: `printers|filaments|jobs list|get|add` and
// `job start|done|cancel ID`. What is typed goes to the API as it is (numbers as numbers);
// the API validates it exactly as it does for every other client and its message is shown.

import type { ClusterClient } from './client.js';
import { CliError, EXIT } from './client.js';
import type { Io } from './io.js';
import { table } from './table.js';

export type Flags = Readonly<Record<string, string | boolean | undefined>>;

interface Kind {
  readonly path: string;
  readonly noun: string;
  /** Flag → API field, for `add`. */
  readonly fields: Readonly<Record<string, string>>;
  /** Fields sent as numbers when they look like one. */
  readonly numeric: readonly string[];
  readonly columns: readonly string[];
  readonly row: (item: Record<string, unknown>) => string[];
}

const KINDS: Readonly<Record<string, Kind>> = {
  printers: {
    path: '/api/v1/printers',
    noun: 'printer',
    fields: { id: 'id', company: 'company', model: 'model' },
    numeric: [],
    columns: ['id', 'company', 'model'],
    row: (p) => [String(p['id']), String(p['company']), String(p['model'])],
  },
  filaments: {
    path: '/api/v1/filaments',
    noun: 'filament',
    fields: {
      id: 'id',
      type: 'type',
      color: 'color',
      total: 'total_weight_in_grams',
      remaining: 'remaining_weight_in_grams',
    },
    numeric: ['total_weight_in_grams', 'remaining_weight_in_grams'],
    columns: ['id', 'type', 'color', 'total g', 'remaining g', 'reserved g', 'available g'],
    row: (f) =>
      [
        'id',
        'type',
        'color',
        'total_weight_in_grams',
        'remaining_weight_in_grams',
        'reserved_weight_in_grams',
        'available_weight_in_grams',
      ].map((k) => String(f[k] ?? '')),
  },
  jobs: {
    path: '/api/v1/print_jobs',
    noun: 'print job',
    fields: {
      id: 'id',
      printer: 'printer_id',
      filament: 'filament_id',
      file: 'filepath',
      weight: 'print_weight_in_grams',
    },
    numeric: ['print_weight_in_grams'],
    columns: ['id', 'status', 'printer', 'filament', 'grams', 'file'],
    row: (j) =>
      ['id', 'status', 'printer_id', 'filament_id', 'print_weight_in_grams', 'filepath'].map((k) =>
        String(j[k] ?? ''),
      ),
  },
};

export const SHOP_KINDS = Object.keys(KINDS);

function show(io: Io, kind: Kind, items: readonly Record<string, unknown>[]): void {
  if (io.json) io.out(JSON.stringify(items.length === 1 ? items[0] : items, null, 2));
  else io.out(table(kind.columns, items.map(kind.row)));
}

export async function shopCommand(
  client: ClusterClient,
  io: Io,
  kindName: string,
  action: string | undefined,
  args: readonly string[],
  flags: Flags,
): Promise<number> {
  const kind = KINDS[kindName];
  if (!kind) throw new CliError(`unknown command ${kindName}`, EXIT.usage);
  switch (action) {
    case 'list': {
      const status = flags['status'];
      const query =
        typeof status === 'string' && kindName === 'jobs' ? `?status=${encodeURIComponent(status)}` : '';
      const items = await client.json<Record<string, unknown>[]>('GET', `${kind.path}${query}`);
      if (io.json) io.out(JSON.stringify(items, null, 2));
      else io.out(table(kind.columns, items.map(kind.row)));
      return EXIT.ok;
    }
    case 'get': {
      const id = args[0];
      if (!id) throw new CliError(`${kindName} get needs an id`, EXIT.usage);
      show(io, kind, [
        await client.json<Record<string, unknown>>('GET', `${kind.path}/${encodeURIComponent(id)}`),
      ]);
      return EXIT.ok;
    }
    case 'add': {
      const body: Record<string, unknown> = {};
      for (const [flag, field] of Object.entries(kind.fields)) {
        const value = flags[flag];
        if (typeof value !== 'string') continue;
        body[field] =
          kind.numeric.includes(field) && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
      }
      const created = await client.json<Record<string, unknown>>('POST', kind.path, {
        body,
        preferLeader: true,
      });
      if (io.json) io.out(JSON.stringify(created, null, 2));
      else io.out(`added ${kind.noun} ${String(created['id'])}`);
      return EXIT.ok;
    }
    default:
      throw new CliError(`${kindName} needs list, get ID or add (raft3d --help)`, EXIT.usage);
  }
}

const TARGET: Readonly<Record<string, string>> = { start: 'Running', done: 'Done', cancel: 'Canceled' };

export async function jobCommand(
  client: ClusterClient,
  io: Io,
  action: string | undefined,
  id: string | undefined,
): Promise<number> {
  const status = action === undefined ? undefined : TARGET[action];
  if (!status || !id) throw new CliError('usage: raft3d job start|done|cancel ID', EXIT.usage);
  const job = await client.json<Record<string, unknown>>(
    'POST',
    `/api/v1/print_jobs/${encodeURIComponent(id)}/status?status=${status}`,
    { preferLeader: true },
  );
  if (io.json) io.out(JSON.stringify(job, null, 2));
  else io.out(`job ${String(job['id'])} is now ${String(job['status'])}`);
  return EXIT.ok;
}
