// One process per data directory. LevelDB held a lock on its own directory; the log segments
// need one of their own, and Node has no flock. The lock is a file naming its owner: the
// process id, the kernel's boot id and the process's start time (from /proc). It is stale
// when that process is gone (after a crash, or in the next container of a pod, where the
// new process has pid 1 again but another start time); a live owner makes open() refuse.

import { open, readFile, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';

interface Owner {
  readonly pid: number;
  readonly boot: string | null;
  readonly start: string | null;
}

function readProc(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
function startTime(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

function self(): Owner {
  return {
    pid: process.pid,
    boot: readProc('/proc/sys/kernel/random/boot_id'),
    start: startTime(process.pid),
  };
}

function alive(owner: Owner): boolean {
  const me = self();
  if (owner.boot !== null && me.boot !== null && owner.boot !== me.boot) return false;
  if (owner.pid === me.pid) return owner.start !== null && owner.start === me.start;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = startTime(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

function parse(text: string): Owner | null {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return typeof o.pid === 'number' ? { pid: o.pid, boot: o.boot ?? null, start: o.start ?? null } : null;
  } catch {
    return null;
  }
}

export class WalLock {
  private constructor(private readonly file: string) {}

  /** Takes the lock, or throws naming the live process that holds it. */
  static async acquire(file: string): Promise<WalLock> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(self()));
        } finally {
          await handle.close();
        }
        return new WalLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = parse(await readFile(file, 'utf8').catch(() => ''));
      // An unreadable lock is one whose writer crashed before it finished writing.
      if (owner !== null && alive(owner))
        throw new Error(
          `storage: ${file} is locked by another process (pid ${owner.pid}; is this member already running?)`,
        );
      await unlink(file).catch(() => undefined);
    }
    throw new Error(`storage: could not take the lock ${file}`);
  }

  async release(): Promise<void> {
    await unlink(this.file).catch(() => undefined);
  }
}
