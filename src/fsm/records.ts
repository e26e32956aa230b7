// The state machine's internal records (timestamps as epoch ms) and their public views
// (timestamps as ISO-8601 text, plus derived weights). Records are immutable: `apply`
// replaces a changed record in its map, so a snapshot can capture the maps' values and
// encode them later (PrintShop.captureSnapshot). Views are fresh objects, safe to hand out.

import { isoTime } from './time.js';
import type { FilamentType, FilamentView, JobStatus, PrintJobView, PrinterView } from './types.js';

export interface PrinterRecord {
  readonly id: string;
  readonly company: string;
  readonly model: string;
  readonly createdAt: number;
}

export interface FilamentRecord {
  readonly id: string;
  readonly type: FilamentType;
  readonly color: string;
  readonly total: number;
  readonly remaining: number;
  /** Sum of the weights of this filament's Queued/Running jobs, kept incrementally. */
  readonly reserved: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface JobRecord {
  readonly id: string;
  readonly printerId: string;
  readonly filamentId: string;
  readonly filepath: string;
  readonly weight: number;
  readonly status: JobStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export function printerView(p: PrinterRecord): PrinterView {
  return { id: p.id, company: p.company, model: p.model, created_at: isoTime(p.createdAt) };
}

export function filamentView(f: FilamentRecord): FilamentView {
  return {
    id: f.id,
    type: f.type,
    color: f.color,
    total_weight_in_grams: f.total,
    remaining_weight_in_grams: f.remaining,
    reserved_weight_in_grams: f.reserved,
    available_weight_in_grams: f.remaining - f.reserved,
    created_at: isoTime(f.createdAt),
    updated_at: isoTime(f.updatedAt),
  };
}

export function printJobView(j: JobRecord): PrintJobView {
  return {
    id: j.id,
    printer_id: j.printerId,
    filament_id: j.filamentId,
    filepath: j.filepath,
    print_weight_in_grams: j.weight,
    status: j.status,
    created_at: isoTime(j.createdAt),
    updated_at: isoTime(j.updatedAt),
  };
}
