// The error catalogue (src/api/errors.ts) is the one source of every code on the wire:
// docs/api.md's table is generated from it, every error below the API with a catalogued
// code keeps its status, and rule errors carry their details object whole.

import { readFileSync } from 'node:fs';
import test from 'ava';
import { PrintShop } from '../../src/fsm/index.js';
import type { ShopCommand } from '../../src/fsm/index.js';
import { PROBLEMS } from '../../src/api/errors.js';
import type { ErrorCode } from '../../src/api/errors.js';
import { ApiError, toProblem } from '../../src/api/problem.js';
import { ShopRuleError } from '../../src/api/shop.js';
import {
  NoLeaderError,
  NodeStoppedError,
  NoQuorumError,
  NotLeaderError,
  ProposalDroppedError,
  ProposalLostError,
  TimeoutError,
} from '../../src/node/index.js';
import type { NodeErrorCode } from '../../src/node/index.js';
import { API_DOC, documentedErrorTable, renderErrorTable } from '../../scripts/error-table.js';

test('docs/api.md lists every code of the catalogue, with its status', (t) => {
  const documented = documentedErrorTable(readFileSync(API_DOC, 'utf8'));
  t.not(documented, null, 'docs/api.md lost its error table markers');
  t.is(documented, renderErrorTable(), 'regenerate it: npx tsx scripts/error-table.ts --write');
  for (const code of ['unauthorized', 'admin_disabled', 'join_refused', 'internal'])
    t.regex(documented ?? '', new RegExp(`\`${code}\``));
});

test('an ApiError takes its status from the catalogue, and retryable codes get Retry-After', (t) => {
  for (const [code, spec] of Object.entries(PROBLEMS) as [ErrorCode, (typeof PROBLEMS)[ErrorCode]][]) {
    const problem = toProblem(new ApiError(code, 'x'));
    t.is(problem.status, spec.status, code);
    t.is(problem.body.code, code);
    t.is(problem.body.title, spec.title);
    t.is(problem.body.type, `urn:raft3d:problem:${code}`);
    t.is(problem.headers['Retry-After'], 'retry' in spec ? '1' : undefined, code);
  }
});

test('every driver error keeps its code and its catalogued status', (t) => {
  const errors: Record<NodeErrorCode, Error> = {
    not_leader: new NotLeaderError('n2', 'http://n2:8080'),
    no_leader: new NoLeaderError(),
    no_quorum: new NoQuorumError(),
    timeout: new TimeoutError('a write', 10),
    proposal_lost: new ProposalLostError('overwritten'),
    proposal_dropped: new ProposalDroppedError('transfer in progress'),
    node_stopped: new NodeStoppedError(),
  };
  for (const [code, error] of Object.entries(errors) as [NodeErrorCode, Error][]) {
    const problem = toProblem(error);
    t.is(problem.body.code, code);
    t.is(problem.status, PROBLEMS[code].status, code);
    t.is(problem.body.detail, error.message);
  }
  t.like(toProblem(errors.not_leader).body, { leader: 'n2', leader_api: 'http://n2:8080' });
  t.like(toProblem(new NotLeaderError(null)).body, { leader: null, leader_api: null });
});

test('an error whose code the catalogue does not know is a 500 that says nothing of it', (t) => {
  const problem = toProblem(Object.assign(new Error('secret internals'), { code: 'invariant' }));
  t.is(problem.status, 500);
  t.is(problem.body.code, 'internal');
  t.notRegex(problem.body.detail, /secret/);
});

test('a rule error carries its details object whole in the problem body', (t) => {
  const shop = new PrintShop();
  const at = 1_700_000_000_000;
  const apply = (command: ShopCommand): ShopRuleError => {
    const result = shop.apply(command);
    if (result.ok) throw new Error(`expected a refusal of ${command.type}`);
    return new ShopRuleError(result.error);
  };
  shop.apply({ type: 'printer.create', at, printer: { id: 'p', company: 'c', model: 'm' } });
  const filament = {
    id: 'f',
    type: 'PLA',
    color: 'red',
    total_weight_in_grams: 100,
    remaining_weight_in_grams: 100,
  } as const;
  shop.apply({ type: 'filament.create', at, filament });
  const job = { id: 'j', printer_id: 'p', filament_id: 'f', filepath: 'a.gcode' };
  const capacity = apply({ type: 'print_job.create', at, job: { ...job, print_weight_in_grams: 101 } });
  const problem = toProblem(capacity);
  t.is(problem.status, 409);
  const { type: _type, title: _title, status: _status, detail: _detail, code, ...rest } = problem.body;
  t.is(code, 'filament_capacity');
  t.deepEqual(rest, { id: 'f', available: 100, requested: 101 });
  t.deepEqual(capacity.details, rest);
  const missing = toProblem(apply({ type: 'print_job.status', at, id: 'ghost', status: 'Running' }));
  t.like(missing.body, { status: 404, code: 'print_job_not_found', id: 'ghost', kind: 'print_job' });
});

test('a code outside the catalogue does not compile', (t) => {
  // @ts-expect-error: 'route_not_fuond' is no ErrorCode; were ApiError to take any string, tsc would fail here.
  t.throws(() => new ApiError('route_not_fuond', 'x'));
});
