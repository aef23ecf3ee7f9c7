import { createRequire } from 'node:module';

/**
 * Two timer faults of kafkajs 2.2.4 (unmaintained), fixed by replacing methods of its request queue (one per broker
 * connection). Applied once, when runtime/kafka is loaded; a kafkajs without these methods (another version) is
 * left alone.
 *
 * 1. After a connection's first response, `checkPendingRequests` re-schedules itself with
 *    `setTimeout(fn, throttledUntil - now)` whether or not a request waits: a negative delay, so a 1 ms timer loop per
 *    connection for the life of the client (kafkajs issues 1556 and 1704). A worker has a dozen connections; that loop
 *    was most of an idle distributed worker's CPU (issue 18). Node 23+ also prints a `TimeoutNegativeWarning` for it.
 *    Here a check is scheduled only while a request waits in the queue: at the end of client-side throttling, or
 *    after 10 ms (kafkajs's interval) when the queue waits on in-flight requests. A request that cannot be sent at
 *    once is queued by `push`, which schedules the check; a response runs the check itself.
 * 2. Each connection scans its in-flight requests for a timed-out one every 100 ms, idle or not. Every
 *    {@link REQUEST_TIMEOUT_SCAN_MS} (or the request timeout, when shorter) is enough for requests whose timeout is
 *    30 s or more: one times out at most that much late.
 */
interface RequestQueue {
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  checkPendingRequests(): void;
  destroy(): void;
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  requestTimeoutIntervalId?: ReturnType<typeof setInterval>;
  pending: unknown[];
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  isConnected(): boolean;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (src/network/requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;
/** How often a connection looks for timed-out requests (kafkajs: every 100 ms). */
export const REQUEST_TIMEOUT_SCAN_MS = 5000;
const PATCHED = Symbol.for('erpstream.kafkajs.requestQueueTimers');

export function fixRequestQueueTimers(): void {
  let proto: (RequestQueue & { [PATCHED]?: boolean }) | undefined;
  try {
    const require = createRequire(import.meta.url);
    proto = (require('kafkajs/src/network/requestQueue/index.js') as { prototype?: typeof proto }).prototype;
  } catch {
    return;
  }
  if (
    !proto ||
    typeof proto.scheduleCheckPendingRequests !== 'function' ||
    typeof proto.scheduleRequestTimeoutCheck !== 'function' ||
    proto[PATCHED]
  ) {
    return;
  }
  proto[PATCHED] = true;
  proto.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL,
    );
  };
  // kafkajs 2.2.4's method with a coarser scan.
  proto.scheduleRequestTimeoutCheck = function (this: RequestQueue) {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(
      () => {
        this.inflight.forEach((request) => {
          if (Date.now() - request.sentAt > request.requestTimeout) request.timeoutRequest();
        });
        if (!this.isConnected()) this.destroy();
      },
      Math.min(this.requestTimeout, REQUEST_TIMEOUT_SCAN_MS),
    );
  };
}
