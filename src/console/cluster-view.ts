// The cluster view: a summary line naming the leader, one table row per member (role, term,
// commit/applied, lag, last contact, fsync p99, voter or learner, pod, whether it answers),
// and the timeline of elections and leader changes, newest first.

import type { ClusterView, ClusterWatcher, MemberRow, TimelineItem } from './cluster-watch.js';
import { byId, fill, h } from './dom.js';
import { clock, duration } from './format.js';

const TIMELINE_LINES = 40;

export function renderCluster(watcher: ClusterWatcher): void {
  const view = watcher.view();
  renderSummary(view);
  renderMembers(view);
  renderTimeline(watcher.timelineItems());
}

function renderSummary(view: ClusterView): void {
  const summary = byId('cluster-summary');
  summary.dataset['leader'] = view.leader?.id ?? '';
  const total = view.members.length;
  fill(
    summary,
    view.leader
      ? h('strong', { class: 'leader-name' }, `Leader: ${view.leader.id}`)
      : h('strong', { class: 'no-leader' }, 'No leader (election in progress or no quorum)'),
    view.leader ? ` · term ${view.leader.term}` : '',
    ` · ${view.answering} of ${total} member${total === 1 ? '' : 's'} answering`,
  );
}

function cell(value: string | number | null, label?: string): HTMLTableCellElement {
  return h('td', label ? { 'data-label': label } : {}, value === null ? '—' : String(value));
}

function roleBadge(row: MemberRow): HTMLElement {
  if (!row.reachable) return h('span', { class: 'badge badge-down' }, 'no answer');
  const role = row.status?.role ?? 'unknown';
  if (row.isLeader)
    return h('span', { class: 'badge badge-leader' }, h('span', { 'aria-hidden': 'true' }, '★ '), 'leader');
  return h('span', { class: `badge badge-${role}` }, role);
}

function memberRow(row: MemberRow): HTMLTableRowElement {
  const s = row.status;
  return h(
    'tr',
    {
      class: [row.isLeader ? 'is-leader' : '', row.reachable ? '' : 'is-down'].join(' ').trim() || null,
      'data-member': row.id,
      'data-role': row.reachable ? (s?.role ?? '') : 'down',
    },
    h(
      'th',
      { scope: 'row' },
      row.id,
      s?.pod && s.pod !== row.id ? h('span', { class: 'pod' }, ` pod ${s.pod}`) : '',
      row.url ? h('span', { class: 'url' }, row.url) : '',
    ),
    h('td', { 'data-label': 'Role' }, roleBadge(row)),
    cell(row.voter ? 'voter' : 'learner', 'Vote'),
    cell(s?.term ?? null, 'Term'),
    cell(s ? `${s.commit} / ${s.applied}` : null, 'Commit / applied'),
    cell(row.lag, 'Lag'),
    cell(
      row.isLeader ? 'leader' : row.lastContactMs === null ? null : `${duration(row.lastContactMs)} ago`,
      'Last contact',
    ),
    cell(s?.fsyncP99Ms === null || s?.fsyncP99Ms === undefined ? null : millis(s.fsyncP99Ms), 'fsync p99'),
    h('td', { 'data-label': 'Answers', title: row.error }, row.reachable ? 'yes' : 'no'),
  );
}

/** `0.42 ms`, `3.1 ms`, `92 ms` */
function millis(ms: number): string {
  return `${ms < 1 ? ms.toFixed(2) : ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

function renderMembers(view: ClusterView): void {
  fill(byId('members'), view.members.map(memberRow));
}

function renderTimeline(items: readonly TimelineItem[]): void {
  const list = byId('timeline');
  const shown = items.slice(0, TIMELINE_LINES);
  if (shown.length === 0) {
    fill(list, h('li', { class: 'empty' }, 'Nothing yet.'));
    return;
  }
  fill(
    list,
    shown.map((item) =>
      h(
        'li',
        { class: `tl tl-${item.kind}` },
        h('time', { datetime: new Date(item.at).toISOString() }, clock(item.at)),
        ' ',
        item.text,
      ),
    ),
  );
}
