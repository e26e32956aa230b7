// The OpenAPI document matches the app: the document's operations are the route table's,
// every route of the table answers on its path and method (and only those: anything else
// is a 405 whose Allow lists the table's methods), every example body passes the zod
// schema the route validates with, and real responses carry exactly the documented fields.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { z } from 'zod';
import { API_ROUTES, OPENAPI_PATH, openApiDocument } from '../../src/api/index.js';
import { EXAMPLES } from '../../src/api/openapi.js';
import {
  filamentInput,
  joinInput,
  matchEnum,
  printerInput,
  printJobInput,
  transferInput,
} from '../../src/api/validation.js';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { assertProblem, call, get, post } from './client.js';

let cluster: InProcessCluster;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 1 });
  await cluster.waitForLeader();
});
test.after.always(async () => {
  await cluster.stop();
});

type Doc = {
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content: Record<string, { schema: { $ref?: string }; example?: unknown }> } }
    >
  >;
  components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
};
const doc = openApiDocument as unknown as Doc;
const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

function documented(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item))
      if (HTTP_METHODS.has(method))
        out.push(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
  }
  return out.sort();
}

test('the document has one operation per route of the table', (t) => {
  const routed = [...new Set(API_ROUTES.map((r) => `${r.method} ${r.path}`))].sort();
  t.true(routed.length >= 19, routed.join('\n'));
  t.is(routed.length, API_ROUTES.length, 'a route is declared twice');
  t.deepEqual(routed, documented());
});

/** A concrete path for an Express path: every `:param` becomes `x`. */
const concrete = (path: string): string => path.replace(/:[A-Za-z_]+/g, 'x');

test('every route of the table is served on its path and method', async (t) => {
  const base = cluster.members[0]!.url;
  for (const r of API_ROUTES) {
    const answer = await call(base, r.method, concrete(r.path));
    t.false(
      answer.status === 404 && (answer.body as { code?: string } | undefined)?.code === 'route_not_found',
      `${r.method} ${r.path}: ${answer.text}`,
    );
    t.not(answer.status, 405, `${r.method} ${r.path}: ${answer.text}`);
  }
});

test('any other method on a path of the table is a 405 whose Allow lists the methods the table gives it', async (t) => {
  const base = cluster.members[0]!.url;
  const byPath = new Map<string, string[]>();
  for (const r of API_ROUTES) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.method]);
  for (const [path, methods] of byPath) {
    for (const method of ['DELETE', 'PUT', 'PATCH', ...['GET', 'POST'].filter((m) => !methods.includes(m))]) {
      const answer = await call(base, method, concrete(path));
      const problem = assertProblem(t, answer, 405, 'method_not_allowed');
      t.is(answer.headers.get('allow'), methods.join(', '), `${method} ${path}`);
      t.is((problem as unknown as { allow: string }).allow, methods.join(', '));
    }
  }
  // OPTIONS is Express's own answer, from the same routes.
  const options = await call(base, 'OPTIONS', '/api/v1/printers');
  t.is(options.status, 200);
  t.is(options.headers.get('allow'), 'GET, HEAD, POST');
  assertProblem(t, await call(base, 'DELETE', '/api/v1/spaceships'), 404, 'route_not_found');
});

test('the document is OpenAPI 3.1 and is served at /api/v1/openapi.json', async (t) => {
  const answer = await get(cluster.members[0]!.url, OPENAPI_PATH);
  t.is(answer.status, 200);
  t.regex(answer.headers.get('content-type') ?? '', /application\/json/);
  t.deepEqual(answer.body, JSON.parse(JSON.stringify(openApiDocument)));
  t.is((answer.body as { openapi: string }).openapi, '3.1.0');
});

const schemas: Record<string, z.ZodType> = {
  PrinterInput: printerInput,
  FilamentInput: filamentInput,
  PrintJobInput: printJobInput,
  TransferInput: transferInput,
  JoinInput: joinInput,
};

