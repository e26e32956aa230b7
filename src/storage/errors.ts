// Storage errors. A corrupt or torn record is never skipped or truncated away: the
// member stops and says how to rebuild it from its peers.

export class StorageCorruptionError extends Error {
  readonly code = 'storage_corruption';

  constructor(
    /** The member's data directory. */
    readonly dir: string,
    /** The file or database holding the bad record. */
    readonly file: string,
    /** What is wrong, e.g. "entry 42: checksum mismatch". */
    readonly problem: string,
  ) {
    super(
      `storage corruption in ${file}: ${problem}. The Raft data in ${dir} cannot be trusted and was not modified. ` +
        `Restore this member from a peer: stop it, move ${dir} away, and restart it so it rejoins and receives a snapshot.`,
    );
    this.name = 'StorageCorruptionError';
  }
}

/** A save that would break the log's shape (a hole, a commit past the end); nothing was written. */
export class StorageInvariantError extends Error {
  readonly code = 'storage_invariant';
  override name = 'StorageInvariantError';
}
