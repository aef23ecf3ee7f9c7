import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { destination, testRegistry } from '../../unit/runtime/worker/test-plugins.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';
import { STRINGS, startTestWorker } from '../test-worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * A sink task whose put() fails with an error that is no outage, against real Kafka: it is FAILED, its consumer leaves
 * the group and the task is stopped at once (the consumer was closed from inside the batch that failed, and kafkajs's
 * close waits for that batch: the failed task was never stopped and its consumer held the partitions until the
 * session timed out), and a restart delivers the records from the failed batch on without waiting for the session.
 */
describe('a failed sink task (real Kafka)', () => {
  let worker: RunningWorker;
  const topic = `it-sink-fail-${uniqueSuffix()}`;
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'it-sink-fail' });
  const producer = createProducer(kafka);
  const send = (...values: string[]) => producer.send({ topic, messages: values.map((value) => ({ value })) });
  const status = async () =>
    ((await (await fetch(`${worker.url}/connectors/s/status`)).json()) as { tasks: Array<{ state: string }> }).tasks[0]
      ?.state;

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    await admin.disconnect();
    await producer.connect();
    ({ worker } = await startTestWorker('sink-fail', STRINGS, { registry: testRegistry() }));
  }, 60_000);
  afterAll(async () => {
    destination.broken = false;
    await worker?.stop();
    await producer.disconnect();
  });

  it('is stopped, leaves the group, and a restart delivers the rest without waiting out the session', async () => {
    Object.assign(destination, { down: false, broken: false, attempts: 0, delivered: [], stops: 0 });
    const created = await fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 's',
        config: {
          'connector.class': 'RetryingSink',
          topics: topic,
          'consumer.override.group.id': `it-sink-fail-${uniqueSuffix()}`,
          // Long enough that waiting it out would show.
          'consumer.override.session.timeout.ms': '30000',
        },
      }),
    });
    expect(created.status).toBe(201);
    await send('a', 'b');
    await waitFor(() => destination.delivered.length === 2, 30_000, 'a and b delivered');

    destination.broken = true;
    await send('c', 'd');
    await waitFor(async () => (await status()) === 'FAILED', 30_000, 'the task FAILED');
    await waitFor(() => destination.stops === 1, 5_000, 'the failed task stopped');

    destination.broken = false;
    const restartedAt = Date.now();
    expect((await fetch(`${worker.url}/connectors/s/tasks/0/restart`, { method: 'POST' })).status).toBe(204);
    await waitFor(() => destination.delivered.length === 4, 20_000, 'c and d delivered after the restart');
    expect(Date.now() - restartedAt).toBeLessThan(20_000);
    expect([...destination.delivered].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(await status()).toBe('RUNNING');
  }, 120_000);
});
