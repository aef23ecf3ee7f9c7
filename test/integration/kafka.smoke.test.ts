import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConsumer,
  createKafka,
  createProducer,
  ensureTopics,
  type Admin,
  type Consumer,
  type Kafka,
  type KafkaMessage,
} from '../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from './env.js';

const brokers = requireEnv('KAFKA_BROKERS');
const run = uniqueSuffix();

let kafka: Kafka;
let admin: Admin;
const consumers: Consumer[] = [];
const topics: string[] = [];

/** Reads `topic` from the beginning with a fresh group until `count` records arrived (or times out). */
async function readAll(topic: string, count: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const consumer = createConsumer(kafka, { groupId: `smoke-${topic}-${uniqueSuffix()}` });
  consumers.push(consumer);
  const seen: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${seen.length}/${count} records from ${topic} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(message);
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return seen;
}

beforeAll(async () => {
  kafka = createKafka({ brokers, clientId: `erpstream-smoke-${run}` });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => {})));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
});

describe('Kafka (KRaft broker) via runtime/kafka', () => {
  it('creates a topic explicitly and waits until metadata lists it', async () => {
    const topic = `smoke.create.${run}`;
    topics.push(topic);
    await ensureTopics(admin, [{ topic, numPartitions: 3, configs: { 'cleanup.policy': 'compact' } }]);
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta).toHaveLength(1);
    expect(meta[0]!.partitions).toHaveLength(3);
    expect(meta[0]!.partitions.every((p) => p.leader >= 0)).toBe(true);
    // idempotent: a second call with the topic present is a no-op
    await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
  });

  it('produces with the idempotent producer and consumes in order', async () => {
    const topic = `smoke.idempotent.${run}`;
    topics.push(topic);
    await ensureTopics(admin, [{ topic }]);
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
      const res = await producer.send({
        topic,
        messages: values.map((value, i) => ({ key: `k${i % 3}`, value, headers: { seq: String(i) } })),
      });
      expect(res[0]!.errorCode).toBe(0);
      const read = await readAll(topic, values.length);
      expect(read.map((m) => m.value?.toString())).toEqual(values);
      expect(read[5]!.headers?.seq?.toString()).toBe('5');
    } finally {
      await producer.disconnect();
    }
  });

  it('read_committed consumers see committed transactions only, never aborted ones', async () => {
    const topic = `smoke.txn.${run}`;
    topics.push(topic);
    await ensureTopics(admin, [{ topic }]);
    const producer = createProducer(kafka, { transactionalId: `smoke-txn-${run}` });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({
        topic,
        messages: [
          { key: 'a', value: 'committed-1' },
          { key: 'b', value: 'committed-2' },
        ],
      });
      await committed.commit();

      const aborted = await producer.transaction();
      await aborted.send({
        topic,
        messages: [
          { key: 'a', value: 'aborted-1' },
          { key: 'c', value: 'aborted-2' },
        ],
      });
      await aborted.abort();

      const last = await producer.transaction();
      await last.send({ topic, messages: [{ key: 'd', value: 'committed-3' }] });
      await last.commit();
    } finally {
      await producer.disconnect();
    }

    // The marker after committed-3 proves the consumer has passed the aborted batch: if aborted records were
    // delivered they would arrive before it.
    const read = await readAll(topic, 3);
    expect(read.map((m) => m.value?.toString())).toEqual(['committed-1', 'committed-2', 'committed-3']);

    // A read_uncommitted consumer does see the aborted records (the check above is meaningful).
    const dirty = createConsumer(kafka, { groupId: `smoke-dirty-${uniqueSuffix()}`, readUncommitted: true });
    consumers.push(dirty);
    const dirtySeen: string[] = [];
    await dirty.connect();
    await dirty.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read_uncommitted saw ${dirtySeen.join(',')}`)), 30_000);
      dirty
        .run({
          eachMessage: async ({ message }) => {
            dirtySeen.push(message.value?.toString() ?? '');
            if (dirtySeen.length >= 5) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await dirty.disconnect();
    expect(dirtySeen).toEqual(['committed-1', 'committed-2', 'aborted-1', 'aborted-2', 'committed-3']);
  });
});
