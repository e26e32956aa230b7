// The slice of the Raft node that the Kubernetes integration needs. src/node's RaftNode
// satisfies it structurally; tests drive the labeller and the reconciler with a fake.

export type MemberId = string;

export interface MemberProgress {
  readonly id: MemberId;
  /** Highest log index known to be replicated on the member. */
  readonly match: number;
  /** Entries the member is behind the leader's last index. */
  readonly lag: number;
}

export interface KubeNodeStatus {
  readonly id: MemberId;
  /** 'leader' | 'follower' | 'candidate' | 'pre-candidate'. */
  readonly role: string;
  readonly term: number;
  readonly leader: MemberId | null;
  readonly config: { readonly voters: readonly MemberId[]; readonly learners: readonly MemberId[] };
  /** Only filled on the leader. */
  readonly peers: readonly MemberProgress[];
}

export interface MembershipChange {
  readonly kind: 'add-learner' | 'promote' | 'remove';
  readonly node: MemberId;
  /** For add-learner: JSON `{"peer": "host:port", "api": "http://host:port"}`. */
  readonly context?: string;
}

export interface RoleEvent {
  readonly role: string;
  readonly term: number;
  readonly leader: MemberId | null;
}

export interface KubeNode {
  status(): KubeNodeStatus;
  changeMembership(change: MembershipChange): Promise<void>;
  transferLeadership(to?: MemberId): Promise<unknown>;
  /** Subscribes to role changes; returns the unsubscribe function. */
  on(event: 'role', listener: (change: RoleEvent) => void): () => void;
}
