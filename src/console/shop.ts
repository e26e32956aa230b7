// The shop's data in the browser, kept live by the event stream and nothing else: it loads
// the printers, spools and jobs once the stream is open, and after each event re-reads the
// objects that event touched from the member that sent it (that member has applied it, so a
// `consistency=stale` read there already shows it). The console never re-implements a rule:
// what it shows is what the state machine answered. When the member dies the stream moves to
// another member and everything is loaded again.

import type { Client, Filament, Printer, PrintJob } from './api.js';
import { ApiProblem } from './api.js';

const EVENT_TYPES = ['printer.create', 'filament.create', 'print_job.create', 'print_job.status'] as const;

export type Connection = 'connecting' | 'live' | 'lost';

export class ShopStore {
  readonly printers = new Map<string, Printer>();
  readonly filaments = new Map<string, Filament>();
  readonly jobs = new Map<string, PrintJob>();
  connection: Connection = 'connecting';
  /** The last event index seen (for the status line). */
  lastEvent = 0;
  private source: EventSource | null = null;
  private readonly listeners: ((change: string | null) => void)[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: Client,
    /** Asked when the stream fails: refresh what is known of the members. */
    private readonly refreshMembers: () => Promise<void>,
  ) {}

  /** `change` describes one applied event for the live region, null for a reload. */
  onChange(listener: (change: string | null) => void): void {
    this.listeners.push(listener);
  }

  private notify(change: string | null): void {
    for (const listener of this.listeners) listener(change);
  }

  connect(): void {
    this.source?.close();
    const base = this.client.base;
    const source = new EventSource(`${base}/api/v1/events?watch=true`);
    this.source = source;
    this.connection = 'connecting';
    this.notify(null);
    source.addEventListener('open', () => {
      if (this.source !== source) return;
      this.connection = 'live';
      void this.reload();
    });
    for (const type of EVENT_TYPES)
      source.addEventListener(
        type,
        (event) => void this.applied(base, type, (event as MessageEvent<string>).data),
      );
    for (const type of ['restored', 'compacted'])
      source.addEventListener(type, () => {
        void this.reload();
      });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      // EventSource retries the same member by itself; a dead member is left for a live one.
      source.close();
      this.connection = 'lost';
      this.notify(null);
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        void this.refreshMembers().then(() => {
          this.client.failOver();
          this.connect();
        });
      }, 300);
    });
  }

  /** Loads everything from the member the stream is open to. */
  async reload(): Promise<void> {
    try {
      const [printers, filaments, jobs] = await Promise.all([
        this.client.get<Printer[]>('/api/v1/printers'),
        this.client.get<Filament[]>('/api/v1/filaments'),
        this.client.get<PrintJob[]>('/api/v1/print_jobs'),
      ]);
      replace(this.printers, printers);
      replace(this.filaments, filaments);
      replace(this.jobs, jobs);
      this.notify(null);
    } catch (error) {
      // No quorum for a linearizable read yet: the next event or reconnect loads again.
      if (!(error instanceof ApiProblem)) throw error;
    }
  }

  private async applied(base: string, type: (typeof EVENT_TYPES)[number], data: string): Promise<void> {
    const event = JSON.parse(data) as { index: number; payload: { id?: string; filament_id?: string } };
    this.lastEvent = Math.max(this.lastEvent, event.index);
    const id = event.payload.id;
    if (id === undefined) return;
    const stale = '?consistency=stale';
    const read = async <T>(path: string): Promise<T | null> => {
      try {
        return await this.client.get<T>(`${path}${stale}`);
      } catch (error) {
        // A command the state machine refused leaves nothing to read.
        if (error instanceof ApiProblem && error.status === 404) return null;
        throw error;
      }
    };
    if (base !== this.client.base) return;
    let change: string | null = null;
    if (type === 'printer.create') {
      const printer = await read<Printer>(`/api/v1/printers/${encodeURIComponent(id)}`);
      if (printer) this.printers.set(printer.id, printer);
      change = printer ? `Printer ${printer.id} added` : null;
    } else if (type === 'filament.create') {
      const filament = await read<Filament>(`/api/v1/filaments/${encodeURIComponent(id)}`);
      if (filament) this.filaments.set(filament.id, filament);
      change = filament ? `Spool ${filament.id} added` : null;
    } else {
      const job = await read<PrintJob>(`/api/v1/print_jobs/${encodeURIComponent(id)}`);
      if (job) {
        this.jobs.set(job.id, job);
        const filament = await read<Filament>(`/api/v1/filaments/${encodeURIComponent(job.filament_id)}`);
        if (filament) this.filaments.set(filament.id, filament);
        change = type === 'print_job.create' ? `Job ${job.id} queued` : `Job ${job.id} is now ${job.status}`;
      }
    }
    this.notify(change);
  }
}

function replace<T extends { id: string }>(map: Map<string, T>, items: readonly T[]): void {
  map.clear();
  for (const item of items) map.set(item.id, item);
}
