import { ErpStreamError } from '../api/index.js';

/**
 * Outages: a broker, schema registry or database that is down or not ready yet. Waiting fixes them, so the runtime
 * waits them out with backoff (up to `outage.wait.timeout.ms`), shows "waiting for … since …" in the task's status
 * and fails a task only when waiting cannot help or the wait is over.
 */

/** Error codes of conditions that end by themselves, and what the task waits for. */
const OUTAGE_CODES: Readonly<Record<string, string>> = {
  ERPSTREAM_KAFKA_UNAVAILABLE: 'the Kafka broker',
  ERPSTREAM_TOPIC_NOT_READY: 'the Kafka broker',
  ERPSTREAM_REGISTRY_UNREACHABLE: 'the schema registry',
  ERPSTREAM_REGISTRY_UNAVAILABLE: 'the schema registry',
};

/** What a retriable error waits for (`the Kafka broker`, `the schema registry`), or null when it is no outage. */
export function outageOf(e: unknown): string | null {
  if (!(e instanceof ErpStreamError) || !e.retriable) return null;
  return OUTAGE_CODES[e.code] ?? null;
}

/**
 * What a failure waits for when a retriable error sits anywhere in its cause chain (a connector wraps the broker's
 * or database's error in its own): the broker or registry by code, else `fallback`; null when nothing in the chain is
 * retriable.
 */
export function outageInCauses(e: unknown, fallback: string): string | null {
  let at: unknown = e;
  for (let depth = 0; depth < 10 && at instanceof Error; depth++) {
    if (at instanceof ErpStreamError && at.retriable) return outageOf(at) ?? fallback;
    at = at.cause;
  }
  return null;
}

/** Default of `outage.wait.timeout.ms`: 15 minutes (Java's producer gives up after delivery.timeout.ms = 2 min). */
export const DEFAULT_OUTAGE_WAIT_MS = 900_000;

/** Longest pause between two attempts while waiting for an outage to end: recovery is seen within this. */
export const OUTAGE_MAX_DELAY_MS = 5_000;

/**
 * The pause before starting again what an outage stopped (a connector's or task's start), `waitedMs` into the outage:
 * half a second at first, growing with the wait, at most OUTAGE_MAX_DELAY_MS.
 */
export function outageRestartDelayMs(waitedMs: number): number {
  return Math.min(OUTAGE_MAX_DELAY_MS, 500 + waitedMs / 2);
}

/** The key, on the worker (default for every connector) and per connector. */
export const OUTAGE_WAIT_KEY = 'outage.wait.timeout.ms';

/** `outage.wait.timeout.ms` of a connector, else of the worker, else the default; -1 waits forever. */
export function outageWaitMs(...sources: ReadonlyArray<Readonly<Record<string, string>> | undefined>): number {
  for (const s of sources) {
    const raw = s?.[OUTAGE_WAIT_KEY]?.trim();
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (Number.isInteger(n) && n >= -1) return n;
  }
  return DEFAULT_OUTAGE_WAIT_MS;
}

/** What a task's status shows while it waits (an erpstream extension field; the state stays RUNNING). */
export interface WaitingStatus {
  /** `the Kafka broker`, `the schema registry`, `the database`… */
  for: string;
  /** ISO-8601 time of the first failure of this outage. */
  since: string;
  /** The latest error, one line. */
  reason: string;
}

/** The status line: "Waiting for the Kafka broker since 2026-…Z: <reason>". */
export function describeWaiting(w: WaitingStatus): string {
  return `Waiting for ${w.for} since ${w.since}: ${w.reason}`;
}

export function waitingStatus(what: string, sinceMs: number, error: unknown): WaitingStatus {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  return { for: what, since: new Date(sinceMs).toISOString(), reason };
}

/** A task waited for an outage longer than outage.wait.timeout.ms: the task fails with this, naming what it waited for. */
export class OutageTimeoutError extends ErpStreamError {
  constructor(what: string, waitedMs: number, cause: unknown) {
    const last = cause instanceof Error ? cause.message : String(cause);
    super(
      'ERPSTREAM_OUTAGE_TIMEOUT',
      `Gave up waiting for ${what} after ${Math.round(waitedMs / 1000)} s (${OUTAGE_WAIT_KEY}; -1 waits forever). Last error: ${last}`,
      { cause },
    );
  }
}
