// The simulation's clients: print-shop operations through the real driver's paths — writes
// by RaftNode.propose (with and without idempotency keys, retried after an unknown outcome),
// reads after RaftNode.readBarrier (linearizable), RaftNode.leaseRead (consistency=leader) or
// straight from local state (stale). Every operation is recorded with its virtual call and
// return times; at the end each group's history is checked against the real FSM.
import { printShopCodec } from '../../src/fsm/index.js';
import type { ShopCommand, ShopResult } from '../../src/fsm/index.js';
import type { ShopNode } from '../../src/api/index.js';
import { NoLeaderError, NotLeaderError, ProposalDroppedError } from '../../src/node/index.js';
import type { SeededPrng } from '../../src/raft/index.js';
import type { EventQueue } from './event-queue.js';
import type { Host } from './host.js';
import { Violation } from './invariants.js';
import { checkLinearizable, describeHistory } from './linearizability.js';
import type { Operation } from './linearizability.js';
import { runQuery, shopModel } from './shop-model.js';
import type { ShopInput, ShopQuery } from './shop-model.js';

export type ReadLevel = 'linearizable' | 'leader' | 'stale';
type Status = 'pending' | 'ok' | 'unknown' | 'failed';

export interface ClientOp {
  readonly id: number;
  readonly client: number;
  readonly group: number;
  readonly input: ShopInput;
  readonly level: ReadLevel | null;
  readonly host: Host;
  readonly life: number;
  readonly call: number;
  ret: number;
  output: string | null;
  status: Status;
}

export interface WorkloadStats {
  readonly ok: number;
  readonly unknown: number;
  readonly reads: Readonly<Record<ReadLevel | 'leaderUnderLease', number>>;
  readonly refusals: number;
  readonly checkSteps: number;
}

const CLIENT_TIMEOUT = 400;
/** Epoch milliseconds of virtual time 0 (commands carry `at`, which must look like a date). */
const EPOCH = 1_700_000_000_000;

const decoder = new TextDecoder();

/** The command text a log entry carries (what the FSM hook and the history both key on). */
export function commandText(command: ShopCommand): string {
  return decoder.decode(printShopCodec.encode(command));
}

