// What the console knows about the cluster: every member's own `/cluster/status`, asked of
// each member directly (each on its own loop, so a dead one does not slow the others), and
// a timeline merged from every member's `/cluster/timeline` plus what the console itself saw
// (a member stopped answering, answers again). It starts from the page's origin and learns
// the others from `apiAddresses`, so it keeps going when the member it was loaded from dies.

import type { MemberStatus, TimelineEntry } from './api.js';
import { call } from './api.js';

interface Endpoint {
  readonly url: string;
  id: string | null;
  status: MemberStatus | null;
  /** Last successful and failed poll (ms since epoch). */
  okAt: number;
  failedAt: number;
  error: string | null;
  /** Another URL of the same member is polled instead. */
  duplicate: boolean;
}

export interface TimelineItem {
  readonly at: number;
  readonly node: string;
  readonly kind: 'election' | 'leader' | 'stepdown' | 'started' | 'lost' | 'back';
  readonly text: string;
}

export interface MemberRow {
  readonly id: string;
  readonly url: string | null;
  readonly reachable: boolean;
  /** Its own latest answer (possibly old when unreachable). */
  readonly status: MemberStatus | null;
  readonly voter: boolean;
  readonly isLeader: boolean;
  /** Entries behind the leader's last index, from the leader's view. */
  readonly lag: number | null;
  /** Since it last heard from the leader (a follower's own view, else the leader's view of it). */
  readonly lastContactMs: number | null;
  readonly error: string | null;
}

export interface ClusterView {
  readonly leader: { readonly id: string; readonly term: number } | null;
  readonly members: readonly MemberRow[];
  readonly answering: number;
}

const STATUS_TIMEOUT_MS = 1500;
/** Poll period while a failover is under way, so the new leader shows up as soon as it is elected. */
const HURRY_MS = 100;
const HURRY_FOR_MS = 5000;

export class ClusterWatcher {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly timeline = new Map<string, TimelineItem>();
  private readonly listeners: (() => void)[] = [];
  /** Poll period (ms); the console slows it down when the cluster view is hidden. */
  interval = 500;
  /** Until then (ms since epoch) every member is polled every HURRY_MS: a member was lost or no leader is known. */
  private hurryUntil = 0;

