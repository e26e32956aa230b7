// `raft3d`: the command-line client (package.json "bin"; bin/raft3d.js runs it from dist/
// when built, else from source through tsx). `run` parses the command line, runs one
// command against the cluster and returns the exit code; it never prints a stack trace.

import { parseArgs } from 'node:util';
import { ClusterClient, CliError, EXIT } from './client.js';
import { backup, leader, members, snapshot, status, transferLeadership } from './cluster-commands.js';
import type { Io } from './io.js';
import { processIo } from './io.js';
import { SHOP_KINDS, jobCommand, shopCommand } from './shop-commands.js';
import { watch } from './watch.js';

export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:8080,http://127.0.0.1:8081,http://127.0.0.1:8082';

export const HELP = `usage: raft3d [--endpoints URL,...] [--token T] [--json] [--timeout S] <command>

cluster
  status                          every member: role, term, leader, commit, applied, lag, last contact, fsync p99
  members                         ids, voter or learner, API address, pod, reachable from here
  leader                          the leader's id, address and term
  transfer-leadership [--to ID]   hand leadership to ID (default: the most caught-up voter)   [admin]
  snapshot                        take a snapshot on the member that answers                  [admin]
  backup -o FILE                  download a backup (progress bar), checked against its sha-256 [admin]
  watch [--count N] [--after I]   applied changes as they happen, one line each

shop
  printers  list | get ID | add --company C --model M [--id ID]
  filaments list | get ID | add --type PLA|PETG|ABS|TPU --color C --total G [--remaining G] [--id ID]
  jobs      list [--status S] | get ID | add --printer P --filament F --file PATH --weight G [--id ID]
  job       start|done|cancel ID

options
  --endpoints URL,...   members to talk to (env RAFT3D_ENDPOINTS; default ${DEFAULT_ENDPOINTS}).
                        Requests go to the leader when it is reachable, else to any member (which
                        forwards); a member that does not answer is skipped, like etcdctl.
  --token T             admin token for [admin] commands (env RAFT3D_TOKEN)
  --json                machine-readable output
  --timeout S           give up after S seconds without a member that can serve (default 5)

exit codes
  0 done   1 the cluster refused the request (bad input, unknown id, a rule)   2 bad command line
  3 no member answered, or no leader/quorum before --timeout   4 admin token missing or wrong`;

const OPTIONS = {
  endpoints: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  to: { type: 'string' },
  output: { type: 'string', short: 'o' },
  count: { type: 'string' },
  after: { type: 'string' },
  status: { type: 'string' },
  id: { type: 'string' },
  company: { type: 'string' },
  model: { type: 'string' },
  type: { type: 'string' },
  color: { type: 'string' },
  total: { type: 'string' },
  remaining: { type: 'string' },
  printer: { type: 'string' },
  filament: { type: 'string' },
  file: { type: 'string' },
  weight: { type: 'string' },
} as const;

function count(raw: string | undefined, flag: string): number | null {
  if (raw === undefined) return null;
  if (!/^\d{1,15}$/.test(raw)) throw new CliError(`${flag} must be a whole number`, EXIT.usage);
  return Number(raw);
}

export async function run(
  argv: readonly string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new CliError(`${(error as Error).message} (raft3d --help lists the commands)`, EXIT.usage);
    }
    const { values, positionals } = parsed;
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      io.out(HELP);
      return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    io.json = values.json === true;
    const timeout = Number(values.timeout ?? '5');
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new CliError('--timeout must be a number of seconds', EXIT.usage);
    const client = new ClusterClient({
      endpoints: (values.endpoints ?? env['RAFT3D_ENDPOINTS'] ?? DEFAULT_ENDPOINTS)
        .split(/[\s,]+/)
        .filter(Boolean),
      token: values.token ?? env['RAFT3D_TOKEN'] ?? null,
      timeoutMs: timeout * 1000,
      note: (line) => io.err(`note: ${line}`),
    });
    switch (command) {
      case 'status':
        return await status(client, io);
      case 'members':
        return await members(client, io);
      case 'leader':
        return await leader(client, io);
      case 'transfer-leadership':
        return await transferLeadership(client, io, values.to);
      case 'snapshot':
        return await snapshot(client, io);
      case 'backup':
        return await backup(client, io, values.output);
      case 'watch':
        return await watch(client, io, {
          count: count(values.count, '--count'),
          after: count(values.after, '--after'),
        });
      case 'job':
        return await jobCommand(client, io, rest[0], rest[1]);
      default:
        if (SHOP_KINDS.includes(command))
          return await shopCommand(client, io, command, rest[0], rest.slice(1), values);
        throw new CliError(
          `unknown command ${JSON.stringify(command)} (raft3d --help lists the commands)`,
          EXIT.usage,
        );
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`raft3d: ${error.message}`);
      return error.exitCode;
    }
    io.err(`raft3d: unexpected error: ${(error as Error).message ?? String(error)}`);
    return EXIT.unavailable;
  }
}

/** Entry point for bin/raft3d.js. */
export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2), processIo());
}
