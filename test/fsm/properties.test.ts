// Property tests over random command sequences, checked against a naive reference model
// (reservations recomputed by scanning, times formatted by Date). Small id pools make
// collisions, unknown references, capacity refusals and illegal transitions common.
import test from 'ava';
import fc from 'fast-check';
import {
  CommandDecodeError,
  JOB_STATUSES,
  PrintShop,
  commandProblem,
  decodeCommand,
  encodeCommand,
} from '../../src/fsm/index.js';
import type {
  FilamentType,
  FilamentView,
  Idempotency,
  JobStatus,
  PrintJobView,
  PrinterView,
  PrintShopOptions,
  ShopCommand,
  ShopErrorCode,
  ShopResult,
  ShopValue,
} from '../../src/fsm/index.js';
import { T0, text } from './helpers.js';

const seed = Number(process.env['FSM_SEED'] ?? 4_004);
const numRuns = Number(process.env['FSM_RUNS'] ?? 300);
const params = { seed, numRuns };

// --- generators ------------------------------------------------------------------------

const pick = (prefix: string, n: number) => fc.integer({ min: 0, max: n - 1 }).map((i) => `${prefix}${i}`);
/** One command in four carries a key; a small key pool makes retries and reuse common. */
const idempotency: fc.Arbitrary<Idempotency | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.record({ key: pick('k', 8), fingerprint: pick('fp', 2) }) },
);

type Body =
  | { type: 'printer.create'; printer: { id: string; company: string; model: string } }
  | {
      type: 'filament.create';
      filament: {
        id: string;
        type: FilamentType;
        color: string;
        total_weight_in_grams: number;
        remaining_weight_in_grams: number;
      };
    }
  | {
      type: 'print_job.create';
      job: {
        id: string;
        printer_id: string;
        filament_id: string;
        filepath: string;
        print_weight_in_grams: number;
      };
    }
  | { type: 'print_job.status'; id: string; status: JobStatus };

const body: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('printer.create' as const),
      printer: fc.record({
        id: pick('p', 5),
        company: fc.constantFrom('Creality', 'Prusa'),
        model: fc.constantFrom('Ender 3', 'MK4'),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        id: pick('f', 4),
        type: fc.constantFrom<FilamentType>('PLA', 'PETG', 'ABS', 'TPU'),
        total: fc.integer({ min: 1, max: 1000 }),
        spent: fc.oneof(
          { weight: 3, arbitrary: fc.constant(0) },
          { weight: 2, arbitrary: fc.integer({ min: -30, max: 1000 }) },
        ),
      })
      .map(({ id, type, total, spent }) => ({
        type: 'filament.create' as const,
        filament: {
          id,
          type,
          color: 'black',
          total_weight_in_grams: total,
          remaining_weight_in_grams: Math.max(0, total - spent),
        },
      })),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('print_job.create' as const),
      job: fc.record({
        id: pick('j', 10),
        printer_id: pick('p', 5),
        filament_id: pick('f', 5),
        filepath: fc.constant('prints/part.gcode'),
        print_weight_in_grams: fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 1, max: 120 }) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 800 }) },
        ),
      }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('print_job.status' as const),
      id: pick('j', 11),
      status: fc.constantFrom<JobStatus>('Queued', 'Running', 'Running', 'Done', 'Done', 'Canceled'),
    }),
  },
);

/**
 * Printers p0..p2 and filaments f0..f3 first (so most jobs find theirs; p3, p4, f4 only
 * exist if created later, or never), then anything. Command times mostly move forward,
 * sometimes stand still or step back (leader change, clock skew).
 */
