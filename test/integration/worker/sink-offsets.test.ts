import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { holding, testRegistry } from '../../unit/runtime/worker/test-plugins.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';
import { STRINGS, startTestWorker } from '../test-worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * A sink on a shared topic, against real Kafka: the group's committed offset reaches the end of the topic
 * when every record is filtered out, and never passes a record the task has not finished with.
 */
describe('sink offsets on a shared topic (real Kafka)', () => {
  let worker: RunningWorker;
  const topic = `it-shared-${uniqueSuffix()}`;
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'it-sink-offsets' });
  const producer = createProducer(kafka);
  const send = (values: Array<{ value: string; other?: boolean }>) =>
    producer.send({
      topic,
      messages: values.map((v) => ({ value: v.value, headers: v.other ? { other: 'yes' } : {} })),
    });
  const committed = async (connector: string): Promise<number | null> => {
    const res = await fetch(`${worker.url}/connectors/${connector}/offsets`);
    const body = (await res.json()) as {
      offsets: Array<{ partition: { kafka_topic: string }; offset: { kafka_offset: number } }>;
    };
    return body.offsets.find((o) => o.partition.kafka_topic === topic)?.offset.kafka_offset ?? null;
  };
  const sink = (connector: string) =>
    fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: connector,
        config: {
          'connector.class': 'HoldingSink',
          // Each run its own consumer group.
          'consumer.override.group.id': `${connector}-${topic}`,
          topics: topic,
          transforms: 'skip',
          'transforms.skip.type': 'Filter',
          'transforms.skip.predicate': 'isOther',
          predicates: 'isOther',
          'predicates.isOther.type': 'HasHeaderKey',
          'predicates.isOther.name': 'other',
        },
      }),
    });

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    await admin.disconnect();
    await producer.connect();
    ({ worker } = await startTestWorker('sink-offsets', STRINGS, {
      registry: testRegistry(),
      logSink: (l) => {
        if (/"level":"(ERROR|WARN)"/.test(l) && !/org.apache.kafka/.test(l)) process.stderr.write(`${l}\n`);
      },
    }));
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await producer.disconnect();
  });

  it('commits to the end of the topic when every record is filtered out', async () => {
    await send(Array.from({ length: 30 }, (_, i) => ({ value: `other-${i}`, other: true })));
    expect((await sink('all-filtered')).status).toBe(201);
    await waitFor(async () => (await committed('all-filtered')) === 30, 60_000, 'committed offset 30');
  }, 90_000);

  it('never commits past a record the task holds; then catches up past the filtered ones', async () => {
    holding.put = [];
    holding.records = [];
    holding.held = [];
    // Offsets 30.. : one record for us, one the task holds, then only records for others.
    await send([{ value: 'mine' }, { value: 'hold-me' }]);
    await send(Array.from({ length: 10 }, (_, i) => ({ value: `other-${i}`, other: true })));
    expect((await sink('held')).status).toBe(201);
    await waitFor(async () => (await committed('held')) === 31, 60_000, 'committed offset 31');
    // Several commit intervals later, still not past the held record at offset 31.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 300));
      expect(await committed('held')).toBe(31);
    }
    // At least once: a rebalance while the group forms may deliver a batch again.
    expect(new Set(holding.put)).toEqual(new Set(['mine', 'hold-me']));
    holding.held = [];
    await waitFor(async () => (await committed('held')) === 42, 30_000, 'committed offset 42 (the end)');
  }, 120_000);
});
