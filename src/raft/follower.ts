// The follower's side of replication: appends (with the conflict hint for fast
// backtracking), heartbeats, installing a leader's snapshot, learning the commit index, and
// the answers that tell a sender of an older term that it is stale.

import { invariant } from './errors.js';
import { Elections } from './elections.js';
import type {
  AppendRequest,
  AppendResponse,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  LogIndex,
  Message,
  NodeId,
  ReadIndexRequest,
} from './messages.js';

export abstract class FollowerSide extends Elections {
  /** A message from an older term: tell the sender our term where that helps, never obey it. */
  protected answerStale(m: Message): void {
    if (m.type === 'append' || m.type === 'heartbeat') {
      // A deposed leader (e.g. back from a partition) learns it must step down.
      this.respondAppend(m.from, false, 0);
    } else if (m.type === 'vote-request') {
      this.send({
        type: 'vote-response',
        from: this.id,
        to: m.from,
        term: this.term,
        preVote: m.preVote,
        granted: false,
      });
    } else if (m.type === 'read-index') {
      this.refuseRead(m);
    }
  }

  /** Index -1 tells the asking follower that this node cannot serve its ReadIndex. */
  protected refuseRead(m: ReadIndexRequest): void {
    this.send({
      type: 'read-index-response',
      from: this.id,
      to: m.from,
      term: this.term,
      context: m.context,
      index: -1,
    });
  }

  protected handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.commit) {
      // Everything up to our commit index matches any leader's log: say so.
      this.respondAppend(m.from, true, this.commit);
      return;
    }
    if (!this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      const probe = Math.min(m.prevIndex, this.log.lastIndex());
      const hintIndex = this.log.findConflictByTerm(probe, m.prevTerm);
      const conflictTerm = this.log.term(hintIndex) ?? 0;
      this.send({
        type: 'append-response',
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        index: m.prevIndex,
        rejectHint: { conflictTerm, hintIndex },
      });
      return;
    }
    const lastNew = m.prevIndex + m.entries.length;
    const conflict = this.log.findConflict(m.entries);
    if (conflict !== 0) {
      invariant(
        conflict > this.commit,
        () => `append from ${m.from} would overwrite committed entry ${conflict} (commit ${this.commit})`,
      );
      const fresh = m.entries.slice(conflict - m.prevIndex - 1);
      if (conflict <= this.log.lastIndex()) this.membership.truncatedFrom(conflict);
      this.log.truncateAndAppend(fresh);
      for (const e of fresh) if (e.type === 'config') this.membership.appended(e);
    }
    this.commitTo(Math.min(m.commit, lastNew));
    this.respondAppend(m.from, true, lastNew);
  }

  protected handleHeartbeat(m: Heartbeat): void {
    this.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const response: HeartbeatResponse = {
      type: 'heartbeat-response',
      from: this.id,
      to: m.from,
      term: this.term,
      context: m.context,
    };
    this.send(response);
  }

  protected handleSnapshot(m: InstallSnapshot): void {
    const meta = m.snapshot.meta;
    if (meta.index <= this.commit) {
      this.respondAppend(m.from, true, this.commit);
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // Our log already holds the snapshot's last entry: keep what follows it.
      this.commitTo(meta.index);
      this.respondAppend(m.from, true, this.commit);
      return;
    }
    this.trace('restore-snapshot', { index: meta.index, term: meta.term, from: m.from });
    this.log.restore(m.snapshot);
    this.membership.reset(meta);
    this.commit = meta.index;
    this.respondAppend(m.from, true, meta.index);
  }

  protected respondAppend(to: NodeId, success: boolean, index: LogIndex): void {
    const response: AppendResponse = {
      type: 'append-response',
      from: this.id,
      to,
      term: this.term,
      success,
      index,
    };
    this.send(response);
  }

  protected commitTo(index: LogIndex): void {
    if (index <= this.commit) return;
    invariant(
      index <= this.log.lastIndex(),
      () => `commit ${index} beyond lastIndex ${this.log.lastIndex()}`,
    );
    this.commit = index;
  }
}
