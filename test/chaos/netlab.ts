// A small network of Linux network namespaces for fault injection on real processes: one
// namespace per node, each with a veth pair to a bridge in the root namespace, which also
// holds the clients' address. Faults are iptables rules in a chain of our own in each node's
// namespace (partitions, one-way and random drops), tc tbf (slow links) and links set down
// and up (flaps). Every name (namespace, link, temp dir) is `r3d-<owner pid in base 36>-...`,
// so leftovers of a run that died are recognised and removed by the next one.
// Teardown is synchronous so that it also runs from exit and signal handlers.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHAIN = 'R3D';

export interface LabNode {
  readonly id: string;
  readonly ns: string;
  readonly ip: string;
  /** The veth end in the root namespace (on the bridge). */
  readonly hostIf: string;
  /** The veth end inside the node's namespace. */
  readonly nsIf: string;
}

/** Why namespaces cannot be made here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run as root, or in CI)';
  for (const tool of ['ip', 'tc', 'iptables']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `\`${tool}\` is not installed (bash test/chaos/setup.sh installs it)`;
    }
  }
  const probe = `r3d-${process.pid.toString(36)}-probe`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', probe, 'iptables', '-w', '-L', '-n'], { stdio: 'pipe' });
  } catch (error) {
    return `cannot make a network namespace with iptables here: ${firstLine(error)}`;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    } catch {
      // was never made
    }
  }
  return null;
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: Buffer | string; message?: string };
  return (e.stderr?.toString() || e.message || String(error)).trim().split('\n')[0] ?? '';
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** Removes namespaces, links and mounts left by runs whose process is gone. */
export function cleanLeftovers(): string[] {
  const removed: string[] = [];
  const owner = (name: string): number | null => {
    const m = /^r3d-([0-9a-z]+)-/.exec(name);
    return m ? parseInt(m[1]!, 36) : null;
  };
  let namespaces: string[] = [];
  try {
    namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith('r3d-'));
  } catch {
    // no ip netns support: nothing to clean
  }
  for (const ns of namespaces) {
    const pid = owner(ns);
    if (pid !== null && alive(pid) && pid !== process.pid) continue;
    killNamespacePids(ns);
    trySync('ip', ['netns', 'del', ns]);
    removed.push(`netns ${ns}`);
  }
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith('r3d-'));
  for (const link of links) {
    const pid = owner(link);
    if (pid !== null && alive(pid) && pid !== process.pid) continue;
    trySync('ip', ['link', 'del', link]);
    removed.push(`link ${link}`);
  }
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const mount = line.split(' ')[1] ?? '';
    const m = /\/r3d-([0-9a-z]+)-[^/]*\//.exec(mount);
    if (!m) continue;
    const pid = parseInt(m[1]!, 36);
    if (alive(pid) && pid !== process.pid) continue;
    trySync('umount', ['-l', mount]);
    removed.push(`mount ${mount}`);
  }
  return removed;
}

function killNamespacePids(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) trySync('kill', ['-9', pid]);
  } catch {
    // namespace already gone
  }
}

function trySync(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // best effort: teardown goes on
  }
}

export class NetLab {
  readonly nodes: LabNode[] = [];
  readonly bridge: string;
  /** The root namespace's address on the bridge: where clients come from. */
  readonly hostIp: string;
  private destroyed = false;
  private readonly tag: string;

  private constructor(subnet: string, ids: readonly string[]) {
    this.tag = process.pid.toString(36);
    this.bridge = `r3d-${this.tag}-b`;
    this.hostIp = `${subnet}.1`;
    ids.forEach((id, i) =>
      this.nodes.push({
        id,
        ns: `r3d-${this.tag}-${id}`,
        ip: `${subnet}.${11 + i}`,
        hostIf: `r3d-${this.tag}-h${i}`,
        nsIf: `r3d-${this.tag}-c${i}`,
      }),
    );
  }

  /** Builds the bridge and one namespace per id. One lab per process at a time. */
  static create(ids: readonly string[]): NetLab {
    cleanLeftovers();
    // A /24 of 10.x that depends on the pid, so two concurrent runs do not share addresses.
    const subnet = `10.${200 + (process.pid % 50)}.${Math.floor(process.pid / 50) % 250}`;
    const lab = new NetLab(subnet, ids);
    try {
      lab.build();
    } catch (error) {
      lab.destroy();
      throw error;
    }
    return lab;
  }

