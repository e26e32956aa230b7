// Where the CLI writes: results on stdout, notes and errors on stderr, a progress line on
// a terminal only. Tests pass their own to capture everything.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Redraws one progress line (terminals only; null elsewhere). */
  readonly progress: ((line: string, final: boolean) => void) | null;
  /** --json: machine-readable output. */
  json: boolean;
}

export function processIo(): Io {
  const tty = process.stderr.isTTY === true;
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    progress: tty ? (line, final) => process.stderr.write(`\r${line}${final ? '\n' : ''}`) : null,
    json: false,
  };
}