test('every example request body passes the zod schema of its route', (t) => {
  let checked = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const media = op.requestBody?.content['application/json'];
      if (!media || media.example === undefined) continue;
      const name = media.schema.$ref?.split('/').pop() ?? '';
      const schema = schemas[name];
      t.truthy(schema, `${method} ${path}: no zod schema for ${name}`);
      const result = schema!.safeParse(media.example);
      t.true(result.success, `${method} ${path}: ${JSON.stringify(result.error?.issues)}`);
      checked++;
    }
  }
  t.is(checked, 5);
  for (const [name, schema] of [
    ['printer', printerInput],
    ['filament', filamentInput],
    ['printJob', printJobInput],
    ['transfer', transferInput],
    ['join', joinInput],
  ] as const) {
    t.true(schema.safeParse(EXAMPLES[name]).success, name);
  }
  // The request schemas in the document refuse unknown fields, like zod does.
  for (const name of Object.keys(schemas))
    t.is(
      (doc.components.schemas[name] as { additionalProperties?: boolean }).additionalProperties,
      false,
      name,
    );
});

function assertDocumentedShape(t: ExecutionContext, schemaName: string, value: unknown): void {
  const schema = doc.components.schemas[schemaName]!;
  const keys = Object.keys(value as object).sort();
  t.deepEqual(keys, Object.keys(schema.properties ?? {}).sort(), `${schemaName} fields`);
  for (const required of schema.required ?? [])
    t.true(required in (value as object), `${schemaName}.${required}`);
}

test('real responses carry exactly the documented fields', async (t) => {
  const base = cluster.members[0]!.url;
  const printer = await post(base, '/api/v1/printers', EXAMPLES.printer);
  t.is(printer.status, 201, printer.text);
  assertDocumentedShape(t, 'Printer', printer.body);
  const filament = await post(base, '/api/v1/filaments', EXAMPLES.filament);
  t.is(filament.status, 201, filament.text);
  assertDocumentedShape(t, 'Filament', filament.body);
  const job = await post(base, '/api/v1/print_jobs', EXAMPLES.printJob);
  t.is(job.status, 201, job.text);
  assertDocumentedShape(t, 'PrintJob', job.body);
  const problem = await get(base, '/api/v1/printers/none');
  for (const required of doc.components.schemas['Problem']!.required ?? [])
    t.true(required in (problem.body as object), required);
  const status = await get(base, '/cluster/status');
  for (const required of doc.components.schemas['ClusterStatus']!.required ?? [])
    t.true(required in (status.body as object), required);
  const events = await get(base, '/api/v1/events');
  assertDocumentedShape(t, 'EventsPage', events.body);
  for (const e of (events.body as { events: unknown[] }).events) assertDocumentedShape(t, 'Event', e);
});

interface StringSchema {
  readonly type?: string;
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly anyOf?: readonly StringSchema[];
}

/** Whether `value` satisfies `schema`, for the part of JSON Schema string parameters use here. */
function schemaAccepts(schema: StringSchema, value: string): boolean {
  if (schema.type !== undefined && schema.type !== 'string') return false;
  if (schema.enum !== undefined && !schema.enum.includes(value)) return false;
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return false;
  if (schema.anyOf !== undefined && !schema.anyOf.some((branch) => schemaAccepts(branch, value)))
    return false;
  return true;
}

/** The values a schema lists (its own enum, or an enum among its anyOf branches). */
function listed(schema: StringSchema | undefined): readonly string[] | undefined {
  return schema?.enum ?? schema?.anyOf?.find((branch) => branch.enum !== undefined)?.enum;
}

/** Spellings of each value a lenient server may accept, and near misses it must refuse. */
function candidates(values: readonly string[]): string[] {
  const out = new Set<string>(['', ' ', '""', "''", 'nylon', 'PLA+', 'Paused', 'ＰＬＡ', 'Queued\u0000']);
  for (const v of values) {
    const lower = v.toLowerCase();
    const alternating = [...v].map((c, i) => (i % 2 ? c.toLowerCase() : c.toUpperCase())).join('');
    for (const s of [v, lower, v.toUpperCase(), alternating, `"${lower}"`, `'${v}'`, `  ${v}\t`, `" ${v} "`])
      out.add(s);
    for (const s of [`${v}x`, `x${v}`, `"${v}'`, `""${v}""`, v.slice(0, -1), `${v} ${v}`, `${v}"`, `'${v}`])
      out.add(s);
  }
  return [...out];
}

type Parameter = { name: string; in: string; schema: StringSchema };
function parameter(path: string, method: string, name: string): StringSchema {
  const op = (doc.paths[path] as Record<string, { parameters?: Parameter[] }>)[method];
  const found = op?.parameters?.find((p) => p.name === name && p.in === 'query');
  if (!found) throw new Error(`${method} ${path} documents no query parameter ${name}`);
  return found.schema;
}

