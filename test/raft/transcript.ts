// Transcript tests for the consensus core, in the manner of etcd-io/raft's datadriven
// interaction tests: a text file of commands, each followed by `----` and the exact output
// it must produce (every Ready taken and every message delivered). A change in message flow
// shows up as a diff; `REWRITE=1 npx ava test/raft/transcript.test.ts` writes the new output
// back into the files (read the diff before committing it).
//
// Commands (nodes are n1, n2, ...):
//   cluster n1 n2 n3 [pre-vote=false] [check-quorum=false] [lease=0.1] [max-append=64]
//   tick n1 [times]            campaign n1 (ticks it until it leaves the follower role)
//   tick-all [times]           (every node ticks, then stabilize; prints only role changes)
//   process-ready n1 [n2 ...]  deliver-msgs n2 [n3 ...] (what is in flight to them)
//   stabilize                  (Readies and deliveries until nothing is left)
//   propose n1 data            propose-conf-change n1 add-learner|promote|remove n4
//   transfer-leadership n1 n2  read-index n1 ctx        lease-read n1
//   isolate n3   cut n1 n2 (both ways)   heal   drop [type]   add-node n4   restart n2
//   compact n1 index           status n1 [n2 ...]       raft-log n1
import type { RaftCore } from '../../src/raft/index.js';
import type { ConfChange, Entry, Message, Ready } from '../../src/raft/index.js';
import { Cluster, dec } from './helpers.js';

export interface Block {
  readonly line: number;
  readonly command: string;
  readonly expected: string;
}

