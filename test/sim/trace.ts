// The tail of a run, for the report of a failing seed: the simulator's notes, the core's own
// decisions (its logger events: votes, role changes, check-quorum-failed...) and, when asked,
// every message. Lines are formatted only when the report is printed.
import type { Message } from '../../src/raft/index.js';

type Line = () => string;

export class Trace {
  private readonly buffer: Line[] = [];

  constructor(
    private readonly now: () => number,
    private readonly keep: number,
  ) {}

  note(text: string): void {
    const t = this.now();
    this.push(() => `t=${t} ${text}`);
  }

  /** One of the core's trace events (RaftConfig.logger). */
  core(id: string, event: string, fields: Record<string, unknown>): void {
    const t = this.now();
    this.push(() => `t=${t} ${id} core: ${event} ${JSON.stringify(fields)}`);
  }

  message(m: Message): void {
    const t = this.now();
    this.push(() => `t=${t} ${m.from}->${m.to} ${describeMessage(m)}`);
  }

  lines(): string[] {
    return this.buffer.slice(-this.keep).map((line) => line());
  }

  private push(line: Line): void {
    this.buffer.push(line);
    if (this.buffer.length > this.keep * 2) this.buffer.splice(0, this.buffer.length - this.keep);
  }
}

function describeMessage(m: Message): string {
  switch (m.type) {
    case 'append':
      return `append t${m.term} prev ${m.prevIndex}:${m.prevTerm} entries ${m.entries.length === 0 ? '-' : `${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}`} commit ${m.commit}`;
    case 'append-response':
      return `append-response t${m.term} ${m.success ? 'ok' : 'reject'} ${m.index}${m.rejectHint ? ` hint ${m.rejectHint.hintIndex}:${m.rejectHint.conflictTerm}` : ''}`;
    case 'vote-request':
      return `${m.preVote ? 'pre-' : ''}vote-request t${m.term} last ${m.lastLogIndex}:${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
      return `${m.preVote ? 'pre-' : ''}vote-response t${m.term} ${m.granted ? 'granted' : 'refused'}`;
    case 'heartbeat':
      return `heartbeat t${m.term} commit ${m.commit}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'heartbeat-response':
      return `heartbeat-response t${m.term}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'snapshot':
      return `snapshot t${m.term} at ${m.snapshot.meta.index}:${m.snapshot.meta.term} voters [${m.snapshot.meta.config.voters.join(',')}]`;
    case 'timeout-now':
      return `timeout-now t${m.term}`;
    case 'read-index':
      return `read-index t${m.term} ctx ${m.context}`;
    case 'read-index-response':
      return `read-index-response t${m.term} ctx ${m.context} index ${m.index}`;
  }
}
