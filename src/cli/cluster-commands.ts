// The operator's commands: `status` (one row per member, like `etcdctl endpoint status -w
// table`), `members`, `leader`, `transfer-leadership [--to ID]`, `snapshot`, `backup -o FILE`.

import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ClusterClient, EndpointStatus, MemberStatus } from './client.js';
import { CliError, EXIT } from './client.js';
import type { Io } from './io.js';
import { table } from './table.js';

const dash = '-';

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return dash;
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** `0.42 ms`, `3.1 ms`, `92 ms` */
function millis(value: number): string {
  return `${value < 1 ? value.toFixed(2) : value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

/** The leader's view of a member's lag (null when no leader answered). */
function lagOf(id: string, leader: MemberStatus | null): string {
  if (!leader) return dash;
  if (leader.id === id) return '0';
  const peer = leader.peers.find((p) => p.id === id);
  return peer ? String(peer.lag) : dash;
}

function leaderOf(answers: readonly EndpointStatus[]): MemberStatus | null {
  return (
    answers
      .map((a) => a.status)
      .filter((s): s is MemberStatus => s?.role === 'leader')
      .sort((a, b) => b.term - a.term)[0] ?? null
  );
}

/** Says which members could not be reached, and why that is normal through a port-forward. */
function noteUnreachable(
  io: Io,
  discovered: readonly (EndpointStatus & { id: string })[],
  configured: number,
): void {
  const missing = discovered.filter((d) => d.status === null);
  if (missing.length === 0) return;
  io.err(
    `note: ${missing.map((m) => `${m.id} (${m.url}: ${m.error})`).join(', ')} could not be reached from here.` +
      (configured === 1
        ? ' Through `kubectl port-forward` only the forwarded pod answers; the others are listed from its view.'
        : '') +
      ' Pass every member with --endpoints to see them all.',
  );
}

export async function status(client: ClusterClient, io: Io): Promise<number> {
  const { configured, discovered } = await client.survey();
  const all = [...configured, ...discovered];
  const leader = leaderOf(all);
  if (io.json) {
    io.out(
      JSON.stringify(
        all.map((a) => ({ endpoint: a.url, status: a.status, error: a.error })),
        null,
        2,
      ),
    );
  } else {
    const rows = all.map((a) => {
      const s = a.status;
      if (!s)
        return [
          a.url,
          'id' in a ? String(a.id) : dash,
          dash,
          dash,
          dash,
          dash,
          dash,
          dash,
          dash,
          dash,
          a.error ?? '',
        ];
      return [
        a.url,
        s.id,
        s.role,
        String(s.term),
        s.leader ?? dash,
        String(s.commit),
        String(s.applied),
        lagOf(s.id, leader),
        s.role === 'leader' ? dash : ms(s.lastContactMs),
        s.fsyncP99Ms === null || s.fsyncP99Ms === undefined ? dash : millis(s.fsyncP99Ms),
        '',
      ];
    });
    io.out(
      table(
        [
          'endpoint',
          'id',
          'role',
          'term',
          'leader',
          'commit',
          'applied',
          'lag',
          'last contact',
          'fsync p99',
          'errors',
        ],
        rows,
      ),
    );
  }
  noteUnreachable(io, discovered, configured.length);
  return all.some((a) => a.status !== null) ? EXIT.ok : EXIT.unavailable;
}

export async function members(client: ClusterClient, io: Io): Promise<number> {
  const { configured, discovered } = await client.survey();
  const all = [...configured, ...discovered];
  const view = leaderOf(all) ?? all.find((a) => a.status !== null)?.status ?? null;
  if (!view)
    throw new CliError(
      `no endpoint answered (${configured.map((c) => `${c.url}: ${c.error}`).join('; ')})`,
      EXIT.unavailable,
    );
  const reachable = new Map(all.filter((a) => a.status).map((a) => [a.status!.id, a.url]));
  const ids = [...view.config.voters, ...view.config.learners];
  const rows = ids.map((id) => ({
    id,
    kind: view.config.learners.includes(id) ? 'learner' : 'voter',
    api: view.apiAddresses?.[id] ?? null,
    pod: all.find((a) => a.status?.id === id)?.status?.pod ?? null,
    leader: view.leader === id,
    reachable: reachable.has(id),
  }));
  if (io.json) io.out(JSON.stringify(rows, null, 2));
  else
    io.out(
      table(
        ['id', 'kind', 'leader', 'api', 'pod', 'reachable'],
        rows.map((r) => [
          r.id,
          r.kind,
          r.leader ? 'yes' : '',
          r.api ?? dash,
          r.pod ?? dash,
          r.reachable ? 'yes' : 'no',
        ]),
      ),
    );
  noteUnreachable(io, discovered, configured.length);
  return EXIT.ok;
}

export async function leader(client: ClusterClient, io: Io): Promise<number> {
  const deadline = Date.now() + client.timeoutMs;
  for (;;) {
    const { configured, discovered } = await client.survey();
    const all = [...configured, ...discovered];
    const lead = leaderOf(all);
    if (lead) {
      const url = all.find((a) => a.status === lead)?.url ?? null;
      if (io.json) io.out(JSON.stringify({ id: lead.id, term: lead.term, api: url }));
      else io.out(`${lead.id} ${url ?? ''} (term ${lead.term})`);
      return EXIT.ok;
    }
    // Through a port-forward the leader cannot be asked: a follower still names it. A leader
    // named at an address that was tried and did not answer is gone (an election is coming).
    const named = all.map((a) => a.status).find((s) => s?.leader);
    const unreachable = new Set(all.filter((a) => a.status === null).map((a) => a.url));
    if (named?.leader && named.leaderApi !== null && !unreachable.has(named.leaderApi)) {
      if (io.json)
        io.out(
          JSON.stringify({ id: named.leader, term: named.term, api: named.leaderApi, seenBy: named.id }),
        );
      else io.out(`${named.leader} ${named.leaderApi} (term ${named.term}, as ${named.id} sees it)`);
      return EXIT.ok;
    }
    if (Date.now() >= deadline)
      throw new CliError(
        'no leader right now (an election is running, or there is no quorum)',
        EXIT.unavailable,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function transferLeadership(
  client: ClusterClient,
  io: Io,
  to: string | undefined,
): Promise<number> {
  const answer = await client.json<{ from: string; to: string }>('POST', '/cluster/transfer-leadership', {
    preferLeader: true,
    ...(to === undefined ? {} : { body: { to } }),
  });
  if (io.json) io.out(JSON.stringify(answer));
  else io.out(`leadership moved from ${answer.from} to ${answer.to}`);
  return EXIT.ok;
}

export async function snapshot(client: ClusterClient, io: Io): Promise<number> {
  const answer = await client.json<{ id: string; index: number; term: number }>('POST', '/cluster/snapshot');
  if (io.json) io.out(JSON.stringify(answer));
  else io.out(`${answer.id} took a snapshot at index ${answer.index} (term ${answer.term})`);
  return EXIT.ok;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Streams `/cluster/backup` to FILE (via FILE.part), with a progress bar on a terminal, and checks the hash. */
export async function backup(client: ClusterClient, io: Io, file: string | undefined): Promise<number> {
  if (!file) throw new CliError('backup needs -o FILE', EXIT.usage);
  const res = await client.request<Readable>('GET', '/cluster/backup', { responseType: 'stream' });
  const total = Number(res.headers['content-length'] ?? 0);
  const expected = String(res.headers['x-raft3d-state-hash'] ?? '');
  const index = String(res.headers['x-raft3d-applied-index'] ?? '?');
  const part = `${file}.part`;
  const hash = createHash('sha256');
  let done = 0;
  const progress = (final: boolean): void => {
    if (!io.progress) return;
    const width = 30;
    const share = total > 0 ? Math.min(1, done / total) : final ? 1 : 0;
    const filled = Math.round(share * width);
    io.progress(
      `backup [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(share * 100)}% ${size(done)}${total ? ` of ${size(total)}` : ''}`,
      final,
    );
  };
  const out = createWriteStream(part);
  try {
    for await (const chunk of res.data) {
      const bytes = Buffer.from(chunk as Buffer);
      hash.update(bytes);
      done += bytes.length;
      if (!out.write(bytes)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      progress(false);
    }
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  } catch (error) {
    out.destroy();
    rmSync(part, { force: true });
    throw new CliError(
      `backup interrupted after ${size(done)}: ${(error as Error).message}`,
      EXIT.unavailable,
    );
  }
  progress(true);
  const got = hash.digest('hex');
  if (expected !== '' && got !== expected) {
    rmSync(part, { force: true });
    throw new CliError(
      `backup corrupted in transit: sha-256 ${got}, the server said ${expected}`,
      EXIT.unavailable,
    );
  }
  renameSync(part, file);
  if (io.json) io.out(JSON.stringify({ file, bytes: done, appliedIndex: Number(index), sha256: got }));
  else io.out(`wrote ${file}: ${size(done)}, state at index ${index}, sha-256 ${got}`);
  return EXIT.ok;
}