/** Splits a transcript file into command blocks. */
export function parseTranscript(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 1}: a command must be followed by ----`);
    const out: string[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j] !== ''; j++) out.push(lines[j]!);
    blocks.push({ line: i + 1, command: line, expected: out.join('\n') });
    i = j;
  }
  return blocks;
}

/** Writes blocks back with new outputs, keeping comments in place. */
export function rewriteTranscript(text: string, outputs: ReadonlyMap<number, string>): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    if (line.trim() === '' || line.startsWith('#') || lines[i + 1] !== '----') continue;
    out.push('----');
    const actual = outputs.get(i + 1) ?? '';
    if (actual !== '') out.push(...actual.split('\n'));
    let j = i + 2;
    while (j < lines.length && lines[j] !== '') j++;
    i = j - 1;
  }
  return out.join('\n');
}

export class Interpreter {
  private cluster: Cluster | null = null;
  private out: string[] = [];

  run(command: string): string {
    this.out = [];
    const [verb, ...rest] = command.trim().split(/\s+/);
    const args = rest.filter((a) => !a.includes('='));
    const opts = Object.fromEntries(
      rest.filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]),
    );
    switch (verb) {
      case 'cluster':
        this.cluster = new Cluster(args, {
          preVote: opts['pre-vote'] !== 'false',
          checkQuorum: opts['check-quorum'] !== 'false',
          maxEntriesPerAppend: Number(opts['max-append'] ?? 64),
          ...(opts.lease ? { leaseReads: { maxClockDrift: Number(opts.lease) } } : {}),
        });
        break;
      case 'tick':
        this.c.tick(args[0]!, Number(args[1] ?? 1));
        break;
      case 'tick-all':
        this.tickAll(Number(args[0] ?? 1));
        break;
      case 'campaign': {
        const n = this.c.node(args[0]!);
        for (let i = 0; i < 100 && n.status().role === 'follower'; i++) n.tick();
        break;
      }
      case 'process-ready':
        for (const id of args) this.processReady(id);
        break;
      case 'deliver-msgs':
        for (const id of args) this.deliver((m) => m.to === id);
        break;
      case 'stabilize':
        this.stabilize();
        break;
      case 'propose':
        this.attempt(
          () => this.c.propose(args[0]!, args[1]!),
          (r) => `index ${r.index} term ${r.term}`,
        );
        break;
      case 'propose-conf-change': {
        const change: ConfChange = { kind: args[1] as ConfChange['kind'], node: args[2]! };
        this.attempt(
          () => this.c.proposeConf(args[0]!, change),
          (r) => `index ${r.index} term ${r.term}`,
        );
        break;
      }
      case 'transfer-leadership':
        this.attempt(
          () => this.c.node(args[0]!).transferLeadership(args[1]!),
          () => 'ok',
        );
        break;
      case 'read-index':
        this.attempt(
          () => this.c.node(args[0]!).readIndex(args[1]!),
          () => 'ok',
        );
        break;
      case 'lease-read': {
        const index = this.c.node(args[0]!).leaseReadIndex();
        this.out.push(index === null ? 'no lease: use ReadIndex' : `lease holds: read at index ${index}`);
        break;
      }
      case 'isolate':
        this.c.isolated.add(args[0]!);
        break;
      case 'cut':
        this.c.cut.add(`${args[0]}->${args[1]}`);
        this.c.cut.add(`${args[1]}->${args[0]}`);
        break;
      case 'heal':
        this.c.isolated.clear();
        this.c.cut.clear();
        break;
      case 'drop': {
        const dropped = this.c.take((m) => args[0] === undefined || m.type === args[0]);
        for (const l of grouped(dropped.map(describe))) this.out.push(`dropped ${l}`);
        break;
      }
      case 'add-node':
        this.c.addNode(args[0]!);
        break;
      case 'restart':
        this.c.restart(args[0]!);
        break;
      case 'compact': {
        const id = args[0]!;
        const index = Number(args[1]);
        const meta = this.c.node(id).compact(index, new TextEncoder().encode(`state@${index}`));
        if (meta) {
          const disk = this.c.disk(id);
          disk.snapshot = { meta, data: new TextEncoder().encode(`state@${index}`) };
          disk.entries = disk.entries.filter((e) => e.index > index);
        }
        this.out.push(meta ? `compacted to ${meta.index}:${meta.term}` : 'nothing to compact');
        break;
      }
      case 'status':
        for (const id of args) this.out.push(status(this.c.node(id)));
        break;
      case 'raft-log': {
        const log = this.c.logOf(args[0]!);
        this.out.push(log.length === 0 ? '(empty)' : log.map(([i, t]) => `${i}/${t}`).join(' '));
        break;
      }
      default:
        throw new Error(`unknown command ${verb}`);
    }
    return this.out.join('\n');
  }

  private get c(): Cluster {
    if (!this.cluster) throw new Error('no cluster yet: start with `cluster n1 n2 n3`');
    return this.cluster;
  }

  private attempt<T>(fn: () => T, show: (result: T) => string): void {
    try {
      this.out.push(show(fn()));
    } catch (error) {
      this.out.push(`error: ${(error as Error).message}`);
    }
  }

  private processReady(id: string): boolean {
    const n = this.c.node(id);
    if (!n.hasReady()) return false;
    // Peek at what the Ready will hold: Cluster.process takes it and follows the contract.
    const before = this.c.readies.get(id)!.length;
    this.c.process(id);
    const rd = this.c.readies.get(id)![before]!;
    this.out.push(`> ${id} handling Ready`, ...describeReady(rd).map((l) => `  ${l}`));
    return true;
  }

  private deliver(filter: (m: Message) => boolean): boolean {
    const msgs = this.c.take(filter);
    for (const m of msgs) {
      const blocked =
        this.c.isolated.has(m.from) || this.c.isolated.has(m.to) || this.c.cut.has(`${m.from}->${m.to}`);
      this.out.push(`${blocked ? 'dropped' : 'delivered'} ${describe(m)}`);
      this.c.deliver(m);
    }
    return msgs.length > 0;
  }

  private tickAll(times: number): void {
    const roles = new Map([...this.c.nodes].map(([id, n]) => [id, roleOf(n)]));
    for (let t = 1; t <= times; t++) {
      this.c.tickAll();
      const out = this.out;
      this.out = [];
      this.stabilize();
      this.out = out;
      for (const [id, n] of this.c.nodes) {
        const now = roleOf(n);
        if (now !== roles.get(id)) this.out.push(`tick ${t}: ${id} ${now}`);
        roles.set(id, now);
      }
    }
  }

  private stabilize(): void {
    for (let round = 0; round < 100; round++) {
      let any = false;
      for (const id of this.c.nodes.keys()) any = this.processReady(id) || any;
      any = this.deliver(() => true) || any;
      if (!any) return;
    }
    throw new Error('stabilize did not settle');
  }
}

function roleOf(n: RaftCore): string {
  const s = n.status();
  return `${s.role} term ${s.term} leader ${s.leader ?? '-'}`;
}

function status(n: RaftCore): string {
  const s = n.status();
  return `${s.id}: ${s.role} term ${s.term} leader ${s.leader ?? '-'} commit ${s.commit} applied ${s.applied} last ${s.lastIndex} voters [${s.config.voters.join(' ')}] learners [${s.config.learners.join(' ')}]`;
}

function entries(es: readonly Entry[]): string {
  return es.map((e) => `${e.index}/${e.term} ${dec(e)}`).join(', ');
}

function describeReady(rd: Ready): string[] {
  const lines: string[] = [];
  if (rd.softState)
    lines.push(`soft: ${rd.softState.role} term ${rd.softState.term} leader ${rd.softState.leader ?? '-'}`);
  if (rd.hardState)
    lines.push(
      `hard: term ${rd.hardState.term} vote ${rd.hardState.vote ?? '-'} commit ${rd.hardState.commit}`,
    );
  if (rd.snapshot)
    lines.push(
      `snapshot: ${rd.snapshot.meta.index}/${rd.snapshot.meta.term} voters [${rd.snapshot.meta.config.voters.join(' ')}]`,
    );
  if (rd.entries.length > 0) lines.push(`entries: ${entries(rd.entries)}`);
  if (rd.committedEntries.length > 0) lines.push(`committed: ${entries(rd.committedEntries)}`);
  for (const rs of rd.readStates) lines.push(`read state: ${rs.context} at ${rs.index}`);
  if (rd.messages.length > 0)
    lines.push('messages:', ...grouped(rd.messages.map(describe)).map((l) => `  ${l}`));
  return lines;
}

/** Identical lines once each, in order of first appearance, with a count when repeated. */
function grouped(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} (x${n})` : l));
}

export function describe(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term ${m.term}`;
  switch (m.type) {
    case 'vote-request':
      return `${head}${m.preVote ? ' pre-vote' : ''} last ${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
      return `${head}${m.preVote ? ' pre-vote' : ''} ${m.granted ? 'granted' : 'refused'}`;
    case 'append':
      return `${head} prev ${m.prevIndex}/${m.prevTerm} commit ${m.commit} entries [${entries(m.entries)}]`;
    case 'append-response':
      return `${head} ${m.success ? 'ok' : 'reject'} ${m.index}${m.rejectHint ? ` hint ${m.rejectHint.hintIndex}/${m.rejectHint.conflictTerm}` : ''}`;
    case 'heartbeat':
      return `${head} commit ${m.commit}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'heartbeat-response':
      return `${head}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'snapshot':
      return `${head} snapshot ${m.snapshot.meta.index}/${m.snapshot.meta.term}`;
    case 'timeout-now':
      return head;
    case 'read-index':
      return `${head} ctx ${m.context}`;
    case 'read-index-response':
      return `${head} ctx ${m.context} index ${m.index}`;
  }
}
