// Glue between the API and the print-shop FSM running inside a RaftNode: the node type,
// a starter that plugs the FSM and its codec into the driver, command builders (ids and
// timestamps chosen here, on the proposer, once), result unwrapping into typed errors,
// and the queries the read routes run against the local state machine.

import { describeCommand, PrintShop, printShopCodec } from '../fsm/index.js';
import type {
  FilamentView,
  Idempotency,
  JobStatus,
  PrinterView,
  PrintJobView,
  ShopCommand,
  ShopError,
  ShopResult,
  ShopValue,
} from '../fsm/index.js';
import { RaftNode } from '../node/index.js';
import type { NodeOptions } from '../node/index.js';
import { ApiError } from './problem.js';
import type { FilamentInput, PrinterInput, PrintJobInput } from './validation.js';

export type { ShopCommand, ShopResult } from '../fsm/index.js';

/** A RaftNode replicating the print shop. */
export type ShopNode = RaftNode<ShopCommand, ShopResult, PrintShop>;

/** NodeOptions without the FSM plumbing that startShopNode fills in. */
export type ShopNodeOptions = Omit<
  NodeOptions<ShopCommand, ShopResult, PrintShop>,
  'stateMachine' | 'codec' | 'describe' | 'changed'
>;

/** Whether a command changed the shop: a refusal or an idempotent replay changed nothing. */
export function changedShop(result: ShopResult): boolean {
  return result.ok && result.replayed !== true;
}

/** Starts a RaftNode running the print-shop FSM (what main.ts and the tests use). */
export function startShopNode(options: ShopNodeOptions): Promise<ShopNode> {
  return RaftNode.start<ShopCommand, ShopResult, PrintShop>({
    ...options,
    stateMachine: () => new PrintShop(),
    codec: printShopCodec,
    describe: describeCommand,
    changed: changedShop,
  });
}

/** What the proposer fixes before proposing: the clock, fresh ids, the idempotency key. */
export interface WriteMeta {
  /** Epoch milliseconds, integer. */
  readonly at: number;
  readonly newId: () => string;
  readonly idempotency: Idempotency | null;
}

function base(meta: WriteMeta): { at: number; idempotency?: Idempotency } {
  return meta.idempotency === null
    ? { at: Math.trunc(meta.at) }
    : { at: Math.trunc(meta.at), idempotency: meta.idempotency };
}

export function createPrinterCommand(input: PrinterInput, meta: WriteMeta): ShopCommand {
  return {
    type: 'printer.create',
    ...base(meta),
    printer: { id: input.id ?? meta.newId(), company: input.company, model: input.model },
  };
}

export function createFilamentCommand(input: FilamentInput, meta: WriteMeta): ShopCommand {
  return {
    type: 'filament.create',
    ...base(meta),
    filament: {
      id: input.id ?? meta.newId(),
      type: input.type,
      color: input.color,
      total_weight_in_grams: input.total_weight_in_grams,
      // A new spool is full unless the client says otherwise.
      remaining_weight_in_grams: input.remaining_weight_in_grams ?? input.total_weight_in_grams,
    },
  };
}

export function createPrintJobCommand(input: PrintJobInput, meta: WriteMeta): ShopCommand {
  return {
    type: 'print_job.create',
    ...base(meta),
    job: {
      id: input.id ?? meta.newId(),
      printer_id: input.printer_id,
      filament_id: input.filament_id,
      filepath: input.filepath,
      print_weight_in_grams: input.print_weight_in_grams,
    },
  };
}

export function setStatusCommand(id: string, status: JobStatus, meta: WriteMeta): ShopCommand {
  return { type: 'print_job.status', ...base(meta), id, status };
}

/**
 * A business rule refused the command at commit time: the FSM's code, message and details
 * object, which the problem body carries whole.
 */
export class ShopRuleError extends ApiError {
  constructor(error: ShopError) {
    super(error.code, error.message, error.details);
    this.name = 'ShopRuleError';
  }
}

/** The value of a successful result (and whether it is an idempotent replay); throws ShopRuleError otherwise. */
export function unwrapResult(result: ShopResult): { value: ShopValue; replayed: boolean } {
  if (!result.ok) throw new ShopRuleError(result.error);
  return { value: result.value, replayed: result.replayed === true };
}

// ---- queries (run after the read's consistency barrier) -------------------------------

export function listPrinters(fsm: PrintShop): PrinterView[] {
  return fsm.listPrinters();
}
export function getPrinter(fsm: PrintShop, id: string): PrinterView | undefined {
  return fsm.getPrinter(id);
}
export function listPrinterJobs(
  fsm: PrintShop,
  printerId: string,
  status?: JobStatus,
): PrintJobView[] | undefined {
  return fsm.listPrinterJobs(printerId, status);
}
export function listFilaments(fsm: PrintShop): FilamentView[] {
  return fsm.listFilaments();
}
export function getFilament(fsm: PrintShop, id: string): FilamentView | undefined {
  return fsm.getFilament(id);
}
export function listPrintJobs(fsm: PrintShop, status?: JobStatus): PrintJobView[] {
  return fsm.listPrintJobs(status);
}
export function getPrintJob(fsm: PrintShop, id: string): PrintJobView | undefined {
  return fsm.getPrintJob(id);
}
