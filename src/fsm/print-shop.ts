// The print shop as a Raft state machine (hashicorp/raft's FSM shape): `apply` runs one
// committed command and returns its result or a typed refusal; `snapshot`/`restore`
// move the whole state (idempotency table included) as versioned, canonical bytes.
// Contract: deterministic — the same commands in the same order give the same results
// and the same snapshot bytes on every replica; a refused command changes nothing.

import { duplicateId, failure, invariant, notFound } from './errors.js';
import { DEFAULT_IDEMPOTENCY_LIMITS, IdempotencyTable } from './idempotency.js';
import type { IdempotencyLimits } from './idempotency.js';
import { capacityProblem, holdsReservation, moveJob, reserve, transitionProblem } from './print-jobs.js';
import type { FilamentRecord, JobRecord, PrinterRecord } from './records.js';
import { filamentView, printerView, printJobView } from './records.js';
import { SnapshotFormatError, decodeSnapshot, encodeSnapshot, encodeSnapshotSlices } from './snapshot.js';
import type { ShopData } from './snapshot.js';
import type {
  CreateFilamentCommand,
  CreatePrinterCommand,
  CreatePrintJobCommand,
  FilamentView,
  JobStatus,
  PrinterView,
  PrintJobView,
  SetJobStatusCommand,
  ShopCommand,
  ShopResult,
} from './types.js';
import { commandProblem } from './validate.js';

export interface PrintShopOptions {
  readonly idempotency?: Partial<IdempotencyLimits>;
}

/** Where a command sits in the log (unused by the rules; part of the StateMachine shape). */
export interface ApplyMeta {
  readonly index: number;
  readonly term: number;
}

/** Object counts, for metrics and status pages. */
export interface ShopCounts {
  readonly printers: number;
  readonly filaments: number;
  readonly print_jobs: number;
  readonly idempotency_keys: number;
}

export class PrintShop {
  // Maps keep insertion order: lists come out in creation order, identically everywhere.
  private printers = new Map<string, PrinterRecord>();
  private filaments = new Map<string, FilamentRecord>();
  private jobs = new Map<string, JobRecord>();
  /** Job ids per printer, in creation order. */
  private jobsByPrinter = new Map<string, string[]>();
  private readonly idempotency: IdempotencyTable;

  constructor(options: PrintShopOptions = {}) {
    this.idempotency = new IdempotencyTable({ ...DEFAULT_IDEMPOTENCY_LIMITS, ...options.idempotency });
  }

  // --- writes ----------------------------------------------------------------------------

  apply(command: ShopCommand, _meta?: ApplyMeta): ShopResult {
    const problem = commandProblem(command);
    if (problem !== null) return failure('invalid_command', problem, {});
    const idem = command.idempotency ?? null;
    if (idem !== null) {
      const prior = this.idempotency.lookup(idem.key, command.at);
      if (prior !== undefined) {
        if (prior.fingerprint !== idem.fingerprint) {
          return failure(
            'idempotency_key_reused',
            `idempotency key ${JSON.stringify(idem.key)} was already used for a different request`,
            {},
          );
        }
        return { ok: true, value: prior.value, replayed: true };
      }
    }
    const result = this.execute(command);
    if (result.ok && idem !== null)
      this.idempotency.record({
        key: idem.key,
        fingerprint: idem.fingerprint,
        at: command.at,
        value: result.value,
      });
    return result;
  }

  private execute(command: ShopCommand): ShopResult {
    switch (command.type) {
      case 'printer.create':
        return this.createPrinter(command);
      case 'filament.create':
        return this.createFilament(command);
      case 'print_job.create':
        return this.createPrintJob(command);
      case 'print_job.status':
        return this.setJobStatus(command);
    }
  }

  private createPrinter({ printer, at }: CreatePrinterCommand): ShopResult<PrinterView> {
    if (this.printers.has(printer.id)) return duplicateId('printer', printer.id);
    const record: PrinterRecord = {
      id: printer.id,
      company: printer.company,
      model: printer.model,
      createdAt: at,
    };
    this.printers.set(record.id, record);
    return { ok: true, value: printerView(record) };
  }

