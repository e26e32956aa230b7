// How print-shop commands travel inside Raft log entries: UTF-8 JSON with a fixed field
// order (so one command always encodes to the same bytes). Decoding validates the shape
// and throws `CommandDecodeError` on anything that is not a well-formed command.

import { isoTime } from './time.js';
import type { ShopCommand, ShopErrorCode } from './types.js';
import { commandProblem } from './validate.js';

/** Its code is a shop error code: an encode the proposer refuses is answered like the FSM's refusal. */
export class CommandDecodeError extends Error {
  readonly code = 'invalid_command' satisfies ShopErrorCode;
  constructor(message: string) {
    super(message);
    this.name = 'CommandDecodeError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A copy of `command` holding exactly its known fields, in a fixed order. */
export function canonicalCommand(command: ShopCommand): ShopCommand {
  const idempotency = command.idempotency
    ? { idempotency: { key: command.idempotency.key, fingerprint: command.idempotency.fingerprint } }
    : {};
  switch (command.type) {
    case 'printer.create': {
      const { id, company, model } = command.printer;
      return { type: command.type, at: command.at, ...idempotency, printer: { id, company, model } };
    }
    case 'filament.create': {
      const f = command.filament;
      return {
        type: command.type,
        at: command.at,
        ...idempotency,
        filament: {
          id: f.id,
          type: f.type,
          color: f.color,
          total_weight_in_grams: f.total_weight_in_grams,
          remaining_weight_in_grams: f.remaining_weight_in_grams,
        },
      };
    }
    case 'print_job.create': {
      const j = command.job;
      return {
        type: command.type,
        at: command.at,
        ...idempotency,
        job: {
          id: j.id,
          printer_id: j.printer_id,
          filament_id: j.filament_id,
          filepath: j.filepath,
          print_weight_in_grams: j.print_weight_in_grams,
        },
      };
    }
    case 'print_job.status':
      return { type: command.type, at: command.at, ...idempotency, id: command.id, status: command.status };
  }
}

/** Encodes the command's known fields (extra fields are dropped); throws if it is malformed. */
export function encodeCommand(command: ShopCommand): Uint8Array {
  let canonical: ShopCommand | undefined;
  try {
    canonical = canonicalCommand(command);
  } catch {
    canonical = undefined; // a payload that is not an object: reported below
  }
  const problem = commandProblem(canonical ?? command);
  if (problem !== null) throw new CommandDecodeError(`cannot encode an invalid command: ${problem}`);
  return encoder.encode(JSON.stringify(canonical));
}

export function decodeCommand(bytes: Uint8Array): ShopCommand {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new CommandDecodeError('command bytes are not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CommandDecodeError(`command bytes are not JSON (${bytes.length} bytes)`);
  }
  const problem = commandProblem(value);
  if (problem !== null) throw new CommandDecodeError(`not a print-shop command: ${problem}`);
  return value as ShopCommand;
}

/** Fits the node's `CommandCodec<ShopCommand>`. */
export const printShopCodec = { encode: encodeCommand, decode: decodeCommand } as const;

/** The event-log view of a command: its type and what it carries (no idempotency data). */
export function describeCommand(command: ShopCommand): { type: string; payload: unknown } {
  const c = canonicalCommand(command);
  const at = isoTime(c.at);
  switch (c.type) {
    case 'printer.create':
      return { type: c.type, payload: { ...c.printer, at } };
    case 'filament.create':
      return { type: c.type, payload: { ...c.filament, at } };
    case 'print_job.create':
      return { type: c.type, payload: { ...c.job, at } };
    case 'print_job.status':
      return { type: c.type, payload: { id: c.id, status: c.status, at } };
  }
}
