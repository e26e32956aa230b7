// The print shop's vocabulary: the commands that go through the Raft log, the views that
// queries and results return, and the typed domain errors. Everything a command needs to
// apply deterministically (ids, the `at` timestamp) is chosen by the proposer and carried
// inside it; `apply` never consults a clock or a random source.

export const FILAMENT_TYPES = ['PLA', 'PETG', 'ABS', 'TPU'] as const;
export type FilamentType = (typeof FILAMENT_TYPES)[number];

export const JOB_STATUSES = ['Queued', 'Running', 'Done', 'Canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** What kind of object an id names (in errors such as `duplicate_id`). */
export type ObjectKind = 'printer' | 'filament' | 'print_job';

// ---------------------------------------------------------------------------------------
// Commands

/** A client's idempotency key and a fingerprint of the request it came with. */
export interface Idempotency {
  readonly key: string;
  /** Same key + same fingerprint → replay the first result; different fingerprint → refused. */
  readonly fingerprint: string;
}

interface CommandBase {
  /** Proposer's wall clock, epoch milliseconds (integer). Becomes created_at/updated_at. */
  readonly at: number;
  readonly idempotency?: Idempotency | null;
}

export interface PrinterInput {
  readonly id: string;
  readonly company: string;
  readonly model: string;
}

export interface FilamentInput {
  readonly id: string;
  readonly type: FilamentType;
  readonly color: string;
  /** Integer > 0. */
  readonly total_weight_in_grams: number;
  /** Integer in 0..total_weight_in_grams. */
  readonly remaining_weight_in_grams: number;
}

export interface PrintJobInput {
  readonly id: string;
  readonly printer_id: string;
  readonly filament_id: string;
  readonly filepath: string;
  /** Integer > 0. */
  readonly print_weight_in_grams: number;
}

/** Creates a printer. Result: `PrinterView`. */
export interface CreatePrinterCommand extends CommandBase {
  readonly type: 'printer.create';
  readonly printer: PrinterInput;
}

/** Creates a filament spool. Result: `FilamentView`. */
export interface CreateFilamentCommand extends CommandBase {
  readonly type: 'filament.create';
  readonly filament: FilamentInput;
}

/** Creates a print job, always Queued, reserving its weight on the filament. Result: `PrintJobView`. */
export interface CreatePrintJobCommand extends CommandBase {
  readonly type: 'print_job.create';
  readonly job: PrintJobInput;
}

/** Moves a job to `status` (Queued→Running, Running→Done, Queued|Running→Canceled). Result: `PrintJobView`. */
export interface SetJobStatusCommand extends CommandBase {
  readonly type: 'print_job.status';
  readonly id: string;
  readonly status: JobStatus;
}

export type ShopCommand =
  CreatePrinterCommand | CreateFilamentCommand | CreatePrintJobCommand | SetJobStatusCommand;
export type ShopCommandType = ShopCommand['type'];
export const COMMAND_TYPES = [
  'printer.create',
  'filament.create',
  'print_job.create',
  'print_job.status',
] as const satisfies readonly ShopCommandType[];

// ---------------------------------------------------------------------------------------
// Views (what queries and successful results return; timestamps are ISO-8601 UTC strings)

export interface PrinterView {
  readonly id: string;
  readonly company: string;
  readonly model: string;
  readonly created_at: string;
}

export interface FilamentView {
  readonly id: string;
  readonly type: FilamentType;
  readonly color: string;
  readonly total_weight_in_grams: number;
  readonly remaining_weight_in_grams: number;
  /** Sum of the weights of this filament's Queued and Running jobs. */
  readonly reserved_weight_in_grams: number;
  /** remaining − reserved: the most a new job may weigh. */
  readonly available_weight_in_grams: number;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface PrintJobView {
  readonly id: string;
  readonly printer_id: string;
  readonly filament_id: string;
  readonly filepath: string;
  readonly print_weight_in_grams: number;
  readonly status: JobStatus;
  readonly created_at: string;
  readonly updated_at: string;
}

export type ShopValue = PrinterView | FilamentView | PrintJobView;

/** The value a successful command of each type yields. */
export interface ShopValueOf {
  'printer.create': PrinterView;
  'filament.create': FilamentView;
  'print_job.create': PrintJobView;
  'print_job.status': PrintJobView;
}

// ---------------------------------------------------------------------------------------
// Results and domain errors. Errors are data, not exceptions: a refusal is a replicated
// outcome, identical on every replica, and a refused command changes nothing.

/**
 * Every code `apply` can return. Stable: the API maps them to HTTP statuses
 * (src/api/errors.ts), and each carries the details `ShopErrorDetails` names for it.
 * - `printer_not_found`, `filament_not_found`: a job names an unknown printer/filament.
 * - `print_job_not_found`: a status change names an unknown job.
 * - `duplicate_id`: the id is already used by an object of the same kind.
 * - `filament_capacity`: the job weighs more than the filament's available grams.
 * - `invalid_transition`: the status change is not allowed.
 * - `invalid_filament`: remaining weight above total weight.
 * - `invalid_command`: the command is malformed (defensive re-validation; the API validates first).
 * - `idempotency_key_reused`: the key was first used with a different request fingerprint.
 */
export const SHOP_ERROR_CODES = [
  'printer_not_found',
  'filament_not_found',
  'print_job_not_found',
  'duplicate_id',
  'filament_capacity',
  'invalid_transition',
  'invalid_filament',
  'invalid_command',
  'idempotency_key_reused',
] as const;
export type ShopErrorCode = (typeof SHOP_ERROR_CODES)[number];

/** The id and kind of the object a refusal is about. */
type ObjectDetails = { readonly id: string; readonly kind: ObjectKind };

/** A refusal that names nothing beyond its message. */
type NoDetails = Readonly<Record<string, never>>;

/**
 * What each refusal says beyond its message, as one object the API serialises whole into
 * the problem body. A code without an entry here does not compile (`ShopError` indexes it).
 */
export interface ShopErrorDetails {
  readonly printer_not_found: ObjectDetails;
  readonly filament_not_found: ObjectDetails;
  readonly print_job_not_found: ObjectDetails;
  readonly duplicate_id: ObjectDetails;
  /** The filament, the grams still available on it and the grams the job needs. */
  readonly filament_capacity: { readonly id: string; readonly available: number; readonly requested: number };
  /** The job, its current status and the one asked for. */
  readonly invalid_transition: { readonly id: string; readonly from: JobStatus; readonly to: JobStatus };
  readonly invalid_filament: { readonly id: string };
  readonly invalid_command: NoDetails;
  readonly idempotency_key_reused: NoDetails;
}

/** A refusal: its code, a message for humans, and the details its code carries. */
export type ShopError = {
  readonly [C in ShopErrorCode]: {
    readonly code: C;
    readonly message: string;
    readonly details: ShopErrorDetails[C];
  };
}[ShopErrorCode];

export interface ShopSuccess<V = ShopValue> {
  readonly ok: true;
  readonly value: V;
  /** True when this is the stored first result of an earlier command with the same idempotency key. */
  readonly replayed?: boolean;
}

export interface ShopFailure {
  readonly ok: false;
  readonly error: ShopError;
}

export type ShopResult<V = ShopValue> = ShopSuccess<V> | ShopFailure;
