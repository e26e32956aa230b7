// The sequential specification the simulation's histories are checked against: the real
// print-shop FSM. A client history is linearizable iff some order of its operations that
// respects real time, replayed on a fresh PrintShop, gives every completed operation the
// output its client saw. The workload keeps groups of objects independent (printer p<g>,
// filament f<g>, jobs j<g>-<k>), so each group is checked on its own (linearizability is
// compositional), which keeps the search small.
import { PrintShop } from '../../src/fsm/index.js';
import type { ShopCommand } from '../../src/fsm/index.js';
import type { Model } from './linearizability.js';

export type ShopQuery =
  | { readonly what: 'filament'; readonly id: string }
  | { readonly what: 'job'; readonly id: string }
  | { readonly what: 'printer-jobs'; readonly id: string };

export type ShopInput =
  | { readonly kind: 'write'; readonly command: ShopCommand }
  | { readonly kind: 'read'; readonly query: ShopQuery };

/** An immutable model state: the snapshot bytes of a PrintShop, and a key for memoization. */
export interface ShopState {
  readonly bytes: Uint8Array;
  readonly key: string;
}

/** What a query returns, as the text the history records. */
export function runQuery(shop: PrintShop, query: ShopQuery): string {
  switch (query.what) {
    case 'filament':
      return JSON.stringify(shop.getFilament(query.id) ?? null);
    case 'job':
      return JSON.stringify(shop.getPrintJob(query.id) ?? null);
    case 'printer-jobs':
      return JSON.stringify(shop.listPrinterJobs(query.id) ?? null);
  }
}

function stateOf(shop: PrintShop): ShopState {
  const bytes = shop.snapshot();
  return { bytes, key: Buffer.from(bytes).toString('latin1') };
}

function shopOf(state: ShopState): PrintShop {
  const shop = new PrintShop();
  shop.restore(state.bytes);
  return shop;
}

export const shopModel: Model<ShopState, ShopInput, string | null> = {
  init: stateOf(new PrintShop()),
  step(state, input, output, pending) {
    const shop = shopOf(state);
    if (input.kind === 'read') return { ok: pending || runQuery(shop, input.query) === output, state };
    const result = JSON.stringify(shop.apply(input.command));
    return { ok: pending || result === output, state: stateOf(shop) };
  },
  key: (state) => state.key,
};
