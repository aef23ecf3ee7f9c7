import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { destination, testRegistry } from '../../unit/runtime/worker/test-plugins.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';
import { STRINGS, startTestWorker } from '../test-worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * Someone deletes a sink's topic and creates it again: the task keeps RUNNING, the logs do not flood while the topic
 * is missing, and what the new topic gets is delivered.
 */
describe('a sink whose topic is deleted and created again (real Kafka)', () => {
  let worker: RunningWorker;
  const topic = `it-sink-deleted-${uniqueSuffix()}`;
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'it-sink-deleted' });
  const producer = createProducer(kafka);
  const admin = kafka.admin();
  const logs: string[] = [];
  const send = (...values: string[]) => producer.send({ topic, messages: values.map((value) => ({ value })) });
  const status = async () =>
    (await (await fetch(`${worker.url}/connectors/d/status`)).json()) as {
      connector: { state: string };
      tasks: Array<{ state: string; trace?: string }>;
    };

  beforeAll(async () => {
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    await producer.connect();
    ({ worker } = await startTestWorker('sink-deleted', STRINGS, {
      registry: testRegistry(),
      logSink: (l) => logs.push(l),
    }));
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('keeps running, and delivers what the new topic gets', async () => {
    Object.assign(destination, { down: false, broken: false, attempts: 0, delivered: [], stops: 0 });
    const created = await fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'd',
        config: { 'connector.class': 'RetryingSink', topics: topic, 'consumer.override.group.id': `d-${topic}` },
      }),
    });
    expect(created.status).toBe(201);
    await send('a', 'b');
    await waitFor(() => destination.delivered.length === 2, 30_000, 'a and b delivered');
    await admin.deleteTopics({ topics: [topic] });
    const before = logs.length;
    await new Promise((r) => setTimeout(r, 10_000));
    // kafkajs crashes on the missing topic and restarts the consumer: backed off, not every 100 ms (245 ERROR lines
    // in these 10 s before).
    const crashes = logs.slice(before).filter((l) => l.includes('Restarting the consumer')).length;
    expect(crashes).toBeGreaterThan(0);
    expect(crashes).toBeLessThanOrEqual(10);
    expect(logs.length - before).toBeLessThan(60);
    expect((await status()).tasks[0]?.state).toBe('RUNNING');

    await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    await send('c', 'd');
    await waitFor(() => destination.delivered.length === 4, 30_000, 'c and d delivered');
    expect([...destination.delivered].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect((await status()).tasks[0]?.state).toBe('RUNNING');
  }, 120_000);
  it('started before its topic exists, delivers what the topic gets once created', async () => {
    Object.assign(destination, { down: false, broken: false, attempts: 0, delivered: [], stops: 0 });
    const later = `${topic}-later`;
    const created = await fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'l',
        config: { 'connector.class': 'RetryingSink', topics: later, 'consumer.override.group.id': `l-${later}` },
      }),
    });
    expect(created.status).toBe(201);
    await new Promise((r) => setTimeout(r, 3_000));
    const st = (await (await fetch(`${worker.url}/connectors/l/status`)).json()) as { tasks: Array<{ state: string }> };
    expect(st.tasks[0]?.state).toBe('RUNNING');
    try {
      await ensureTopics(admin, [{ topic: later, numPartitions: 2, replicationFactor: 1 }]);
      await producer.send({ topic: later, messages: [{ value: 'x' }, { value: 'y' }] });
      await waitFor(() => destination.delivered.length === 2, 30_000, 'x and y delivered');
      expect([...destination.delivered].sort()).toEqual(['x', 'y']);
    } finally {
      await admin.deleteTopics({ topics: [later] }).catch(() => {});
    }
  }, 60_000);
});
