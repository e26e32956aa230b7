// Cluster membership: single-server changes (add a learner, promote it, remove a member).
// A configuration takes effect as soon as its entry is appended (dissertation §4.1), so a
// truncated config entry must roll the configuration back: we keep the configuration at
// the snapshot plus one checkpoint per config entry still in the log.

import type { ConfChange, ConfState, ConfigEntry, LogIndex, NodeId, SnapshotMeta } from './messages.js';

export interface ConfigPoint {
  /** Index of the config entry that produced this configuration (the snapshot index for the base). */
  readonly index: LogIndex;
  readonly conf: ConfState;
  readonly context: Readonly<Record<NodeId, string>>;
}

/** Applies a change; total (a change that makes no sense for `conf` leaves it as it is). */
export function applyChange(point: ConfigPoint, change: ConfChange, index: LogIndex): ConfigPoint {
  const voters = point.conf.voters.filter((id) => id !== change.node);
  const learners = point.conf.learners.filter((id) => id !== change.node);
  const context: Record<NodeId, string> = { ...point.context };
  switch (change.kind) {
    case 'add-learner':
      if (point.conf.voters.includes(change.node)) voters.push(change.node);
      else learners.push(change.node);
      break;
    case 'promote':
      if (point.conf.voters.includes(change.node) || point.conf.learners.includes(change.node))
        voters.push(change.node);
      break;
    case 'remove':
      delete context[change.node];
      break;
  }
  if (change.kind !== 'remove' && change.context !== undefined) context[change.node] = change.context;
  return { index, conf: { voters, learners }, context };
}

/** Why `change` cannot be proposed against `conf`, or null when it can. */
export function validateChange(conf: ConfState, change: ConfChange): string | null {
  const isVoter = conf.voters.includes(change.node);
  const isLearner = conf.learners.includes(change.node);
  switch (change.kind) {
    case 'add-learner':
      return isVoter || isLearner ? `${change.node} is already a member` : null;
    case 'promote':
      return isLearner ? null : `${change.node} is not a learner`;
    case 'remove':
      if (!isVoter && !isLearner) return `${change.node} is not a member`;
      if (isVoter && conf.voters.length === 1) return `cannot remove the last voter ${change.node}`;
      return null;
  }
}

export class Membership {
  private base: ConfigPoint;
  private points: ConfigPoint[] = [];

  constructor(base: ConfigPoint) {
    this.base = base;
  }

  static fromSnapshot(meta: SnapshotMeta): Membership {
    return new Membership({ index: meta.index, conf: meta.config, context: meta.configContext });
  }

  current(): ConfigPoint {
    return this.points[this.points.length - 1] ?? this.base;
  }

  /** Index of the latest config entry still in the log (or of the base). */
  lastChangeIndex(): LogIndex {
    return this.current().index;
  }

  /** A config entry was appended: it takes effect now. */
  appended(entry: ConfigEntry): void {
    this.points.push(applyChange(this.current(), entry.change, entry.index));
  }

  /** The log was truncated from `index` on: config entries there never happened. */
  truncatedFrom(index: LogIndex): void {
    while (this.points.length > 0 && this.points[this.points.length - 1]!.index >= index) this.points.pop();
  }

  /** The configuration in force at `index` (for a snapshot at `index`). */
  at(index: LogIndex): ConfigPoint {
    let found = this.base;
    for (const p of this.points) {
      if (p.index > index) break;
      found = p;
    }
    return { ...found, index };
  }

  /** The log was compacted up to `index`: the configuration there becomes the base. */
  compactedTo(index: LogIndex): void {
    this.base = this.at(index);
    this.points = this.points.filter((p) => p.index > index);
  }

  /** A snapshot replaced the whole log. */
  reset(meta: SnapshotMeta): void {
    this.base = { index: meta.index, conf: meta.config, context: meta.configContext };
    this.points = [];
  }
}
