// A background client for real-process tests: it keeps creating printers against a set of
// node URLs (round-robin, skipping nodes that fail), and remembers every write that was
// acknowledged and when, so a test can measure unavailability windows and check that no
// acknowledged write was lost.

export interface Ack {
  readonly id: string;
  readonly at: number;
}

export interface PostResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

export async function postJson(
  url: string,
  body: unknown,
  timeoutMs = 3000,
  headers: Record<string, string> = {},
): Promise<PostResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text: the assertion that reads it will show it
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function getJson<T>(url: string, timeoutMs = 3000): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: (await res.json()) as T };
}

export class LoadWriter {
  readonly acks: Ack[] = [];
  readonly failures = new Map<number | string, number>();
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;

  /** `targets()` is read before every request, so a test can change the set of live nodes. */
  constructor(
    private readonly targets: () => readonly string[],
    private readonly prefix: string,
    private readonly concurrency = 4,
  ) {}

  start(): void {
    this.running = true;
    for (let worker = 0; worker < this.concurrency; worker++) this.loops.push(this.loop(worker));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Longest time between two consecutive acknowledgements inside [from, to]. */
  longestGap(from: number, to: number): number {
    const times = this.acks.map((a) => a.at).filter((t) => t >= from && t <= to);
    let longest = 0;
    let previous = from;
    for (const t of times.sort((a, b) => a - b)) {
      longest = Math.max(longest, t - previous);
      previous = t;
    }
    return Math.max(longest, to - previous);
  }

  private async loop(worker: number): Promise<void> {
    let turn = worker;
    while (this.running) {
      const urls = this.targets();
      if (urls.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const url = urls[turn++ % urls.length]!;
      const id = `${this.prefix}-${this.seq++}`;
      try {
        const res = await postJson(`${url}/api/v1/printers`, { id, company: 'Prusa', model: 'MK4' }, 2000);
        if (res.status === 201) this.acks.push({ id, at: performance.now() });
        else this.failures.set(res.status, (this.failures.get(res.status) ?? 0) + 1);
      } catch (error) {
        const name = error instanceof Error ? error.name : 'error';
        this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
}

/** Ids of every printer a node holds, read locally (stale) so a lagging node can be checked. */
export async function printerIds(url: string): Promise<Set<string>> {
  const { status, body } = await getJson<{ id: string }[]>(
    `${url}/api/v1/printers?consistency=stale`,
    10_000,
  );
  if (status !== 200) throw new Error(`GET printers on ${url} answered ${status}: ${JSON.stringify(body)}`);
  return new Set(body.map((p) => p.id));
}
