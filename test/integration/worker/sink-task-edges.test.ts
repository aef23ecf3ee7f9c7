import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { destination, testRegistry } from '../../unit/runtime/worker/test-plugins.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';
import { STRINGS, startTestWorker } from '../test-worker.js';

const brokers = requireEnv('KAFKA_BROKERS');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (values: readonly string[]) => [...values].sort();

/**
 * Sink tasks where kafkajs's consumer misbehaves at the edges, against real Kafka, with the RetryingSink test plugin
 * (its `destination` says what it delivered, and can refuse a batch with an error that is no outage):
 * - a task that fails is stopped at once (kafkajs's close, called from inside the failing batch, waited for that
 *   batch: the task was never stopped and its consumer held the partitions until its session timed out);
 * - pausing where kafkajs cannot: before the consumer runs (a connector created or rebalanced while PAUSED was
 *   FAILED with "Consumer group was not initialized"), a regex subscription whose topics are not known yet, a task
 *   that failed;
 * - a topic deleted and created again, or created after the sink (kafkajs restarted the consumer every 100 ms).
 */
describe('sink tasks at their edges (real Kafka)', () => {
  let worker: RunningWorker;
  const base = `it-sink-edges-${uniqueSuffix()}`;
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'it-sink-edges' });
  const producer = createProducer(kafka);
  const admin = kafka.admin();
  const logs: string[] = [];
  const topics: string[] = [];

  const freshTopic = async (name: string, partitions = 2) => {
    const topic = `${base}-${name}`;
    topics.push(topic);
    await ensureTopics(admin, [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
    return topic;
  };
  const send = (topic: string, ...values: string[]) =>
    producer.send({ topic, messages: values.map((value) => ({ value })) });
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
  const createSink = async (
    name: string,
    subscription: Record<string, string>,
    extra: Record<string, unknown> = {},
  ) => {
    const res = await req('POST', '/connectors', {
      name,
      config: {
        'connector.class': 'RetryingSink',
        'consumer.override.group.id': `${base}-${name}`,
        ...subscription,
      },
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  const resetDestination = () =>
    Object.assign(destination, {
      down: false,
      broken: false,
      attempts: 0,
      delivered: [],
      stops: 0,
      pauseOn: null,
      context: null,
    });

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    ({ worker } = await startTestWorker('sink-edges', STRINGS, {
      registry: testRegistry(),
      logSink: (l) => logs.push(l),
    }));
  }, 60_000);
  afterAll(async () => {
    destination.broken = false;
    await worker?.stop();
    await producer.disconnect();
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  });

  it('a failed task is stopped and leaves the group: a restart delivers the rest without waiting out the session', async () => {
    resetDestination();
    const topic = await freshTopic('failed');
    // A session long enough that waiting it out would show.
    await createSink('s', { topics: topic, 'consumer.override.session.timeout.ms': '30000' });
    await send(topic, 'a', 'b');
    await waitFor(() => destination.delivered.length === 2, 30_000, 'a and b delivered');

    destination.broken = true;
    await send(topic, 'c', 'd');
    await waitFor(async () => (await taskState('s')) === 'FAILED', 30_000, 'the task FAILED');
    await waitFor(() => destination.stops === 1, 5_000, 'the failed task stopped');

    destination.broken = false;
    const restartedAt = Date.now();
    expect((await req('POST', '/connectors/s/tasks/0/restart')).status).toBe(204);
    await waitFor(() => destination.delivered.length === 4, 20_000, 'c and d delivered after the restart');
    expect(Date.now() - restartedAt).toBeLessThan(20_000);
    expect(sorted(destination.delivered)).toEqual(['a', 'b', 'c', 'd']);
    expect(await taskState('s')).toBe('RUNNING');
    expect((await req('DELETE', '/connectors/s')).status).toBe(204);
  }, 120_000);

  it('a sink created PAUSED reads nothing until resumed, then everything', async () => {
    resetDestination();
    const topic = await freshTopic('paused');
    await send(topic, 'a', 'b');
    await createSink('p', { topics: topic }, { initial_state: 'PAUSED' });
    await waitFor(async () => (await taskState('p')) === 'PAUSED', 20_000, 'task PAUSED');
    await sleep(2_000);
    expect(destination.delivered).toEqual([]);
    expect(await taskState('p')).toBe('PAUSED');
    expect((await req('PUT', '/connectors/p/resume')).status).toBe(202);
    await waitFor(() => destination.delivered.length === 2, 20_000, 'a and b delivered after resume');
    expect(await taskState('p')).toBe('RUNNING');
    expect((await req('DELETE', '/connectors/p')).status).toBe(204);
  }, 60_000);

  it('a sink on topics.regex created PAUSED reads nothing until resumed, then everything', async () => {
    resetDestination();
    const topic = await freshTopic('regex-1');
    await send(topic, 'x', 'y', 'z');
    await createSink('r', { 'topics.regex': `${base}-regex-.*` }, { initial_state: 'PAUSED' });
    await waitFor(async () => (await taskState('r')) === 'PAUSED', 20_000, 'task PAUSED');
    await sleep(4_000);
    expect(destination.delivered).toEqual([]);
    expect((await req('PUT', '/connectors/r/resume')).status).toBe(202);
    await waitFor(() => destination.delivered.length === 3, 20_000, 'x, y and z delivered after resume');
    expect(sorted(destination.delivered)).toEqual(['x', 'y', 'z']);
    expect((await req('DELETE', '/connectors/r')).status).toBe(204);
  }, 60_000);

  it('a task that pauses a partition (SinkTaskContext.pause) gets nothing more of it, the others flow, and its state stays RUNNING', async () => {
    resetDestination();
    const topic = await freshTopic('self-paused', 2);
    const to = (partition: number, ...values: string[]) =>
      producer.send({ topic, messages: values.map((value) => ({ value, partition })) });
    await to(0, 'a', 'b', 'P', 'c', 'd');
    destination.pauseOn = 'P';
    // max.poll.records=1: the pause lands between two parts of one fetch.
    await createSink('m', { topics: topic, 'consumer.override.max.poll.records': '1' });
    await waitFor(() => destination.delivered.includes('P'), 20_000, 'P delivered');
    await to(1, 'x', 'y');
    await waitFor(() => destination.delivered.includes('y'), 20_000, 'x and y (the other partition) delivered');
    await sleep(2_000);
    expect(destination.delivered).toEqual(['a', 'b', 'P', 'x', 'y']);
    expect(await taskState('m')).toBe('RUNNING');
    // An operator's pause and resume meanwhile do not resume what the task paused.
    expect((await req('PUT', '/connectors/m/pause')).status).toBe(202);
    await waitFor(async () => (await taskState('m')) === 'PAUSED', 10_000, 'task PAUSED');
    expect((await req('PUT', '/connectors/m/resume')).status).toBe(202);
    await to(1, 'z');
    await waitFor(() => destination.delivered.includes('z'), 20_000, 'z delivered');
    await sleep(1_000);
    expect(destination.delivered).toEqual(['a', 'b', 'P', 'x', 'y', 'z']);
    destination.pauseOn = null;
    destination.context!.resume({ topic, partition: 0 });
    await waitFor(() => destination.delivered.length === 8, 20_000, 'c and d delivered after the task resumed');
    expect(destination.delivered.slice(6)).toEqual(['c', 'd']);
    expect((await req('DELETE', '/connectors/m')).status).toBe(204);
  }, 60_000);

  it('pausing and resuming a FAILED sink task keeps the worker up, and a restart still delivers', async () => {
    resetDestination();
    const topic = await freshTopic('failed-paused');
    await send(topic, 'a', 'b');
    destination.broken = true;
    await createSink('f', { topics: topic });
    await waitFor(async () => (await taskState('f')) === 'FAILED', 20_000, 'task FAILED');
    expect((await req('PUT', '/connectors/f/pause')).status).toBe(202);
    expect((await req('PUT', '/connectors/f/resume')).status).toBe(202);
    expect((await req('GET', '/')).status).toBe(200);
    destination.broken = false;
    expect((await req('POST', '/connectors/f/tasks/0/restart')).status).toBe(204);
    await waitFor(() => destination.delivered.length === 2, 20_000, 'delivered after the restart');
    expect(await taskState('f')).toBe('RUNNING');
    expect((await req('DELETE', '/connectors/f')).status).toBe(204);
  }, 60_000);

  it('a deleted topic: the task keeps RUNNING without flooding the log, and delivers what the new topic gets', async () => {
    resetDestination();
    const topic = await freshTopic('deleted');
    await createSink('d', { topics: topic });
    await send(topic, 'a', 'b');
    await waitFor(() => destination.delivered.length === 2, 30_000, 'a and b delivered');
    await admin.deleteTopics({ topics: [topic] });
    const before = logs.length;
    await sleep(10_000);
    // kafkajs crashes on the missing topic and restarts the consumer: backed off, not every 100 ms (245 ERROR lines
    // in these 10 s before).
    const crashes = logs.slice(before).filter((l) => l.includes('Restarting the consumer')).length;
    expect(crashes).toBeGreaterThan(0);
    expect(crashes).toBeLessThanOrEqual(10);
    expect(logs.length - before).toBeLessThan(60);
    expect(await taskState('d')).toBe('RUNNING');

    await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    await send(topic, 'c', 'd');
    await waitFor(() => destination.delivered.length === 4, 30_000, 'c and d delivered');
    expect(sorted(destination.delivered)).toEqual(['a', 'b', 'c', 'd']);
    expect(await taskState('d')).toBe('RUNNING');
    expect((await req('DELETE', '/connectors/d')).status).toBe(204);
  }, 120_000);

  it('a sink started before its topic exists delivers what the topic gets once created', async () => {
    resetDestination();
    const topic = `${base}-later`;
    topics.push(topic);
    await createSink('l', { topics: topic });
    await sleep(3_000);
    expect(await taskState('l')).toBe('RUNNING');
    await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    await send(topic, 'x', 'y');
    await waitFor(() => destination.delivered.length === 2, 30_000, 'x and y delivered');
    expect(sorted(destination.delivered)).toEqual(['x', 'y']);
    expect((await req('DELETE', '/connectors/l')).status).toBe(204);
  }, 60_000);
});
