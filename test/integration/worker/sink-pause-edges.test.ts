import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { destination, testRegistry } from '../../unit/runtime/worker/test-plugins.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';
import { STRINGS, startTestWorker } from '../test-worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * Pausing a sink task where kafkajs cannot pause: before its consumer runs (a connector created or rebalanced while
 * PAUSED: the task was FAILED with "Consumer group was not initialized"), on a regex subscription whose topics are not
 * known yet, and after the task failed (its consumer closed).
 */
describe('pausing sink tasks at their edges (real Kafka)', () => {
  let worker: RunningWorker;
  const topic = `it-sink-pause-${uniqueSuffix()}`;
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'it-sink-pause' });
  const producer = createProducer(kafka);
  const send = (...values: string[]) => producer.send({ topic, messages: values.map((value) => ({ value })) });
  const req = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${worker.url}${p}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
  const taskState = async (c: string) =>
    ((await req('GET', `/connectors/${c}/status`)).body as { tasks: Array<{ state: string }> }).tasks[0]?.state;
  const config = (c: string) => ({
    'connector.class': 'RetryingSink',
    topics: topic,
    'consumer.override.group.id': `${c}-${uniqueSuffix()}`,
  });

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    await admin.disconnect();
    await producer.connect();
    ({ worker } = await startTestWorker('sink-pause', STRINGS, { registry: testRegistry() }));
  }, 60_000);
  afterAll(async () => {
    destination.broken = false;
    await worker?.stop();
    await producer.disconnect();
  });

  it('a sink created PAUSED reads nothing until resumed, then everything', async () => {
    Object.assign(destination, { down: false, broken: false, attempts: 0, delivered: [], stops: 0 });
    await send('a', 'b');
    expect((await req('POST', '/connectors', { name: 'p', config: config('p'), initial_state: 'PAUSED' })).status).toBe(
      201,
    );
    await waitFor(async () => (await taskState('p')) === 'PAUSED', 20_000, 'task PAUSED');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(destination.delivered).toEqual([]);
    expect((await req('PUT', '/connectors/p/resume')).status).toBe(202);
    await waitFor(() => destination.delivered.length === 2, 20_000, 'a and b delivered after resume');
    expect(await taskState('p')).toBe('RUNNING');
    expect((await req('DELETE', '/connectors/p')).status).toBe(204);
  }, 60_000);

  it('a sink on topics.regex created PAUSED reads nothing until resumed, then everything', async () => {
    Object.assign(destination, { down: false, broken: false, attempts: 0, delivered: [], stops: 0 });
    const { topics: _t, ...rest } = config('r');
    const regex = `${topic}-r-.*`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: `${topic}-r-1`, numPartitions: 2, replicationFactor: 1 }]);
    await admin.disconnect();
    await producer.send({ topic: `${topic}-r-1`, messages: [{ value: 'x' }, { value: 'y' }, { value: 'z' }] });
    const created = await req('POST', '/connectors', {
      name: 'r',
      config: { ...rest, 'topics.regex': regex },
      initial_state: 'PAUSED',
    });
    expect(created.status).toBe(201);
    await waitFor(async () => (await taskState('r')) === 'PAUSED', 20_000, 'task PAUSED');
    await new Promise((r) => setTimeout(r, 4_000));
    expect(destination.delivered).toEqual([]);
    expect((await req('PUT', '/connectors/r/resume')).status).toBe(202);
    await waitFor(() => destination.delivered.length === 3, 20_000, 'x, y and z delivered after resume');
    expect([...destination.delivered].sort()).toEqual(['x', 'y', 'z']);
    expect((await req('DELETE', '/connectors/r')).status).toBe(204);
  }, 60_000);

  it('pausing and resuming a FAILED sink task keeps the worker up, and a restart still delivers', async () => {
    Object.assign(destination, { down: false, broken: true, attempts: 0, delivered: [], stops: 0 });
    expect((await req('POST', '/connectors', { name: 'f', config: config('f') })).status).toBe(201);
    await waitFor(async () => (await taskState('f')) === 'FAILED', 20_000, 'task FAILED');
    expect((await req('PUT', '/connectors/f/pause')).status).toBe(202);
    expect((await req('PUT', '/connectors/f/resume')).status).toBe(202);
    expect((await req('GET', '/')).status).toBe(200);
    destination.broken = false;
    expect((await req('POST', '/connectors/f/tasks/0/restart')).status).toBe(204);
    await waitFor(() => destination.delivered.length >= 2, 20_000, 'delivered after the restart');
    expect(await taskState('f')).toBe('RUNNING');
  }, 60_000);
});
