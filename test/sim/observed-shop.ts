// The real print-shop FSM with one hook: the simulator sees every command it applies, where
// (index, term) and with what result — for State Machine Safety and to settle the outcome of
// writes whose client never heard back.
import { PrintShop } from '../../src/fsm/index.js';
import type { ApplyMeta, ShopCommand, ShopResult } from '../../src/fsm/index.js';

export class ObservedShop extends PrintShop {
  constructor(private readonly onApply: (command: ShopCommand, meta: ApplyMeta, result: ShopResult) => void) {
    super();
  }

  override apply(command: ShopCommand, meta?: ApplyMeta): ShopResult {
    const result = super.apply(command, meta);
    if (meta) this.onApply(command, meta, result);
    return result;
  }
}
