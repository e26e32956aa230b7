// The joining side of admission: a member that is not (yet) a voter asks the cluster to
// admit it, `POST /cluster/join` to any member it knows (a follower forwards to the
// leader), once per interval, until the leader answers that it is a voter. Each request
// makes the leader take at most one membership step (plan.ts planJoin), so nothing is lost
// when the leader changes or this member restarts: it simply asks again.

import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Agent, fetch } from 'undici';
import type { JoinRequest } from './plan.js';

export const JOIN_PATH = '/cluster/join';

export interface JoinerOptions {
  readonly request: JoinRequest;
  /** API base URLs to ask, most promising first (the known leader, then the others). */
  readonly endpoints: () => readonly string[];
  /** `Bearer <cluster secret>`, or null when the cluster runs without one. */
  readonly authorization: string | null;
  /** Stops asking when this holds (e.g. this member leads as a voter: nobody else can admit it). */
  readonly admitted?: () => boolean;
  /** The members' APIs run over TLS: verify them against this CA (PEM). */
  readonly tlsCa?: string | Buffer | null;
  readonly logger: Logger;
  /** Pause between two requests (default 500 ms). */
  readonly intervalMs?: number;
  /** Deadline of one request (default 5,000 ms: a step may wait for a commit). */
  readonly requestTimeoutMs?: number;
}

interface JoinAnswer {
  readonly state?: string;
  readonly step?: { readonly kind?: string; readonly reason?: string };
  readonly detail?: string;
}

export class Joiner {
  private readonly abort = new AbortController();
  private readonly agent: Agent;
  private running: Promise<void> | null = null;
  private admitted = false;

  constructor(private readonly options: JoinerOptions) {
    const ca = options.tlsCa ?? null;
    this.agent = new Agent(ca === null ? {} : { connect: { ca } });
  }

  /** Starts asking; `done()` resolves once the leader says this member is a voter (or on stop). */
  start(): void {
    this.running ??= this.loop();
  }

  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  isAdmitted(): boolean {
    return this.admitted;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    await this.agent.close();
  }

  private async loop(): Promise<void> {
    const { logger, request } = this.options;
    const signal = this.abort.signal;
    let turn = 0;
    let last = '';
    logger.info({ id: request.id }, 'asking the cluster to admit this member');
    while (!signal.aborted) {
      if (this.options.admitted?.()) {
        this.admitted = true;
        logger.info({ id: request.id }, 'admitted: this member is a voter');
        return;
      }
      const endpoints = this.options.endpoints();
      const url = endpoints[turn++ % Math.max(1, endpoints.length)];
      if (url !== undefined) {
        const answer = await this.ask(url, signal);
        if (answer.state === 'voter') {
          this.admitted = true;
          logger.info({ id: request.id }, 'admitted: this member is a voter');
          return;
        }
        const said = answer.step?.kind ?? answer.detail ?? answer.state ?? 'no answer';
        if (said !== last) {
          logger.info(
            { id: request.id, via: url, step: answer.step ?? null, detail: answer.detail },
            'joining',
          );
          last = said;
        }
      }
      await sleep(this.options.intervalMs ?? 500, signal);
    }
  }

  private async ask(url: string, signal: AbortSignal): Promise<JoinAnswer> {
    const { request, authorization } = this.options;
    try {
      const res = await fetch(new URL(JOIN_PATH, url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization === null ? {} : { authorization }),
        },
        body: JSON.stringify({ id: request.id, peer: request.peer, api: request.api }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.requestTimeoutMs ?? 5_000)]),
        dispatcher: this.agent,
      });
      const text = await res.text();
      try {
        return JSON.parse(text) as JoinAnswer;
      } catch {
        return { detail: `HTTP ${res.status}` };
      }
    } catch (error) {
      return { detail: error instanceof Error ? error.message : String(error) };
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
