import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetriableError } from '../../../../runtime/api/index.js';
import { waitFor } from './fake-kafka.js';
import { type Harness, startHarness } from './harness.js';
import { control, testRegistry } from './test-plugins.js';

/**
 * While a task waits for an outage its REST status stays RUNNING (the Connect shape) and says what it waits for and
 * since when: a one-line trace and an extra `waiting` object. Both go away when the outage ends.
 */

let h: Harness;
beforeEach(async () => {
  control.failPoll = false;
  h = await startHarness({}, { registry: testRegistry() });
});
afterEach(async () => {
  h.kafka.failSends = null;
  await h.worker.stop();
});

const task0 = async () => (await h.req('GET', '/connectors/f/status')).body.tasks[0];

describe('the status of a task waiting for the broker', () => {
  it('RUNNING with "Waiting for the Kafka broker since …" and a waiting object; cleared once Kafka takes records again', async () => {
    await h.req('POST', '/connectors', { name: 'f', config: { 'connector.class': 'FlakySource' } });
    await waitFor(async () => (await task0())?.state === 'RUNNING');
    h.kafka.failSends = new RetriableError('Kafka rejected a batch of 1 records: Connection refused', {
      code: 'ERPSTREAM_KAFKA_UNAVAILABLE',
    });
    const waiting = await waitFor(async () => {
      const t = await task0();
      return t?.waiting ? t : null;
    });
    expect(waiting.state).toBe('RUNNING');
    expect(waiting.waiting.for).toBe('the Kafka broker');
    expect(Number.isNaN(Date.parse(waiting.waiting.since))).toBe(false);
    expect(waiting.waiting.reason).toContain('Connection refused');
    expect(waiting.trace).toBe(
      `Waiting for the Kafka broker since ${waiting.waiting.since}: ${waiting.waiting.reason}`,
    );
    const single = (await h.req('GET', '/connectors/f/tasks/0/status')).body;
    expect(single.waiting.for).toBe('the Kafka broker');
    expect((await h.req('GET', '/metrics')).body).toMatch(
      /erpstream_task_outage_wait_seconds\{connector="f",task="0"\} [0-9.]+/,
    );

    h.kafka.failSends = null;
    const recovered = await waitFor(async () => {
      const t = await task0();
      return t && !t.waiting ? t : null;
    }, 10_000);
    expect(recovered.state).toBe('RUNNING');
    expect(recovered.trace).toBeUndefined();
  });
});