test('the document lists the allowed filament types and job statuses, and the server accepts exactly what it says', async (t) => {
  const base = cluster.members[0]!.url;
  const schemas = doc.components.schemas as Record<string, { properties?: Record<string, StringSchema> }>;
  const filamentType = schemas['FilamentInput']!.properties!['type']!;
  const createStatus = schemas['PrintJobInput']!.properties!['status']!;
  const listStatus = parameter('/api/v1/print_jobs', 'get', 'status');
  const printerListStatus = parameter('/api/v1/printers/{id}/print_jobs', 'get', 'status');
  const changeStatus = parameter('/api/v1/print_jobs/{id}/status', 'post', 'status');
  t.deepEqual(listed(filamentType), ['PLA', 'PETG', 'ABS', 'TPU']);
  t.deepEqual(listed(createStatus), ['Queued']);
  t.deepEqual(listed(listStatus), ['Queued', 'Running', 'Done', 'Canceled']);
  t.deepEqual(listed(printerListStatus), ['Queued', 'Running', 'Done', 'Canceled']);
  t.deepEqual(listed(changeStatus), ['Running', 'Done', 'Canceled']);
  for (const schema of [filamentType, createStatus, listStatus, changeStatus])
    t.regex((schema as { description?: string }).description ?? '', /case-insensitive/);

  t.is((await post(base, '/api/v1/printers', { id: 'enum-p', company: 'C', model: 'M' })).status, 201);
  const spool = { id: 'enum-f', type: 'PLA', color: 'c', total_weight_in_grams: 10_000 };
  t.is((await post(base, '/api/v1/filaments', spool)).status, 201);
  const job = (id: string, status?: string): Record<string, unknown> => ({
    id,
    printer_id: 'enum-p',
    filament_id: 'enum-f',
    filepath: 'a.gcode',
    print_weight_in_grams: 1,
    ...(status === undefined ? {} : { status }),
  });
  t.is((await post(base, '/api/v1/print_jobs', job('enum-j'))).status, 201);

  let n = 0;
  for (const value of candidates(['PLA', 'PETG', 'ABS', 'TPU'])) {
    const answer = await post(base, '/api/v1/filaments', { ...spool, id: `enum-f${n++}`, type: value });
    t.is(answer.status, schemaAccepts(filamentType, value) ? 201 : 400, `type ${JSON.stringify(value)}`);
  }
  for (const value of candidates(['Queued'])) {
    const answer = await post(base, '/api/v1/print_jobs', job(`enum-j${n++}`, value));
    t.is(answer.status, schemaAccepts(createStatus, value) ? 201 : 400, `status ${JSON.stringify(value)}`);
  }
  for (const value of candidates(['Queued', 'Running', 'Done', 'Canceled'])) {
    const query = `status=${encodeURIComponent(value)}`;
    const expected = schemaAccepts(listStatus, value) ? 200 : 400;
    t.is((await get(base, `/api/v1/print_jobs?${query}`)).status, expected, `list ${JSON.stringify(value)}`);
    t.is(
      (await get(base, `/api/v1/printers/enum-p/print_jobs?${query}`)).status,
      schemaAccepts(printerListStatus, value) ? 200 : 400,
      `printer list ${JSON.stringify(value)}`,
    );
  }
  for (const value of candidates(['Queued', 'Running', 'Done', 'Canceled'])) {
    const answer = await post(base, `/api/v1/print_jobs/enum-j/status?status=${encodeURIComponent(value)}`);
    // An accepted status is judged by the transition rules (200 or 409), never refused as input.
    if (schemaAccepts(changeStatus, value)) t.true([200, 409].includes(answer.status), JSON.stringify(value));
    else t.is(answer.status, 400, `change to ${JSON.stringify(value)}: ${answer.text}`);
  }
});

test('a lenient enum value is matched in linear time, however many blanks surround it', (t) => {
  const started = performance.now();
  for (const value of [' '.repeat(100_000) + 'x', `"${' '.repeat(100_000)}x`, `pla${' '.repeat(100_000)}x`])
    t.is(matchEnum(['PLA', 'PETG', 'ABS', 'TPU'], value), null);
  t.true(performance.now() - started < 1_000);
});
