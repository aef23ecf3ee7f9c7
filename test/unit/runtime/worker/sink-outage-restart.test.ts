import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErpStreamError, RetriableError } from '../../../../runtime/api/index.js';
import { waitFor } from './fake-kafka.js';
import { type Harness, startHarness } from './harness.js';
import { destination, outage, testRegistry } from './test-plugins.js';

/**
 * A sink task whose delivery failed after put() returned (the LookupSink's pipelined stage) on an outage — a
 * retriable broker or database error inside the connector's own error — is started again from its committed offsets
 * by the worker: its status stays RUNNING and says what it waits for, nothing is lost, and it is FAILED only when
 * the failure is no outage or the outage outlasts outage.wait.timeout.ms.
 */

const brokerDownInside = () =>
  new ErpStreamError(
    'LOOKUP_SINK_DELIVERY_FAILED',
    'Delivering a batch to d failed; the task restarts from the committed offsets: Kafka rejected a batch',
    {
      cause: new RetriableError('Kafka rejected a batch of 1 records: Connection refused', {
        code: 'ERPSTREAM_KAFKA_UNAVAILABLE',
      }),
    },
  );

let h: Harness;
const start = async (extra: Record<string, string> = {}) => {
  h = await startHarness(extra, { registry: testRegistry() });
};
beforeEach(() => {
  outage.failWith = null;
  outage.starts = 0;
  outage.delivered = [];
});
afterEach(async () => {
  outage.failWith = null;
  await h?.worker.stop();
});

const append = (value: string) => h.kafka.append('in', { key: null, value: Buffer.from(value), headers: [] });
const status = async () =>
  (await h.req('GET', '/connectors/s/status')).body as {
    tasks: Array<{ state: string; trace?: string; waiting?: { for: string } }>;
  };

describe('a sink task failed by an outage inside its own error', () => {
  it('is started again from its committed offsets, RUNNING and waiting meanwhile, and delivers every record', async () => {
    await start();
    append('a');
    append('b');
    expect(
      (await h.req('POST', '/connectors', { name: 's', config: { 'connector.class': 'OutageSink', topics: 'in' } }))
        .status,
    ).toBe(201);
    await waitFor(() => outage.delivered.length === 2, 5000, 'a and b delivered');
    outage.failWith = brokerDownInside;
    append('c');
    await waitFor(
      async () => (await status()).tasks[0]?.waiting?.for === 'the Kafka broker',
      5000,
      'waiting for the broker',
    );
    const during = await status();
    expect(during.tasks[0]!.state).toBe('RUNNING');
    await waitFor(() => outage.starts >= 2, 5000, 'a second instance');
    outage.failWith = null;
    append('d');
    await waitFor(() => outage.delivered.includes('d'), 10_000, 'd delivered');
    await waitFor(async () => (await status()).tasks[0]?.waiting === undefined, 5000, 'no longer waiting');
    expect((await status()).tasks[0]!.state).toBe('RUNNING');
    // c was never delivered by the failed instance: a later one resumed from the committed offsets and did.
    expect(outage.delivered.filter((v) => v === 'c')).toEqual(['c']);
    expect(outage.delivered.slice(0, 2)).toEqual(['a', 'b']);
  });

  it('is FAILED at once when nothing in the error is an outage', async () => {
    await start();
    expect(
      (await h.req('POST', '/connectors', { name: 's', config: { 'connector.class': 'OutageSink', topics: 'in' } }))
        .status,
    ).toBe(201);
    outage.failWith = () =>
      new ErpStreamError('LOOKUP_SINK_DELIVERY_FAILED', 'Delivering a batch failed: a bug', {
        cause: new TypeError('x is undefined'),
      });
    append('a');
    await waitFor(async () => (await status()).tasks[0]?.state === 'FAILED', 5000, 'FAILED');
    expect((await status()).tasks[0]!.trace).toContain('a bug');
    expect(outage.starts).toBe(1);
  });

  it('is FAILED once the outage outlasts outage.wait.timeout.ms, saying what it waited for', async () => {
    await start({ 'outage.wait.timeout.ms': '1500' });
    expect(
      (await h.req('POST', '/connectors', { name: 's', config: { 'connector.class': 'OutageSink', topics: 'in' } }))
        .status,
    ).toBe(201);
    outage.failWith = brokerDownInside;
    append('a');
    await waitFor(async () => (await status()).tasks[0]?.state === 'FAILED', 10_000, 'FAILED after the wait');
    const s = await status();
    expect(s.tasks[0]!.trace).toMatch(/Gave up waiting for the Kafka broker/);
    expect(outage.starts).toBeGreaterThanOrEqual(2);
  });
});

describe('a sink task restarted while its put() waits out a destination outage', () => {
  beforeEach(() => {
    destination.down = false;
    destination.attempts = 0;
    destination.delivered = [];
  });

  it('stops waiting at once, is never FAILED, and commits nothing past the batch it could not put', async () => {
    await start();
    append('a');
    expect(
      (await h.req('POST', '/connectors', { name: 's', config: { 'connector.class': 'RetryingSink', topics: 'in' } }))
        .status,
    ).toBe(201);
    await waitFor(() => destination.delivered.includes('a'), 5000, 'a delivered');
    destination.down = true;
    append('b');
    await waitFor(async () => (await status()).tasks[0]?.waiting !== undefined, 5000, 'the task waiting');
    const states: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const t = (await status().catch(() => null))?.tasks[0];
        if (t) states.push(t.state);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // The task is restarted (an operator, a rebalance): the instance waiting on `b` stops, a new one starts.
    const started = Date.now();
    expect((await h.req('POST', '/connectors/s/tasks/0/restart')).status).toBeLessThan(300);
    const restartMs = Date.now() - started;
    destination.down = false;
    await waitFor(() => destination.delivered.includes('b'), 10_000, 'b delivered by the new instance');
    watching = false;
    await watcher;
    expect(states).not.toContain('FAILED');
    expect(destination.delivered).toEqual(['a', 'b']);
    // The stop did not sit out put()'s backoff (up to 10 s) nor the 5 s graceful stop timeout.
    expect(restartMs).toBeLessThan(3000);
  });
});