  private createFilament({ filament, at }: CreateFilamentCommand): ShopResult<FilamentView> {
    if (this.filaments.has(filament.id)) return duplicateId('filament', filament.id);
    if (filament.remaining_weight_in_grams > filament.total_weight_in_grams) {
      return failure(
        'invalid_filament',
        `remaining_weight_in_grams ${filament.remaining_weight_in_grams} exceeds total_weight_in_grams ${filament.total_weight_in_grams}`,
        { id: filament.id },
      );
    }
    const record: FilamentRecord = {
      id: filament.id,
      type: filament.type,
      color: filament.color,
      total: filament.total_weight_in_grams,
      remaining: filament.remaining_weight_in_grams,
      reserved: 0,
      createdAt: at,
      updatedAt: at,
    };
    this.filaments.set(record.id, record);
    return { ok: true, value: filamentView(record) };
  }

  private createPrintJob({ job, at }: CreatePrintJobCommand): ShopResult<PrintJobView> {
    if (this.jobs.has(job.id)) return duplicateId('print_job', job.id);
    if (!this.printers.has(job.printer_id)) return notFound('printer', job.printer_id);
    const filament = this.filaments.get(job.filament_id);
    if (filament === undefined) return notFound('filament', job.filament_id);
    const tooHeavy = capacityProblem(filament, job.print_weight_in_grams);
    if (tooHeavy !== null) return tooHeavy;
    const record: JobRecord = {
      id: job.id,
      printerId: job.printer_id,
      filamentId: job.filament_id,
      filepath: job.filepath,
      weight: job.print_weight_in_grams,
      status: 'Queued',
      createdAt: at,
      updatedAt: at,
    };
    this.filaments.set(filament.id, reserve(filament, record.weight, at));
    this.jobs.set(record.id, record);
    this.jobIdsOf(record.printerId).push(record.id);
    return { ok: true, value: printJobView(record) };
  }

  private setJobStatus({ id, status, at }: SetJobStatusCommand): ShopResult<PrintJobView> {
    const job = this.jobs.get(id);
    if (job === undefined) return notFound('print_job', id);
    const illegal = transitionProblem(job, status);
    if (illegal !== null) return illegal;
    const moved = moveJob(job, this.filamentOf(job), status, at);
    // Map.set keeps a key's place, so list order (creation order) is unchanged.
    this.jobs.set(id, moved.job);
    this.filaments.set(moved.filament.id, moved.filament);
    return { ok: true, value: printJobView(moved.job) };
  }

  private filamentOf(job: JobRecord): FilamentRecord {
    const filament = this.filaments.get(job.filamentId);
    invariant(filament !== undefined, () => `job ${job.id} points at missing filament ${job.filamentId}`);
    return filament;
  }

  private jobIdsOf(printerId: string): string[] {
    let ids = this.jobsByPrinter.get(printerId);
    if (ids === undefined) {
      ids = [];
      this.jobsByPrinter.set(printerId, ids);
    }
    return ids;
  }

  // --- reads -----------------------------------------------------------------------------

  listPrinters(): PrinterView[] {
    return [...this.printers.values()].map(printerView);
  }

  getPrinter(id: string): PrinterView | undefined {
    const p = this.printers.get(id);
    return p === undefined ? undefined : printerView(p);
  }

  listFilaments(): FilamentView[] {
    return [...this.filaments.values()].map(filamentView);
  }

  getFilament(id: string): FilamentView | undefined {
    const f = this.filaments.get(id);
    return f === undefined ? undefined : filamentView(f);
  }

  /** All jobs in creation order, or only those in `status`. */
  listPrintJobs(status?: JobStatus): PrintJobView[] {
    const out: PrintJobView[] = [];
    for (const job of this.jobs.values())
      if (status === undefined || job.status === status) out.push(printJobView(job));
    return out;
  }

  getPrintJob(id: string): PrintJobView | undefined {
    const j = this.jobs.get(id);
    return j === undefined ? undefined : printJobView(j);
  }