const commands: fc.Arbitrary<ShopCommand[]> = fc
  .tuple(
    fc.tuple(
      ...[0, 1, 2].map((i) =>
        body
          .filter((b) => b.type === 'printer.create')
          .map((b) => ({ ...b, printer: { ...b.printer, id: `p${i}` } })),
      ),
    ),
    fc.tuple(
      ...[0, 1, 2, 3].map((i) =>
        body
          .filter((b) => b.type === 'filament.create')
          .map((b) => ({ ...b, filament: { ...b.filament, id: `f${i}` } })),
      ),
    ),
    fc.array(fc.tuple(fc.integer({ min: -500, max: 3000 }), idempotency, body), {
      maxLength: 150,
      size: 'max',
    }),
  )
  .map(([printers, filaments, steps]) => {
    let at = T0;
    const setup = [...printers, ...filaments].map((b) => [0, undefined, b] as const);
    return [...setup, ...steps].map(([dt, idem, b]) => {
      at = Math.max(0, at + dt);
      return { ...b, at, ...(idem === undefined ? {} : { idempotency: idem }) } as ShopCommand;
    });
  });

// --- reference model -------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString();

interface ModelFilament {
  view: Omit<FilamentView, 'reserved_weight_in_grams' | 'available_weight_in_grams'>;
  initialRemaining: number;
}

class Model {
  printers = new Map<string, PrinterView>();
  filaments = new Map<string, ModelFilament>();
  jobs = new Map<string, PrintJobView>();
  keys: { key: string; fingerprint: string; at: number; value: ShopValue }[] = [];

  constructor(private readonly limits: { maxEntries: number; ttlMs: number }) {}

  reserved(filamentId: string): number {
    let sum = 0;
    for (const j of this.jobs.values())
      if (j.filament_id === filamentId && (j.status === 'Queued' || j.status === 'Running'))
        sum += j.print_weight_in_grams;
    return sum;
  }

  filamentView(id: string): FilamentView {
    const f = this.filaments.get(id)!;
    const reserved = this.reserved(id);
    const {
      id: fid,
      type,
      color,
      total_weight_in_grams,
      remaining_weight_in_grams,
      created_at,
      updated_at,
    } = f.view;
    return {
      id: fid,
      type,
      color,
      total_weight_in_grams,
      remaining_weight_in_grams,
      reserved_weight_in_grams: reserved,
      available_weight_in_grams: remaining_weight_in_grams - reserved,
      created_at,
      updated_at,
    };
  }

  apply(
    c: ShopCommand,
  ): { ok: true; value: ShopValue; replayed?: true } | { ok: false; code: ShopErrorCode } {
    const live = (k: { at: number }) => c.at - k.at < this.limits.ttlMs;
    if (c.idempotency) {
      const prior = this.keys.find((k) => k.key === c.idempotency!.key && live(k));
      if (prior)
        return prior.fingerprint === c.idempotency.fingerprint
          ? { ok: true, value: prior.value, replayed: true }
          : { ok: false, code: 'idempotency_key_reused' };
    }
    const result = this.execute(c);
    if (result.ok && c.idempotency) {
      this.keys = this.keys.filter((k) => k.key !== c.idempotency!.key);
      while (this.keys.length > 0 && !live(this.keys[0]!)) this.keys.shift();
      while (this.keys.length >= this.limits.maxEntries) this.keys.shift();
      this.keys.push({
        key: c.idempotency.key,
        fingerprint: c.idempotency.fingerprint,
        at: c.at,
        value: result.value,
      });
    }
    return result;
  }

