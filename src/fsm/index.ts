// Public surface of the print-shop state machine: commands, views, results and error
// codes; the PrintShop FSM (apply/snapshot/restore + queries); the log codec. Pure and
// deterministic: imports nothing outside src/fsm, reads no clock and no randomness.

export { PrintShop } from './print-shop.js';
export type { ApplyMeta, PrintShopOptions, ShopCounts } from './print-shop.js';
export {
  CommandDecodeError,
  canonicalCommand,
  decodeCommand,
  describeCommand,
  encodeCommand,
  printShopCodec,
} from './codec.js';
export { DEFAULT_IDEMPOTENCY_LIMITS } from './idempotency.js';
export type { IdempotencyLimits } from './idempotency.js';
export { TRANSITIONS, canTransition } from './print-jobs.js';
export { SNAPSHOT_VERSION, SnapshotFormatError } from './snapshot.js';
export { MAX_TIMESTAMP_MS, isoTime } from './time.js';
export { MAX_TEXT_LENGTH, commandProblem } from './validate.js';
export { COMMAND_TYPES, FILAMENT_TYPES, JOB_STATUSES, SHOP_ERROR_CODES } from './types.js';
export type {
  CreateFilamentCommand,
  CreatePrinterCommand,
  CreatePrintJobCommand,
  FilamentInput,
  FilamentType,
  FilamentView,
  Idempotency,
  JobStatus,
  ObjectKind,
  PrinterInput,
  PrinterView,
  PrintJobInput,
  PrintJobView,
  SetJobStatusCommand,
  ShopCommand,
  ShopCommandType,
  ShopError,
  ShopErrorCode,
  ShopErrorDetails,
  ShopFailure,
  ShopResult,
  ShopSuccess,
  ShopValue,
  ShopValueOf,
} from './types.js';
