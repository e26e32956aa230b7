// The applied log as events (GET /events, the SSE stream): entries read back from the core,
// decoded and described, minus the commands that changed nothing (NodeOptions.changed).

import type { Entry, LogIndex, RaftCore } from '../raft/index.js';
import type { CommandCodec, DecodedEvent, EventsPage } from './types.js';

export class EventLog<C> {
  /** Applied commands that changed nothing, above the snapshot: left out of pages. */
  private readonly unchanged = new Set<LogIndex>();

  constructor(
    private readonly core: Pick<RaftCore, 'entriesAfter'>,
    private readonly codec: CommandCodec<C>,
    private readonly describe: (command: C) => { type: string; payload: unknown },
    /** Where the log starts now (entries at or below it are in the snapshot). */
    private readonly snapshotIndex: () => LogIndex,
  ) {}

  /** Applied log entries after `after` (at most `limit`), decoded; or where history now starts. */
  page(after: LogIndex, limit: number, applied: LogIndex): EventsPage {
    const first = this.snapshotIndex() + 1;
    if (after + 1 < first) return { compacted: first };
    if (after >= applied) return { events: [], next: after };
    const want = Math.min(limit, applied - after);
    const entries = this.core.entriesAfter(after, want);
    if (entries === 'compacted') return { compacted: this.snapshotIndex() + 1 };
    const events: DecodedEvent[] = [];
    let next = after;
    for (const entry of entries) {
      if (entry.index > applied) break;
      next = entry.index;
      const event = this.decode(entry);
      if (event && !this.unchanged.has(entry.index)) events.push(event);
    }
    return { events, next };
  }

  /** Remembers an index pages must skip; forgets those a snapshot has compacted away. */
  noteUnchanged(index: LogIndex): void {
    const compacted = this.snapshotIndex();
    for (const old of this.unchanged) {
      if (old > compacted) break;
      this.unchanged.delete(old);
    }
    this.unchanged.add(index);
  }

  private decode(entry: Entry): DecodedEvent | null {
    if (entry.type === 'noop') return null;
    if (entry.type === 'config')
      return { index: entry.index, term: entry.term, type: 'config', payload: entry.change };
    try {
      const view = this.describe(this.codec.decode(entry.data));
      return { index: entry.index, term: entry.term, type: view.type, payload: view.payload };
    } catch {
      return { index: entry.index, term: entry.term, type: 'undecodable', payload: null };
    }
  }
}