  private execute(c: ShopCommand): { ok: true; value: ShopValue } | { ok: false; code: ShopErrorCode } {
    switch (c.type) {
      case 'printer.create': {
        if (this.printers.has(c.printer.id)) return { ok: false, code: 'duplicate_id' };
        const view = { ...c.printer, created_at: iso(c.at) };
        this.printers.set(view.id, view);
        return { ok: true, value: view };
      }
      case 'filament.create': {
        const f = c.filament;
        if (this.filaments.has(f.id)) return { ok: false, code: 'duplicate_id' };
        if (f.remaining_weight_in_grams > f.total_weight_in_grams)
          return { ok: false, code: 'invalid_filament' };
        this.filaments.set(f.id, {
          view: { ...f, created_at: iso(c.at), updated_at: iso(c.at) },
          initialRemaining: f.remaining_weight_in_grams,
        });
        return { ok: true, value: this.filamentView(f.id) };
      }
      case 'print_job.create': {
        const j = c.job;
        if (this.jobs.has(j.id)) return { ok: false, code: 'duplicate_id' };
        if (!this.printers.has(j.printer_id)) return { ok: false, code: 'printer_not_found' };
        const f = this.filaments.get(j.filament_id);
        if (!f) return { ok: false, code: 'filament_not_found' };
        if (j.print_weight_in_grams > f.view.remaining_weight_in_grams - this.reserved(j.filament_id))
          return { ok: false, code: 'filament_capacity' };
        const view: PrintJobView = { ...j, status: 'Queued', created_at: iso(c.at), updated_at: iso(c.at) };
        this.jobs.set(j.id, view);
        f.view = { ...f.view, updated_at: iso(c.at) };
        return { ok: true, value: view };
      }
      case 'print_job.status': {
        const j = this.jobs.get(c.id);
        if (!j) return { ok: false, code: 'print_job_not_found' };
        const legal =
          (j.status === 'Queued' && (c.status === 'Running' || c.status === 'Canceled')) ||
          (j.status === 'Running' && (c.status === 'Done' || c.status === 'Canceled'));
        if (!legal) return { ok: false, code: 'invalid_transition' };
        const f = this.filaments.get(j.filament_id)!;
        if (c.status !== 'Running') {
          const remaining =
            f.view.remaining_weight_in_grams - (c.status === 'Done' ? j.print_weight_in_grams : 0);
          f.view = { ...f.view, remaining_weight_in_grams: remaining, updated_at: iso(c.at) };
        }
        const view: PrintJobView = { ...j, status: c.status, updated_at: iso(c.at) };
        this.jobs.set(j.id, view);
        return { ok: true, value: view };
      }
    }
  }
}

function outcome(r: ShopResult): unknown {
  return r.ok
    ? { ok: true, value: r.value, ...(r.replayed ? { replayed: true } : {}) }
    : { ok: false, code: r.error.code };
}

function applyAll(shop: PrintShop, cmds: readonly ShopCommand[]): ShopResult[] {
  return cmds.map((c, i) => shop.apply(c, { index: i + 1, term: 1 }));
}

// --- properties ------------------------------------------------------------------------

test('the shop agrees with the reference model after every command, and its weight invariants hold', (t) => {
  const limits = { maxEntries: 3, ttlMs: 5_000 };
  fc.assert(
    fc.property(commands, (cmds) => {
      const shop = new PrintShop({ idempotency: limits });
      const model = new Model(limits);
      for (const c of cmds) {
        const got = shop.apply(c);
        const want = model.apply(c);
        if (JSON.stringify(outcome(got)) !== JSON.stringify(want))
          throw new Error(
            `result differs for ${JSON.stringify(c)}: got ${JSON.stringify(outcome(got))}, want ${JSON.stringify(want)}`,
          );
        for (const f of shop.listFilaments()) {
          const m = model.filaments.get(f.id)!;
          let done = 0;
          for (const j of model.jobs.values())
            if (j.filament_id === f.id && j.status === 'Done') done += j.print_weight_in_grams;
          if (f.remaining_weight_in_grams < 0) throw new Error(`negative remaining on ${f.id}`);
          if (f.remaining_weight_in_grams !== m.initialRemaining - done)
            throw new Error(`remaining on ${f.id} is not initial minus Done weights`);
          if (f.reserved_weight_in_grams > f.remaining_weight_in_grams)
            throw new Error(`reserved exceeds remaining on ${f.id}`);
          if (f.available_weight_in_grams !== f.remaining_weight_in_grams - f.reserved_weight_in_grams)
            throw new Error('available is not remaining minus reserved');
          if (f.remaining_weight_in_grams > f.total_weight_in_grams)
            throw new Error('remaining exceeds total');
        }
        const views = {
          printers: shop.listPrinters(),
          filaments: shop.listFilaments(),
          jobs: shop.listPrintJobs(),
          byStatus: JOB_STATUSES.map((s) => shop.listPrintJobs(s)),
          byPrinter: [...model.printers.keys()].map((p) => shop.listPrinterJobs(p)),
        };
        const modelJobs = [...model.jobs.values()];
        const expected = {
          printers: [...model.printers.values()],
          filaments: [...model.filaments.keys()].map((id) => model.filamentView(id)),
          jobs: modelJobs,
          byStatus: JOB_STATUSES.map((s) => modelJobs.filter((j) => j.status === s)),
          byPrinter: [...model.printers.keys()].map((p) => modelJobs.filter((j) => j.printer_id === p)),
        };
        if (JSON.stringify(views) !== JSON.stringify(expected))
          throw new Error(`views differ after ${JSON.stringify(c)}`);
        if (shop.counts().idempotency_keys !== model.keys.length)
          throw new Error('idempotency table size differs');
      }
    }),
    params,
  );
  t.pass();
});

