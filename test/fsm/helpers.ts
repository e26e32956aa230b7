// Builders shared by the FSM tests: terse commands with sensible defaults.
import { PrintShop } from '../../src/fsm/index.js';
import type {
  FilamentType,
  Idempotency,
  JobStatus,
  ShopCommand,
  ShopFailure,
  ShopResult,
  ShopSuccess,
} from '../../src/fsm/index.js';

export const T0 = 1_700_000_000_000;

type Extra = { at?: number; idempotency?: Idempotency };

export function printer(id: string, extra: Extra = {}): ShopCommand {
  return {
    type: 'printer.create',
    at: extra.at ?? T0,
    ...(extra.idempotency ? { idempotency: extra.idempotency } : {}),
    printer: { id, company: 'Creality', model: 'Ender 3' },
  };
}

export function filament(
  id: string,
  total: number,
  remaining = total,
  extra: Extra & { type?: FilamentType } = {},
): ShopCommand {
  return {
    type: 'filament.create',
    at: extra.at ?? T0,
    ...(extra.idempotency ? { idempotency: extra.idempotency } : {}),
    filament: {
      id,
      type: extra.type ?? 'PLA',
      color: 'red',
      total_weight_in_grams: total,
      remaining_weight_in_grams: remaining,
    },
  };
}

export function job(
  id: string,
  printerId: string,
  filamentId: string,
  weight: number,
  extra: Extra = {},
): ShopCommand {
  return {
    type: 'print_job.create',
    at: extra.at ?? T0,
    ...(extra.idempotency ? { idempotency: extra.idempotency } : {}),
    job: {
      id,
      printer_id: printerId,
      filament_id: filamentId,
      filepath: `prints/${id}.gcode`,
      print_weight_in_grams: weight,
    },
  };
}

export function status(id: string, to: JobStatus, extra: Extra = {}): ShopCommand {
  return {
    type: 'print_job.status',
    at: extra.at ?? T0,
    ...(extra.idempotency ? { idempotency: extra.idempotency } : {}),
    id,
    status: to,
  };
}

/** A shop with printer p1 and filament f1 (1000 g total, `remaining` g left). */
export function shopWith(remaining = 1000): PrintShop {
  const shop = new PrintShop();
  mustOk(shop.apply(printer('p1'), { index: 1, term: 1 }));
  mustOk(shop.apply(filament('f1', 1000, remaining), { index: 2, term: 1 }));
  return shop;
}

export function mustOk<V>(result: ShopResult<V>): ShopSuccess<V>['value'] {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.value;
}

export function mustFail(result: ShopResult): ShopFailure['error'] {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  return result.error;
}

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
