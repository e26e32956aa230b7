// The simulation's state machine: a few registers and a counter, keyed by name. Commands
// carry the client operation's id so the history can be matched to the log.
import type { LogIndex } from '../../src/raft/messages.js';

export type SimCommand =
  | { readonly op: 'write'; readonly key: string; readonly value: number; readonly id: number }
  | { readonly op: 'add'; readonly key: string; readonly delta: number; readonly id: number }
  | { readonly op: 'probe'; readonly id: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: SimCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeCommand(data: Uint8Array): SimCommand {
  return JSON.parse(decoder.decode(data)) as SimCommand;
}

export class SimFsm {
  private values = new Map<string, number>();
  applied: LogIndex = 0;

  apply(index: LogIndex, command: SimCommand | null): void {
    if (index !== this.applied + 1) throw new Error(`FSM applies index ${index} after ${this.applied}`);
    this.applied = index;
    if (!command) return;
    if (command.op === 'write') this.values.set(command.key, command.value);
    else if (command.op === 'add')
      this.values.set(command.key, (this.values.get(command.key) ?? 0) + command.delta);
  }

  read(key: string): number | null {
    return this.values.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ applied: this.applied, values: [...this.values] }));
  }

  restore(data: Uint8Array, index: LogIndex): void {
    const parsed = JSON.parse(decoder.decode(data)) as { applied: number; values: [string, number][] };
    if (parsed.applied !== index)
      throw new Error(`snapshot data is at applied ${parsed.applied} but its meta says ${index}`);
    this.values = new Map(parsed.values);
    this.applied = index;
  }
}
