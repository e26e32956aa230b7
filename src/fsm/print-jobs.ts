// The rules that guard print jobs: the legal status transitions and the weight
// reservation. A Queued or Running job reserves its weight on its filament (kept as a
// running sum on the filament, O(1) per command); a new job must fit in the filament's
// remaining weight minus what is reserved; Done turns the reservation into consumption.

import { failure } from './errors.js';
import type { FilamentRecord, JobRecord } from './records.js';
import type { JobStatus, ShopFailure } from './types.js';

/** The only allowed moves: Queued→Running, Running→Done, Queued|Running→Canceled. */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  Queued: ['Running', 'Canceled'],
  Running: ['Done', 'Canceled'],
  Done: [],
  Canceled: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Whether a job in `status` holds a reservation on its filament. */
export function holdsReservation(status: JobStatus): boolean {
  return status === 'Queued' || status === 'Running';
}

/** Grams a new job may still take from `filament`. */
function availableGrams(filament: FilamentRecord): number {
  return filament.remaining - filament.reserved;
}

/** Refusal if a job of `weight` grams does not fit on `filament`, else null. */
export function capacityProblem(filament: FilamentRecord, weight: number): ShopFailure | null {
  const available = availableGrams(filament);
  if (weight <= available) return null;
  return failure(
    'filament_capacity',
    `print_weight_in_grams ${weight} exceeds the ${available} g available on filament ${JSON.stringify(filament.id)} ` +
      `(${filament.remaining} g remaining, ${filament.reserved} g reserved by queued or running jobs)`,
    { id: filament.id, available, requested: weight },
  );
}

/** Refusal if `job` may not move to `to`, else null. */
export function transitionProblem(job: JobRecord, to: JobStatus): ShopFailure | null {
  if (canTransition(job.status, to)) return null;
  const allowed = TRANSITIONS[job.status];
  const hint =
    allowed.length === 0
      ? `${job.status} is final`
      : `from ${job.status} a job may only go to ${allowed.join(' or ')}`;
  return failure(
    'invalid_transition',
    `print job ${JSON.stringify(job.id)} cannot go from ${job.status} to ${to}: ${hint}`,
    {
      id: job.id,
      from: job.status,
      to,
    },
  );
}

/** `job` moved to `to` (already checked legal) and its filament with the reservation settled. */
export function moveJob(
  job: JobRecord,
  filament: FilamentRecord,
  to: JobStatus,
  at: number,
): { job: JobRecord; filament: FilamentRecord } {
  const settles = holdsReservation(job.status) && !holdsReservation(to);
  return {
    job: { ...job, status: to, updatedAt: at },
    filament: settles
      ? {
          ...filament,
          reserved: filament.reserved - job.weight,
          remaining: to === 'Done' ? filament.remaining - job.weight : filament.remaining,
          updatedAt: at,
        }
      : filament,
  };
}

/** `filament` with a new job's weight reserved (already checked to fit). */
export function reserve(filament: FilamentRecord, weight: number, at: number): FilamentRecord {
  return { ...filament, reserved: filament.reserved + weight, updatedAt: at };
}
