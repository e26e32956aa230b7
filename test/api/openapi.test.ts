// The OpenAPI document matches the app: every Express route is documented and every
// documented operation is routed (both ways, read from Express's router stack), every
// example body passes the zod schema the route validates with, and real responses carry
// exactly the documented fields.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { z } from 'zod';
import { appRoutes, OPENAPI_PATH } from '../../src/api/index.js';
import { EXAMPLES, openApiDocument } from '../../src/api/openapi.js';
import {
  filamentInput,
  joinInput,
  printerInput,
  printJobInput,
  transferInput,
} from '../../src/api/validation.js';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { get, post } from './client.js';

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

test('every route is documented and every documented operation is routed', (t) => {
  const app = cluster.members[0]!.app!;
  const routed = [...new Set(appRoutes(app).map((r) => `${r.method} ${r.path}`))].sort();
  t.true(routed.length >= 19, routed.join('\n'));
  t.deepEqual(routed, documented());
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