  /** A printer's jobs in creation order; undefined when there is no such printer. */
  listPrinterJobs(printerId: string, status?: JobStatus): PrintJobView[] | undefined {
    if (!this.printers.has(printerId)) return undefined;
    const out: PrintJobView[] = [];
    for (const id of this.jobsByPrinter.get(printerId) ?? []) {
      const job = this.jobs.get(id);
      invariant(job !== undefined, () => `printer ${printerId} lists missing job ${id}`);
      if (status === undefined || job.status === status) out.push(printJobView(job));
    }
    return out;
  }

  counts(): ShopCounts {
    return {
      printers: this.printers.size,
      filaments: this.filaments.size,
      print_jobs: this.jobs.size,
      idempotency_keys: this.idempotency.size,
    };
  }

  // --- snapshots -------------------------------------------------------------------------

  /** Canonical bytes: equal states give equal bytes (hash them to compare replicas). */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.capture());
  }

  /**
   * The state as of now, to be encoded a slice at a time (the bytes equal snapshot()'s).
   * Capturing copies only the lists of record references (records are immutable), so the
   * node can go on applying commands while the snapshot is encoded.
   */
  captureSnapshot(): Generator<void, Uint8Array, void> {
    return encodeSnapshotSlices(this.capture());
  }

  private capture(): ShopData {
    return {
      printers: [...this.printers.values()],
      filaments: [...this.filaments.values()],
      jobs: [...this.jobs.values()],
      idempotency: this.idempotency.list(),
    };
  }

  /** Replaces the whole state with a snapshot's; throws (changing nothing) on a corrupt one. */
  restore(bytes: Uint8Array): void {
    const data = decodeSnapshot(bytes);
    const next = rebuild(data);
    this.printers = next.printers;
    this.filaments = next.filaments;
    this.jobs = next.jobs;
    this.jobsByPrinter = next.jobsByPrinter;
    this.idempotency.load(data.idempotency);
  }
}

/** Indexes a decoded snapshot, recomputing reservations and checking every cross-reference. */
function rebuild(data: ShopData): {
  printers: Map<string, PrinterRecord>;
  filaments: Map<string, FilamentRecord>;
  jobs: Map<string, JobRecord>;
  jobsByPrinter: Map<string, string[]>;
} {
  const corrupt = (message: string): Error =>
    new SnapshotFormatError(`corrupt print-shop snapshot: ${message}`);
  const printers = new Map<string, PrinterRecord>();
  for (const p of data.printers) {
    if (printers.has(p.id)) throw corrupt(`printer ${p.id} appears twice`);
    printers.set(p.id, { ...p });
  }
  const filaments = new Map<string, FilamentRecord>();
  for (const f of data.filaments) {
    if (filaments.has(f.id)) throw corrupt(`filament ${f.id} appears twice`);
    if (f.remaining > f.total) throw corrupt(`filament ${f.id} has more remaining than total weight`);
    filaments.set(f.id, { ...f, reserved: 0 });
  }
  const reserved = new Map<string, number>();
  const jobs = new Map<string, JobRecord>();
  const jobsByPrinter = new Map<string, string[]>();
  for (const j of data.jobs) {
    if (jobs.has(j.id)) throw corrupt(`print job ${j.id} appears twice`);
    if (!printers.has(j.printerId)) throw corrupt(`print job ${j.id} names unknown printer ${j.printerId}`);
    const filament = filaments.get(j.filamentId);
    if (filament === undefined) throw corrupt(`print job ${j.id} names unknown filament ${j.filamentId}`);
    if (holdsReservation(j.status)) reserved.set(filament.id, (reserved.get(filament.id) ?? 0) + j.weight);
    jobs.set(j.id, { ...j });
    const ids = jobsByPrinter.get(j.printerId);
    if (ids === undefined) jobsByPrinter.set(j.printerId, [j.id]);
    else ids.push(j.id);
  }
  for (const [id, grams] of reserved) {
    const f = filaments.get(id)!;
    if (grams > f.remaining)
      throw corrupt(`filament ${f.id} has ${grams} g reserved but only ${f.remaining} g remaining`);
    filaments.set(id, { ...f, reserved: grams });
  }
  return { printers, filaments, jobs, jobsByPrinter };
}
