import { afterAll, describe, expect, it } from 'vitest';
import { kGetApi, produceV11 } from '@platformatic/kafka';
import {
  type KafkaMessage,
  type DataProducer,
  RecordProducer,
  type RecordProducerOptions,
  ThreadedRecordProducer,
  createConsumer,
  createKafka,
  ensureTopics,
  javaPartition,
} from '../../../runtime/kafka/index.js';
import { ErpStreamError, RetriableError } from '../../../runtime/api/index.js';
import { PreEncodingProducer } from '../../../runtime/kafka/pre-encoding-producer.js';
import { requireEnv, uniqueSuffix } from '../env.js';

const brokers = requireEnv('KAFKA_BROKERS');
const kafka = createKafka({ brokers, clientId: 'record-producer-it', logLevel: 'nothing' });
const sfx = uniqueSuffix();

async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: partitions }]);
  await admin.disconnect();
}

/** Every record of the topic as another client (kafkajs) reads it, with its partition and offset. */
async function readBack(topic: string, count: number) {
  const consumer = createConsumer(kafka, { groupId: `rp-it-${uniqueSuffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: Array<{ partition: number; message: KafkaMessage }> = [];
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          out.push({ partition, message });
          if (out.length >= count) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

// The same contract on the calling thread and on a worker thread (ThreadedRecordProducer wraps the same producer).
const variants: Array<[string, (o: RecordProducerOptions) => Promise<DataProducer>]> = [
  ['RecordProducer', (o) => RecordProducer.connect(o)],
  ['ThreadedRecordProducer', (o) => ThreadedRecordProducer.connect(o)],
];

describe.each(variants)('%s (the data-path producer)', (variant, connect) => {
  const producers: DataProducer[] = [];
  afterAll(async () => {
    for (const p of producers) await p.close();
  });

  it('acknowledges each record with the partition and offset a consumer reads it at, keys placed as Java places them', async () => {
    const topic = `rp.acks.${variant}.${sfx}`;
    await createTopic(topic, 4);
    const p = await connect({ brokers, clientId: 'rp-it' });
    producers.push(p);
    const first = Array.from({ length: 300 }, (_, i) => ({
      topic,
      key: Buffer.from(`key-${i % 37}`),
      value: Buffer.from(`v${i}`),
      headers: [['erpstream.version', Buffer.from(String(i))]] as Array<[string, Buffer]>,
      timestamp: 1_700_000_000_000 + i,
    }));
    // Two sends issued without waiting: they must still land in order, one after the other.
    const [a, b] = await Promise.all([p.send(first.slice(0, 150)), p.send(first.slice(150))]);
    const acks = [...a, ...b];
    expect(acks).toHaveLength(300);
    const read = await readBack(topic, 300);
    const byCoordinates = new Map(read.map((r) => [`${r.partition}:${r.message.offset}`, r]));
    acks.forEach((ack, i) => {
      expect(ack.partition).toBe(javaPartition(first[i]!.key, 4));
      const got = byCoordinates.get(`${ack.partition}:${ack.offset}`);
      expect(got?.message.value?.toString()).toBe(`v${i}`);
      expect(got?.message.timestamp).toBe(String(1_700_000_000_000 + i));
    });
    // Per key, offsets grow in send order.
    const lastOffset = new Map<string, bigint>();
    acks.forEach((ack, i) => {
      const k = first[i]!.key.toString();
      const prev = lastOffset.get(k);
      if (prev !== undefined) expect(ack.offset).toBeGreaterThan(prev);
      lastOffset.set(k, ack.offset);
    });
  });

  it('writes tombstones, null keys, explicit partitions, repeated header names and null header values', async () => {
    const topic = `rp.shapes.${variant}.${sfx}`;
    await createTopic(topic, 3);
    const p = await connect({ brokers, clientId: 'rp-it-shapes' });
    producers.push(p);
    const acks = await p.send([
      { topic, key: Buffer.from('gone'), value: null },
      { topic, key: null, value: Buffer.from('no-key-1') },
      { topic, key: null, value: Buffer.from('no-key-2') },
      { topic, partition: 2, key: Buffer.from('pinned'), value: Buffer.from('p') },
      {
        topic,
        key: Buffer.from('h'),
        value: Buffer.from('h'),
        headers: [
          ['dup', Buffer.from('1')],
          ['dup', Buffer.from('2')],
          ['nothing', null],
        ],
      },
    ]);
    expect(acks[3]!.partition).toBe(2);
    // Records without a key stick to one partition within a send.
    expect(acks[1]!.partition).toBe(acks[2]!.partition);
    const read = await readBack(topic, 5);
    const at = (i: number) =>
      read.find((r) => r.partition === acks[i]!.partition && r.message.offset === String(acks[i]!.offset))!;
    expect(at(0).message.value).toBeNull();
    expect(at(0).message.key?.toString()).toBe('gone');
    expect(at(1).message.key).toBeNull();
    const headers = at(4).message.headers!;
    expect((headers.dup as Buffer[]).map(String)).toEqual(['1', '2']);
    expect(headers.nothing ?? null).toBeNull();
  });

  it('after a refused batch, the next one is written under a fresh producer id, never taken for a duplicate', async () => {
    const topic = `rp.refused.${variant}.${sfx}`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1, configs: { 'max.message.bytes': '2000' } }]);
    await admin.disconnect();
    const p = await connect({ brokers, clientId: 'rp-it-refused', retries: 2 });
    producers.push(p);
    await p.send([{ topic, key: Buffer.from('a'), value: Buffer.from('first') }]);
    const refused = await p.send([{ topic, key: Buffer.from('a'), value: Buffer.alloc(10_000, 1) }]).catch((e) => e);
    // A refused batch is no outage: the task fails (or applies its error policy) instead of waiting.
    expect(refused).toBeInstanceOf(ErpStreamError);
    expect(refused).not.toBeInstanceOf(RetriableError);
    expect(refused).toMatchObject({ code: 'ERPSTREAM_KAFKA_REFUSED', message: /rejected a batch of 1 records/ });
    const acks = await p.send([
      { topic, key: Buffer.from('a'), value: Buffer.from('second') },
      { topic, key: Buffer.from('a'), value: Buffer.from('third') },
    ]);
    expect(acks.map((a) => a.offset)).toEqual([1n, 2n]);
    const read = await readBack(topic, 3);
    expect(read.map((r) => r.message.value?.toString())).toEqual(['first', 'second', 'third']);
  });

  it('sends more than the broker takes in one record batch (max.message.bytes) as several requests, in order', async () => {
    const topic = `rp.large.${variant}.${sfx}`;
    await createTopic(topic, 1);
    const p = await connect({ brokers, clientId: 'rp-it-large' });
    producers.push(p);
    // 3,000 records of 1 KB to one partition: three times the broker's default limit for one batch.
    const records = Array.from({ length: 3000 }, (_, i) => ({
      topic,
      key: Buffer.from(String(i)),
      value: Buffer.alloc(1024, i % 256),
    }));
    const acks = await p.send(records);
    expect(acks.map((a) => a.offset)).toEqual(records.map((_, i) => BigInt(i)));
    const read = await readBack(topic, 3000);
    expect(read.map((r) => r.message.key?.toString())).toEqual(records.map((_, i) => String(i)));
  });

  it('names the topic when it does not exist and never creates it', async () => {
    const topic = `rp.missing.${variant}.${sfx}`;
    const p = await connect({ brokers, clientId: 'rp-it-missing', retries: 2 });
    producers.push(p);
    const missing = await p.send([{ topic, key: null, value: Buffer.from('x') }]).catch((e) => e);
    expect(missing).toBeInstanceOf(ErpStreamError);
    expect(missing).toMatchObject({ code: 'ERPSTREAM_KAFKA_REFUSED', message: expect.stringContaining(topic) });
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain(topic);
    await admin.disconnect();
  });

  it('fails to connect with a retriable error naming the brokers when none answers', async () => {
    const err = await connect({
      brokers: '127.0.0.1:1',
      clientId: 'rp-it-down',
      retries: 2,
      requestTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriableError);
    expect(String((err as Error).message)).toContain('127.0.0.1:1');
  });

  it('after close() refuses to send, and leaves no thread behind', async () => {
    const topic = `rp.close.${variant}.${sfx}`;
    await createTopic(topic, 1);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const p = await connect({ brokers, clientId: 'rp-it-close' });
    const acks = await p.send([{ topic, key: Buffer.from('k'), value: Buffer.from('last') }]);
    expect(acks.map((a) => a.offset)).toEqual([0n]);
    await p.close();
    await expect(p.send([{ topic, key: null, value: Buffer.from('late') }])).rejects.toThrow(/closed/);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length).toBe(before);
  });
});

describe('PreEncodingProducer (the client the data-path producer runs)', () => {
  it('writes its Produce requests itself on this broker (v11), not through the client’s own writer', async () => {
    const p = new PreEncodingProducer({
      clientId: 'rp-it-path',
      bootstrapBrokers: brokers.split(','),
      idempotent: true,
    });
    try {
      await p.initIdempotentProducer({});
      const api = await new Promise<{ version: number }>((resolve, reject) =>
        p[kGetApi]('Produce', (e, a) => (e ? reject(e) : resolve(a as unknown as { version: number }))),
      );
      // A broker or client that settles on another version leaves the data path on the client's writer: this test
      // then says so, instead of the drain silently costing its CPU again.
      expect(api.version).toBe(11);
      expect(api).not.toBe(produceV11.api);
    } finally {
      await p.close(true);
    }
  });
});