  constructor(origin: string) {
    this.add(origin);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private add(url: string): void {
    if (this.endpoints.has(url)) return;
    const ep: Endpoint = { url, id: null, status: null, okAt: 0, failedAt: 0, error: null, duplicate: false };
    this.endpoints.set(url, ep);
    void this.poll(ep);
  }

  private async poll(ep: Endpoint): Promise<void> {
    for (;;) {
      if (ep.duplicate) return;
      await this.pollOnce(ep);
      const wait = Date.now() < this.hurryUntil ? HURRY_MS : this.interval;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Polls faster for a while: a failover is probably under way. */
  private hurry(): void {
    this.hurryUntil = Date.now() + HURRY_FOR_MS;
  }

  /** Polls every endpoint now (say, after the shop lost its connection). */
  refresh(): Promise<void> {
    this.hurry();
    return Promise.all(
      [...this.endpoints.values()].filter((ep) => !ep.duplicate).map((ep) => this.pollOnce(ep)),
    ).then(() => undefined);
  }

  private async pollOnce(ep: Endpoint): Promise<void> {
    const wasUp = ep.okAt > ep.failedAt;
    try {
      const status = await call<MemberStatus>(ep.url, 'GET', '/cluster/status', {
        timeoutMs: STATUS_TIMEOUT_MS,
      });
      const previous = ep.status;
      ep.status = status;
      ep.id = status.id;
      ep.okAt = Date.now();
      ep.error = null;
      if (this.markDuplicate(ep)) return;
      if (!wasUp && ep.failedAt > 0) this.observe(ep, 'back', `${status.id} answers again`);
      if (previous === null || previous.term !== status.term || !wasUp) void this.loadTimeline(ep);
      for (const url of Object.values(status.apiAddresses)) this.add(url);
    } catch (error) {
      ep.failedAt = Date.now();
      ep.error = (error as Error).message;
      if (wasUp) {
        this.observe(ep, 'lost', `${ep.id ?? ep.url} stopped answering`);
        this.hurry();
      }
    }
    if (this.view().leader === null && ep.okAt > 0) this.hurry();
    this.notify();
  }

  /** A second URL of a member already polled under another URL (the page's origin wins). */
  private markDuplicate(ep: Endpoint): boolean {
    for (const other of this.endpoints.values()) {
      if (other !== ep && !other.duplicate && other.id === ep.id && other.okAt > 0) {
        ep.duplicate = true;
        return true;
      }
    }
    return false;
  }

  private observe(ep: Endpoint, kind: 'lost' | 'back', text: string): void {
    const at = Date.now();
    this.timeline.set(`console|${ep.url}|${at}|${kind}`, { at, node: ep.id ?? ep.url, kind, text });
  }

  private async loadTimeline(ep: Endpoint): Promise<void> {
    try {
      const { id, changes } = await call<{ id: string; changes: TimelineEntry[] }>(
        ep.url,
        'GET',
        '/cluster/timeline',
        {
          timeoutMs: STATUS_TIMEOUT_MS,
        },
      );
      for (const entry of changes) {
        const item = describe(id, entry);
        if (item) this.timeline.set(`${id}|${entry.at}|${entry.kind}|${entry.role}|${entry.term}`, item);
      }
      this.notify();
    } catch {
      // The next poll retries when the term moves again; the table does not depend on it.
    }
  }

  /** Members believed reachable, the leader first: where the shop may send its requests. */
  reachable(): string[] {
    const view = this.view();
    return view.members
      .filter((m) => m.reachable && m.url !== null)
      .sort((a, b) => Number(b.isLeader) - Number(a.isLeader))
      .map((m) => m.url as string);
  }

  timelineItems(): TimelineItem[] {
    return [...this.timeline.values()].sort((a, b) => b.at - a.at);
  }

  view(): ClusterView {
    const live = [...this.endpoints.values()].filter((ep) => !ep.duplicate && ep.status !== null);
    const up = live.filter((ep) => ep.okAt > ep.failedAt);
    const leaderEp = up
      .filter((ep) => ep.status?.role === 'leader')
      .sort((a, b) => (b.status?.term ?? 0) - (a.status?.term ?? 0))[0];
    const leader = leaderEp?.status ?? null;
    // The membership as the most advanced member that answers sees it.
    const freshest = [...up].sort(
      (a, b) =>
        (b.status?.term ?? 0) - (a.status?.term ?? 0) || (b.status?.commit ?? 0) - (a.status?.commit ?? 0),
    )[0]?.status;
    const config = (leader ?? freshest)?.config ?? { voters: [], learners: [] };
    const ids = new Set<string>([...config.voters, ...config.learners]);
    for (const ep of live) if (ep.id !== null) ids.add(ep.id);
    const members = [...ids].sort(byMemberId).map((id): MemberRow => {
      const ep = live.find((e) => e.id === id);
      const reachable = ep !== undefined && ep.okAt > ep.failedAt;
      const status = ep?.status ?? null;
      const peer = leader?.peers.find((p) => p.id === id);
      const isLeader = leader !== null && leader.id === id;
      const url = ep?.url ?? (leader ?? freshest)?.apiAddresses[id] ?? null;
      return {
        id,
        url,
        reachable,
        status,
        voter: !config.learners.includes(id),
        isLeader,
        lag: isLeader ? 0 : (peer?.lag ?? null),
        lastContactMs: isLeader
          ? null
          : reachable
            ? (status?.lastContactMs ?? null)
            : (peer?.lastContactMs ?? null),
        error: reachable ? null : (ep?.error ?? 'not reached yet'),
      };
    });
    return {
      leader: leader ? { id: leader.id, term: leader.term } : null,
      members,
      answering: members.filter((m) => m.reachable).length,
    };
  }
}

function byMemberId(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** A member's role change as a line of the timeline (null: not worth a line). */
function describe(node: string, entry: TimelineEntry): TimelineItem | null {
  const at = Date.parse(entry.at);
  if (entry.kind === 'started')
    return { at, node, kind: 'started', text: `${node} started (term ${entry.term})` };
  if (entry.role === 'candidate')
    return { at, node, kind: 'election', text: `${node} started an election for term ${entry.term}` };
  if (entry.role === 'leader')
    return { at, node, kind: 'leader', text: `${node} became leader in term ${entry.term}` };
  if (entry.previousRole === 'leader')
    return { at, node, kind: 'stepdown', text: `${node} stepped down in term ${entry.term}` };
  return null;
}
