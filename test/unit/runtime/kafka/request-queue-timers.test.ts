import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
// Loading the Kafka client module applies the request-queue fix to kafkajs.
import '../../../../runtime/kafka/client.js';

interface Queue {
  push(request: unknown): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
  throttleCheckTimeoutId: unknown;
  requestTimeoutIntervalId?: unknown;
  scheduleRequestTimeoutCheck(): void;
}
type QueueClass = new (o: Record<string, unknown>) => Queue;

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as QueueClass;
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queues: Queue[] = [];

function queue(o: Record<string, unknown> = {}): Queue {
  const q = new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: '127.0.0.1:9092',
    logger,
    ...o,
  });
  queues.push(q);
  return q;
}

/** Pushes a request; resolves with its response. `sent` records the order the queue sent requests in. */
function request(q: Queue, correlationId: number, sent: number[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    q.push({
      entry: { correlationId, apiKey: 1, apiName: 'Fetch', apiVersion: 11, resolve, reject },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });
  });
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  for (const q of queues.splice(0)) q.destroy();
});

describe('kafkajs request queue timers (issue 18: an idle connection must not spin)', () => {
  it('schedules nothing once every request is answered', async () => {
    const q = queue();
    const sent: number[] = [];
    const answered = request(q, 1, sent);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    await answered;
    // kafkajs 2.2.4 left a 1 ms timer here that re-armed itself forever.
    expect(q.throttleCheckTimeoutId).toBeNull();
    await tick(20);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a queued request when the one in flight is answered', async () => {
    const q = queue();
    const sent: number[] = [];
    const first = request(q, 1, sent);
    const second = request(q, 2, sent);
    expect(sent).toEqual([1]); // one in flight at most
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    await first;
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
    await second;
    // The check armed while request 2 waited runs once more, then nothing is armed again.
    await tick(30);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('sends a request held back by broker throttling once the throttle ends', async () => {
    const q = queue({ maxInFlightRequests: null });
    const sent: number[] = [];
    q.maybeThrottle(60);
    const answered = request(q, 7, sent);
    expect(sent).toEqual([]);
    await tick(20);
    expect(sent).toEqual([]);
    await tick(120);
    expect(sent).toEqual([7]);
    q.fulfillRequest({ correlationId: 7, payload: null, size: 0 });
    await answered;
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still times out a request the broker never answers', async () => {
    const q = queue({ requestTimeout: 50, enforceRequestTimeout: true, maxInFlightRequests: null });
    q.scheduleRequestTimeoutCheck();
    const sent: number[] = [];
    const answered = request(q, 3, sent);
    await expect(answered).rejects.toThrow(/timed out/);
  });
});
