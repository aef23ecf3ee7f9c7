import { ErpStreamError } from '../api/index.js';
import { OUTAGE_MAX_DELAY_MS, OutageTimeoutError, outageOf, type WaitingStatus, waitingStatus } from './outage.js';
import { sleep } from '../api/sleep.js';

/** Connect's stages (ErrorReporter / ProcessingContext), used in logs and DLQ headers. */
export type Stage =
  | 'TASK_POLL'
  | 'TASK_PUT'
  | 'TRANSFORMATION'
  | 'KEY_CONVERTER'
  | 'VALUE_CONVERTER'
  | 'HEADER_CONVERTER'
  | 'KAFKA_PRODUCE'
  | 'KAFKA_CONSUME';

/**
 * A connector's error handling, as parsed once from its `errors.*` keys (runtime/worker/connector-settings.ts,
 * errorHandlingSettings); this layer only acts on it.
 */
export interface ErrorHandlingConfig {
  /** ms; 0 = no retries, -1 = retry forever. */
  retryTimeoutMs: number;
  retryDelayMaxMs: number;
  tolerance: 'none' | 'all';
  logEnable: boolean;
  logIncludeMessages: boolean;
  /**
   * ms an outage (broker, registry: see outage.ts) is waited out, whatever errors.retry.timeout says; -1 = forever.
   * Absent: the default of outage.wait.timeout.ms.
   */
  outageWaitMs?: number;
}

