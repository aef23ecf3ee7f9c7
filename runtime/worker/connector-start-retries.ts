import type { Logger } from '../api/index.js';
import { OutageTimeoutError, outageInCauses, outageRestartDelayMs } from '../errors/outage.js';

/** What a herder does with a connector whose start() failed. */
export type StartFailure =
  | { readonly retry: true; readonly what: string; readonly delayMs: number }
  | { readonly retry: false; readonly error: unknown };

/**
 * Connector starts that met an outage (a connector's start() reads its database: the ErpSource lists its tables).
 * A start that fails with a retriable error anywhere in its cause chain is tried again after a backoff of at most
 * OUTAGE_MAX_DELAY_MS instead of leaving the connector FAILED until someone restarts it; only an outage outlasting
 * outage.wait.timeout.ms (-1: never) fails it, saying what it waited for. Both herders keep one of these.
 */
export class ConnectorStartRetries {
  private readonly since = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** After a failed start: retry (the herder shows RESTARTING) or fail with the returned error. */
  failed(name: string, error: unknown, waitMs: number, now = Date.now()): StartFailure {
    const what = outageInCauses(error, "the connector's database or service");
    if (what === null) {
      this.forget(name);
      return { retry: false, error };
    }
    const since = this.since.get(name) ?? now;
    this.since.set(name, since);
    const waited = now - since;
    if (waitMs >= 0 && waited > waitMs) {
      this.forget(name);
      return { retry: false, error: new OutageTimeoutError(what, waited, error) };
    }
    return { retry: true, what, delayMs: outageRestartDelayMs(waited) };
  }

  /**
   * What a herder does when a connector's start() threw: RESTARTING and `startAgain` after the backoff when the
   * failure is an outage still within `waitMs`, else FAILED. `startAgain` re-checks that the connector is still this
   * herder's to start (not deleted, stopped or started anew meanwhile) before it starts it.
   */
  afterFailedStart(
    name: string,
    error: unknown,
    waitMs: number,
    o: { logger: Logger; setState: (state: 'RESTARTING' | 'FAILED', error: unknown) => void; startAgain: () => void },
  ): void {
    const failure = this.failed(name, error, waitMs);
    if (!failure.retry) {
      o.logger.error(`Connector ${name} failed to start`, { connector: name, error: failure.error });
      o.setState('FAILED', failure.error);
      return;
    }
    o.logger.warn(
      `Connector ${name} could not start: waiting for ${failure.what}; starting it again in ${Math.round(failure.delayMs)} ms`,
      { connector: name, error },
    );
    o.setState('RESTARTING', error);
    this.schedule(name, failure.delayMs, o.startAgain);
  }

  /** Runs `attempt` after `delayMs` (replacing an attempt already scheduled for the connector). */
  private schedule(name: string, delayMs: number, attempt: () => void): void {
    const old = this.timers.get(name);
    if (old) clearTimeout(old);
    const timer = setTimeout(() => {
      this.timers.delete(name);
      attempt();
    }, delayMs);
    timer.unref();
    this.timers.set(name, timer);
  }

  /** A start succeeded, or the connector went away: its outage (if any) is over. */
  forget(name: string): void {
    this.since.delete(name);
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.since.clear();
  }
}
