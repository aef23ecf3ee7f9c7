import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 (unmaintained) schedules its request-queue check with `setTimeout(fn, throttledUntil - now)`,
 * which is negative when nothing is throttled. Node always ran such timers after 1 ms; since Node 23 it also prints
 * a `TimeoutNegativeWarning` on stderr, once per process, which lands in CLI output (`erpstream tail`) and logs.
 * This wraps the method so the delay is never negative: the same schedule, without the warning. Applied once, when
 * runtime/kafka is loaded; a kafkajs without the method (another version) is left alone.
 */
interface RequestQueue {
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  pending: unknown[];
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (src/network/requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;
const PATCHED = Symbol.for('erpstream.kafkajs.noNegativeTimeout');

export function avoidNegativeTimeouts(): void {
  let proto: (RequestQueue & { [PATCHED]?: boolean }) | undefined;
  try {
    const require = createRequire(import.meta.url);
    proto = (require('kafkajs/src/network/requestQueue/index.js') as { prototype?: typeof proto }).prototype;
  } catch {
    return;
  }
  if (!proto || typeof proto.scheduleCheckPendingRequests !== 'function' || proto[PATCHED]) return;
  proto[PATCHED] = true;
  // kafkajs 2.2.4's method, line for line, with the delay kept at >= 1 ms (what Node did with a negative one)
  proto.scheduleCheckPendingRequests = function (this: RequestQueue) {
    let scheduleAt = this.throttledUntil - Date.now();
    if (!this.throttleCheckTimeoutId) {
      if (this.pending.length > 0) {
        scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
      }
      this.throttleCheckTimeoutId = setTimeout(
        () => {
          this.throttleCheckTimeoutId = null;
          this.checkPendingRequests();
        },
        Math.max(scheduleAt, 1),
      );
    }
  };
}