  node(id: string): LabNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no lab node ${id}`);
    return node;
  }

  private build(): void {
    const sh = (...args: string[]): void => {
      execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });
    };
    sh('ip', 'link', 'add', this.bridge, 'type', 'bridge');
    sh('ip', 'addr', 'add', `${this.hostIp}/24`, 'dev', this.bridge);
    sh('ip', 'link', 'set', this.bridge, 'up');
    for (const n of this.nodes) {
      sh('ip', 'netns', 'add', n.ns);
      sh('ip', 'link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', n.nsIf);
      sh('ip', 'link', 'set', n.nsIf, 'netns', n.ns);
      sh('ip', 'link', 'set', n.hostIf, 'master', this.bridge);
      sh('ip', 'link', 'set', n.hostIf, 'up');
      sh('ip', 'netns', 'exec', n.ns, 'ip', 'link', 'set', 'lo', 'up');
      sh('ip', 'netns', 'exec', n.ns, 'ip', 'addr', 'add', `${n.ip}/24`, 'dev', n.nsIf);
      sh('ip', 'netns', 'exec', n.ns, 'ip', 'link', 'set', n.nsIf, 'up');
      sh('ip', 'netns', 'exec', n.ns, 'iptables', '-w', '-N', CHAIN);
      sh('ip', 'netns', 'exec', n.ns, 'iptables', '-w', '-I', 'INPUT', '-j', CHAIN);
    }
  }

  private async inNs(node: LabNode, ...args: string[]): Promise<void> {
    await run('ip', ['netns', 'exec', node.ns, ...args]);
  }

  /** Cuts every link between members of different groups (both directions). */
  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    const cuts: [string, string][] = [];
    for (const a of this.nodes)
      for (const b of this.nodes)
        if (a !== b && groupOf.get(a.id) !== groupOf.get(b.id)) cuts.push([a.id, b.id]);
    await this.cut(cuts);
  }

  /** Cuts the listed links, both directions each (a partial partition: bridge, star...). */
  async cut(links: readonly (readonly [string, string])[]): Promise<void> {
    await Promise.all(links.map(([a, b]) => this.dropBetween(this.node(a), this.node(b), 1)));
  }

  /** Drops what `from` sends to `to` (and nothing the other way). */
  async dropOneWay(from: string, to: string): Promise<void> {
    await this.dropInto(this.node(to), this.node(from), 1);
  }

  /** Drops packets between `id` and every other member at random, with `probability` each way. */
  async lossy(id: string, probability: number): Promise<void> {
    const n = this.node(id);
    await Promise.all(this.nodes.filter((o) => o !== n).map((o) => this.dropBetween(n, o, probability)));
  }

  private async dropBetween(a: LabNode, b: LabNode, probability: number): Promise<void> {
    await this.dropInto(a, b, probability);
    await this.dropInto(b, a, probability);
  }

  /**
   * Drops packets from `from` as they arrive at `at`. Only ever on INPUT: a packet dropped
   * on OUTPUT fails the sender's own send call, which a real network never does, and TCP
   * then behaves unlike it would behind a lost link.
   */
  private async dropInto(at: LabNode, from: LabNode, probability: number): Promise<void> {
    const chance =
      probability >= 1 ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', String(probability)];
    await this.inNs(at, 'iptables', '-w', '-A', CHAIN, '-s', from.ip, ...chance, '-j', 'DROP');
  }

  /** Limits what `id` sends to `kbit` kbit/s (tc tbf on its veth: a slow link). */
  async slow(id: string, kbit: number): Promise<void> {
    const n = this.node(id);
    await this.inNs(
      n,
      'tc',
      'qdisc',
      'replace',
      'dev',
      n.nsIf,
      'root',
      'tbf',
      'rate',
      `${kbit}kbit`,
      'burst',
      '16kbit',
      'latency',
      '400ms',
    );
  }

  async linkDown(id: string): Promise<void> {
    await run('ip', ['link', 'set', this.node(id).hostIf, 'down']);
  }

  async linkUp(id: string): Promise<void> {
    await run('ip', ['link', 'set', this.node(id).hostIf, 'up']);
  }

  /** Removes every fault: rules, qdiscs, links down. */
  async heal(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        await this.inNs(n, 'iptables', '-w', '-F', CHAIN);
        await this.inNs(n, 'tc', 'qdisc', 'del', 'dev', n.nsIf, 'root').catch(() => undefined);
        await run('ip', ['link', 'set', n.hostIf, 'up']);
      }),
    );
  }

  /** Kills whatever still runs in the namespaces, then removes them and the bridge. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const n of this.nodes) {
      killNamespacePids(n.ns);
      trySync('ip', ['netns', 'del', n.ns]);
      trySync('ip', ['link', 'del', n.hostIf]);
    }
    trySync('ip', ['link', 'del', this.bridge]);
  }
}