/** Thrown when an error is not tolerated: the task fails with this (Connect's message). */
export class ToleranceExceededError extends ErpStreamError {
  readonly stage: Stage;
  constructor(stage: Stage, cause: unknown) {
    super('ERPSTREAM_TOLERANCE_EXCEEDED', `Tolerance exceeded in error handler (stage ${stage}): ${messageOf(cause)}`, {
      cause,
    });
    this.stage = stage;
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What happened to one failed operation, for reporters (log, DLQ). */
export interface ProcessingFailure {
  stage: Stage;
  /** The class executing the stage (transform, converter, task). */
  className: string;
  error: unknown;
  attempts: number;
}

const INITIAL_BACKOFF_MS = 300;

function isRetriable(e: unknown): boolean {
  return e instanceof ErpStreamError && e.retriable;
}

/**
 * The task is stopping while it waited for an outage: the operation did not happen and is not reported (no DLQ, no
 * FAILED); the batch is not acknowledged, so its offsets do not advance and it is polled again after a restart.
 */
export class StoppedWhileWaitingError extends ErpStreamError {
  constructor(what: string) {
    super('ERPSTREAM_STOPPED_WHILE_WAITING', `Stopped while waiting for ${what}`);
  }
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const realSleep: Sleep = sleep;

/**
 * Connect's RetryWithToleranceOperator: retries retriable failures with exponential backoff (300 ms
 * doubling, capped at errors.retry.delay.max.ms, with jitter) until errors.retry.timeout, then either
 * fails the task (tolerance none) or reports the failure and skips the record (tolerance all).
 */
export class RetryWithToleranceOperator<C = undefined> {
  private errored = 0;

  constructor(
    private readonly config: ErrorHandlingConfig,
    /** Called for every final failure; `tolerated` says whether the record is skipped (DLQ) or the task fails. */
    private readonly report: (failure: ProcessingFailure, context: C, tolerated: boolean) => Promise<void>,
    private readonly options: {
      now?: () => number;
      sleep?: Sleep;
      random?: () => number;
      signal?: AbortSignal;
      /** Told when an outage wait starts (and again at each attempt) and, with null, when it ends. */
      onWaiting?: (waiting: WaitingStatus | null) => void;
    } = {},
  ) {}

  get totalErrors(): number {
    return this.errored;
  }

  /**
   * Runs `op`. Returns `{ ok: true, value }` or, when the failure was tolerated (and reported),
   * `{ ok: false }`. Throws ToleranceExceededError when it was not.
   */
  async execute<T>(
    stage: Stage,
    className: string,
    op: () => T | Promise<T>,
    context: C,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    const deadline = this.deadlineFrom((this.options.now ?? Date.now)());
    try {
      return { ok: true, value: await op() };
    } catch (error) {
      return this.afterFailure(stage, className, op, context, error, deadline);
    }
  }

  /**
   * For callers that already ran the first attempt of `op` themselves (a synchronous hot path) and saw it throw
   * `error`: continues exactly as `execute` would after that attempt (retries, then tolerance and reporting, with
   * the first attempt counted). The retry deadline starts now, at the first failure.
   */
  recover<T>(
    stage: Stage,
    className: string,
    op: () => T | Promise<T>,
    context: C,
    error: unknown,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    return this.afterFailure(stage, className, op, context, error, this.deadlineFrom((this.options.now ?? Date.now)()));
  }

  private deadlineFrom(start: number): number {
    return this.config.retryTimeoutMs < 0 ? Infinity : start + this.config.retryTimeoutMs;
  }

  private async afterFailure<T>(
    stage: Stage,
    className: string,
    op: () => T | Promise<T>,
    context: C,
    firstError: unknown,
    deadline: number,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    const now = this.options.now ?? Date.now;
    const sleep = this.options.sleep ?? realSleep;
    const random = this.options.random ?? Math.random;
    const onWaiting = this.options.onWaiting;
    const firstFailure = now();
    const outageWait = this.config.outageWaitMs ?? -1;
    const outageDeadline = outageWait < 0 ? Infinity : firstFailure + outageWait;
    let attempts = 1;
    let delay = INITIAL_BACKOFF_MS;
    let error = firstError;
    let waitedFor: string | null = null;
    for (;;) {
      const outage = outageOf(error);
      const t = now();
      // An outage is waited out for outage.wait.timeout.ms even when errors.retry.timeout is shorter (0 by default).
      const left = Math.max(deadline, outage !== null ? outageDeadline : -Infinity) - t;
      if (!(isRetriable(error) && left > 0)) {
        if (outage !== null && t >= outageDeadline) error = new OutageTimeoutError(outage, t - firstFailure, error);
        break;
      }
      if (this.options.signal?.aborted) {
        if (outage === null) break;
        if (waitedFor !== null) onWaiting?.(null);
        throw new StoppedWhileWaitingError(outage);
      }
      if (outage !== null) {
        waitedFor = outage;
        onWaiting?.(waitingStatus(outage, firstFailure, error));
      }
      const cap =
        outage !== null ? Math.min(OUTAGE_MAX_DELAY_MS, this.config.retryDelayMaxMs) : this.config.retryDelayMaxMs;
      const capped = Math.min(delay, cap);
      const jittered = capped + Math.floor(random() * Math.min(capped, 1000) * 0.2);
      await sleep(Math.min(jittered, left), this.options.signal);
      delay *= 2;
      attempts++;
      try {
        const value = await op();
        if (waitedFor !== null) onWaiting?.(null);
        return { ok: true, value };
      } catch (e) {
        error = e;
      }
    }
    if (waitedFor !== null) onWaiting?.(null);
    this.errored++;
    // A transform failure names the SMT class that failed, not the chain.
    const failing = (error as { className?: unknown }).className;
    const failure: ProcessingFailure = {
      stage,
      className: stage === 'TRANSFORMATION' && typeof failing === 'string' ? failing : className,
      error,
      attempts,
    };
    const tolerated = this.config.tolerance === 'all';
    await this.report(failure, context, tolerated);
    if (!tolerated) throw new ToleranceExceededError(stage, error);
    return { ok: false };
  }
}

/**
 * Runs a call a task cannot do without and that has no record to skip (topic creation, a consumer, a DLQ write),
 * waiting out an outage as the task's own sends do (outage.wait.timeout.ms, status "waiting for the Kafka broker");
 * any other error, or the outage once the wait is over, is thrown as it is.
 */
export async function waitOutOutage<T>(
  config: ErrorHandlingConfig,
  listener: { onWaiting?: (w: WaitingStatus | null) => void },
  op: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const operator = new RetryWithToleranceOperator({ ...config, retryTimeoutMs: 0, tolerance: 'none' }, async () => {}, {
    ...(listener.onWaiting ? { onWaiting: listener.onWaiting.bind(listener) } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    const r = await operator.execute('KAFKA_PRODUCE', 'producer', op, undefined);
    // Invariant: with tolerance none, run() throws instead of skipping.
    if (!r.ok) throw new Error('unreachable: tolerance none never skips');
    return r.value;
  } catch (e) {
    throw e instanceof ToleranceExceededError ? e.cause : e;
  }
}