export class Workload {
  readonly ops: ClientOp[] = [];
  private readonly busy = new Map<number, ClientOp>();
  private readonly lastOk = new Map<number, number>();
  /** A write a client will send again (same idempotency key) as its next operation. */
  private readonly retries = new Map<number, { group: number; command: ShopCommand }>();
  private seq = 0;
  private readonly jobs: number[];
  /** Command text -> when it was first applied anywhere, its entry and the FSM's result. */
  private readonly applied = new Map<string, { time: number; index: number; term: number; result: string }>();
  private readonly reads: Record<ReadLevel, number> = { linearizable: 0, leader: 0, stale: 0 };
  private refusals = 0;
  /** Leader reads for which the lease held when they were asked (the rest took a ReadIndex round). */
  private leaseHeld = 0;
  private checkSteps = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: SeededPrng,
    private readonly hosts: () => readonly Host[],
    readonly clients: number,
    readonly groups: number,
    /** An acknowledged write: its entry must be in every later leader's log. */
    private readonly onAcked: (host: Host, index: number, term: number) => void,
    /** A leader accepted a proposal (a moment the hostile schedule may strike). */
    private readonly onProposed: (host: Host) => void,
    /** The driver bug the linearizability check must catch: linearizable reads answered from local state at once. */
    private readonly localReads: boolean,
  ) {
    this.jobs = Array.from({ length: groups }, () => 0);
  }

  start(): void {
    for (let c = 0; c < this.clients; c++) this.queue.after(this.prng.int(50), () => this.next(c));
  }

  /** Clients that completed no operation since `since`. */
  idleSince(since: number): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.clients; c++) if ((this.lastOk.get(c) ?? -1) < since) out.push(c);
    return out;
  }

  /** The state machine of some node applied `command` at (index, term) with `result`. */
  appliedCommand(command: ShopCommand, index: number, term: number, result: ShopResult): void {
    const text = commandText(command);
    if (!this.applied.has(text))
      this.applied.set(text, { time: this.queue.now, index, term, result: JSON.stringify(result) });
  }

  /** A crash: what its node was doing for clients can no longer be answered. */
  crashed(host: Host, life: number): void {
    for (const op of this.busy.values())
      if (op.host === host && op.life === life)
        this.finish(op, op.input.kind === 'write' ? 'unknown' : 'failed');
  }

  stats(): WorkloadStats {
    return {
      ok: this.ops.filter((o) => o.status === 'ok').length,
      unknown: this.ops.filter((o) => o.status === 'unknown').length,
      reads: { ...this.reads, leaderUnderLease: this.leaseHeld },
      refusals: this.refusals,
      checkSteps: this.checkSteps,
    };
  }

  // ---- issuing -----------------------------------------------------------------------------

  private next(client: number): void {
    if (this.busy.has(client)) return;
    const host = this.chooseHost();
    const node = host?.node;
    if (!host || !node) {
      this.retryLater(client);
      return;
    }
    const retry = this.retries.get(client);
    if (retry) {
      this.retries.delete(client);
      this.write(client, retry.group, host, node, { ...retry.command, at: EPOCH + this.seq + 1 });
      return;
    }
    const group = this.prng.int(this.groups);
    const roll = this.prng.next();
    if (roll < 0.4) this.read(client, group, host, node);
    else this.write(client, group, host, node, this.command(group));
  }

  private command(g: number): ShopCommand {
    const p = this.prng;
    const at = EPOCH + this.seq + 1;
    const key = p.next() < 0.5 ? `k${g}-${this.seq + 1}` : null;
    const roll = p.next();
    let command: ShopCommand;
    if (roll < 0.08)
      command = { type: 'printer.create', at, printer: { id: `p${g}`, company: 'Prusa', model: 'MK4' } };
    else if (roll < 0.16)
      command = {
        type: 'filament.create',
        at,
        filament: {
          id: `f${g}`,
          type: 'PLA',
          color: 'red',
          total_weight_in_grams: 200,
          remaining_weight_in_grams: 200,
        },
      };
    else if (roll < 0.55 || this.jobs[g] === 0) {
      const k = this.jobs[g]!++;
      command = {
        type: 'print_job.create',
        at,
        job: {
          id: `j${g}-${k}`,
          printer_id: `p${g}`,
          filament_id: `f${g}`,
          filepath: `prints/${g}/${k}.gcode`,
          print_weight_in_grams: 20 + p.int(60),
        },
      };
    } else {
      const status = (['Running', 'Done', 'Canceled'] as const)[p.int(3)]!;
      command = { type: 'print_job.status', at, id: `j${g}-${p.int(this.jobs[g]!)}`, status };
    }
    if (key === null) return command;
    const { at: _at, ...input } = command;
    return { ...command, idempotency: { key, fingerprint: JSON.stringify(input) } };
  }

  private write(client: number, group: number, host: Host, node: ShopNode, command: ShopCommand): void {
    const op = this.open(client, group, host, { kind: 'write', command }, null);
    const proposed = node.propose(command);
    if (node.isLeader()) this.onProposed(host);
    proposed.then(
      (result) => {
        if (op.status !== 'pending') return;
        if (!result.ok) this.refusals++;
        op.output = JSON.stringify(result);
        this.finish(op, 'ok');
        const entry = this.applied.get(commandText(command));
        if (entry) this.onAcked(host, entry.index, entry.term);
      },
      (error: unknown) => {
        // Refused before it reached the log: certainly not applied. Anything else may have been.
        const refused =
          error instanceof NotLeaderError ||
          error instanceof NoLeaderError ||
          error instanceof ProposalDroppedError;
        // Retry with the same key: the FSM answers with the first result if that was applied.
        if (op.status === 'pending' && !refused && command.idempotency && this.prng.next() < 0.5)
          this.retries.set(client, { group, command });
        this.finish(op, refused ? 'failed' : 'unknown');
      },
    );
  }

  private read(client: number, group: number, host: Host, node: ShopNode): void {
    const roll = this.prng.next();
    const level: ReadLevel = roll < 0.5 ? 'linearizable' : roll < 0.8 ? 'leader' : 'stale';
    const query = this.query(group);
    const op = this.open(client, group, host, { kind: 'read', query }, level);
    this.reads[level]++;
    if (level === 'stale' || (level === 'linearizable' && this.localReads)) {
      op.output = runQuery(node.fsm, query);
      this.finish(op, 'ok');
      return;
    }
    if (level === 'leader' && !node.isLeader()) {
      this.finish(op, 'failed'); // the API forwards it; a simulated client just asks the leader next time
      return;
    }
    if (level === 'leader' && host.core?.leaseReadIndex() != null) this.leaseHeld++;
    const barrier = level === 'leader' ? node.leaseRead() : node.readBarrier();
    barrier.then(
      () => {
        if (op.status !== 'pending') return;
        op.output = runQuery(node.fsm, query);
        this.finish(op, 'ok');
      },
      () => this.finish(op, 'failed'),
    );
  }

  private query(g: number): ShopQuery {
    const roll = this.prng.next();
    if (roll < 0.4) return { what: 'filament', id: `f${g}` };
    if (roll < 0.8 && this.jobs[g]! > 0) return { what: 'job', id: `j${g}-${this.prng.int(this.jobs[g]!)}` };
    return { what: 'printer-jobs', id: `p${g}` };
  }

  private open(
    client: number,
    group: number,
    host: Host,
    input: ShopInput,
    level: ReadLevel | null,
  ): ClientOp {
    const op: ClientOp = {
      id: ++this.seq,
      client,
      group,
      input,
      level,
      host,
      life: host.life,
      call: this.queue.now,
      ret: Infinity,
      output: null,
      status: 'pending',
    };
    this.ops.push(op);
    this.busy.set(client, op);
    this.queue.after(CLIENT_TIMEOUT, () => {
      if (op.status === 'pending') this.finish(op, input.kind === 'write' ? 'unknown' : 'failed');
    });
    return op;
  }

  private finish(op: ClientOp, status: Exclude<Status, 'pending'>): void {
    if (op.status !== 'pending') return;
    op.status = status;
    if (status === 'ok') {
      op.ret = this.queue.now;
      this.lastOk.set(op.client, this.queue.now);
    }
    if (this.busy.get(op.client) === op) {
      this.busy.delete(op.client);
      this.queue.after(this.prng.int(30), () => this.next(op.client));
    }
  }

  private chooseHost(): Host | null {
    const up = this.hosts().filter((h) => h.up && h.node !== null);
    if (up.length === 0) return null;
    if (this.prng.next() < 0.75) {
      const leaders = up.filter((h) => h.node!.isLeader());
      if (leaders.length > 0) return leaders[this.prng.int(leaders.length)]!;
    }
    return up[this.prng.int(up.length)]!;
  }

  private retryLater(client: number): void {
    this.queue.after(10 + this.prng.int(40), () => this.next(client));
  }

  // ---- the end of a run ----------------------------------------------------------------------

  /**
   * Writes whose client never learnt the outcome are settled from what the state machines
   * applied: one applied at time t took effect by t, with the result every replica computed;
   * one never applied is left out. A write reported refused must never have been applied.
   */
  private settle(): void {
    for (const op of this.ops) {
      if (op.input.kind !== 'write') continue;
      const applied = this.applied.get(commandText(op.input.command));
      if (op.status === 'failed' && applied !== undefined)
        throw new Violation(
          'assertStateMachineSafety',
          `client op ${op.id} was refused before reaching the log, yet it was applied at ${applied.index}:${applied.term}`,
        );
      if (op.status !== 'unknown') continue;
      if (applied === undefined) op.status = 'failed';
      else {
        op.status = 'ok';
        op.ret = applied.time;
        op.output = applied.result;
      }
    }
  }

  /** Each group's history (stale reads excluded: they promise nothing) against the real FSM. */
  checkLinearizable(): void {
    this.settle();
    for (let g = 0; g < this.groups; g++) {
      const ops = this.ops.filter((o) => o.group === g && o.status === 'ok' && o.level !== 'stale');
      const history = ops.map((o): Operation<ShopInput, string | null> => ({
        client: o.client,
        input: o.input,
        output: o.output,
        call: o.call,
        ret: o.ret,
      }));
      const result = checkLinearizable(shopModel, history);
      this.checkSteps += result.steps;
      if (!result.ok) {
        const shown = ops.map((o): Operation<unknown, string | null> => ({
          client: o.client,
          input: describeInput(o),
          output: o.output,
          call: o.call,
          ret: o.ret,
        }));
        throw new Violation(
          'assertLinearizable',
          `the history of group ${g} (${ops.length} ops) is not linearizable; longest linearizable prefix: ${result.longestPrefix.length} ops\n${describeHistory(shown).split('\n').slice(-30).join('\n')}`,
        );
      }
      if (result.gaveUp)
        throw new Violation(
          'assertLinearizable',
          `the check of group ${g} (${ops.length} ops) gave up after ${result.steps} steps`,
        );
    }
  }
}

function describeInput(op: ClientOp): string {
  const i = op.input;
  if (i.kind === 'read') return `read ${i.query.what} ${i.query.id} (${op.level ?? ''}) on ${op.host.id}`;
  const c = i.command;
  const what =
    c.type === 'print_job.status'
      ? `${c.id} -> ${c.status}`
      : c.type === 'print_job.create'
        ? `${c.job.id} ${c.job.print_weight_in_grams}g`
        : c.type === 'printer.create'
          ? c.printer.id
          : c.filament.id;
  return `${c.type} ${what}${c.idempotency ? ` key ${c.idempotency.key}` : ''} on ${op.host.id}`;
}