test('a refused or replayed command leaves the snapshot bytes unchanged', (t) => {
  let refusals = 0;
  let replays = 0;
  fc.assert(
    fc.property(commands, (cmds) => {
      const shop = new PrintShop();
      for (const c of cmds) {
        const before = text(shop.snapshot());
        const r = shop.apply(c);
        if (r.ok && !r.replayed) continue;
        if (r.ok) replays++;
        else refusals++;
        if (text(shop.snapshot()) !== before)
          throw new Error(`state changed by ${JSON.stringify(c)} → ${JSON.stringify(r)}`);
      }
    }),
    params,
  );
  t.true(refusals > 100 && replays > 10, `generator too tame: ${refusals} refusals, ${replays} replays`);
});

test('apply is deterministic: two shops fed the same commands (one through the codec) give the same results and bytes', (t) => {
  fc.assert(
    fc.property(commands, (cmds) => {
      const a = new PrintShop();
      const b = new PrintShop();
      const ra = applyAll(a, cmds);
      const rb = applyAll(
        b,
        cmds.map((c) => decodeCommand(encodeCommand(c))),
      );
      if (JSON.stringify(ra) !== JSON.stringify(rb)) throw new Error('results differ');
      if (text(a.snapshot()) !== text(b.snapshot())) throw new Error('snapshots differ');
    }),
    params,
  );
  t.pass();
});

test('restore(snapshot at any point) then apply the rest equals the live state', (t) => {
  const options: PrintShopOptions = { idempotency: { maxEntries: 4, ttlMs: 4_000 } };
  fc.assert(
    fc.property(commands, fc.nat(), (cmds, cutSeed) => {
      const cut = cmds.length === 0 ? 0 : cutSeed % (cmds.length + 1);
      const live = new PrintShop(options);
      applyAll(live, cmds.slice(0, cut));
      const snap = live.snapshot();
      const restored = new PrintShop(options);
      restored.restore(snap);
      if (text(restored.snapshot()) !== text(snap)) throw new Error('snapshot does not round-trip');
      const rest = cmds.slice(cut);
      const a = applyAll(live, rest);
      const b = applyAll(restored, rest);
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`results after restore at ${cut} differ`);
      if (text(live.snapshot()) !== text(restored.snapshot()))
        throw new Error(`state after restore at ${cut} differs`);
      if (JSON.stringify(live.listFilaments()) !== JSON.stringify(restored.listFilaments()))
        throw new Error('derived reservations differ');
    }),
    params,
  );
  t.pass();
});

test('the codec either decodes a valid command or throws CommandDecodeError, for any input', (t) => {
  const candidates = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))),
    commands.map((cs) =>
      cs[0] === undefined
        ? new Uint8Array()
        : new TextEncoder().encode(
            JSON.stringify({ ...cs[0], at: cs.length % 2 === 0 ? cs[0].at : String(cs[0].at) }),
          ),
    ),
  );
  fc.assert(
    fc.property(candidates, (input) => {
      try {
        const c = decodeCommand(input);
        if (commandProblem(c) !== null) throw new Error('decoded an invalid command');
      } catch (error) {
        if (!(error instanceof CommandDecodeError)) throw error;
      }
    }),
    params,
  );
  t.pass();
});
