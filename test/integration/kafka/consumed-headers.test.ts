import { afterAll, describe, expect, it } from 'vitest';
import { KafkaPluginAccess, createKafka, ensureTopics } from '../../../runtime/kafka/index.js';
import { readRanges, topicOffsets, tailRanges } from '../../../runtime/kafka/topic-reader.js';
import { type InRecord, KafkaJsPort } from '../../../runtime/worker/kafka-port.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from '../worker/distributed/cluster.js';

const brokers = requireEnv('KAFKA_BROKERS');
const b = (s: string) => Buffer.from(s);

/**
 * What a sink task's consumer hands the task is what the producer wrote: headers in their order, a repeated key as
 * often as it came, null header values, header names that are also names of JavaScript's Object.prototype members
 * (kafkajs's own decoding turned `constructor: x` into two headers, one holding `function Object() { [native code]
 * }`), keys and values byte for byte, offsets and timestamps exact.
 */
describe("a sink consumer hands tasks each record's headers as they were written", () => {
  const kafka = createKafka({ brokers, clientId: 'it-headers', logLevel: 'nothing' });
  const admin = kafka.admin();
  const topics: string[] = [];
  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  });

  const HEADER_SETS: Array<Array<[string, Buffer | null]>> = [
    [],
    [['trace-id', b('abc')]],
    [
      ['a', b('1')],
      ['b', b('2')],
      ['a', b('3')],
    ],
    [
      ['constructor', b('c')],
      ['toString', b('t')],
      ['__proto__', b('p')],
      ['hasOwnProperty', null],
      ['valueOf', b('')],
    ],
    [
      ['x', null],
      ['x', null],
      ['ümlaut', b('ü')],
    ],
  ];

  it.each(['none', 'zstd'] as const)(
    'compression %s',
    async (compression) => {
      const topic = `it-headers-${compression}-${uniqueSuffix()}`;
      topics.push(topic);
      await admin.connect();
      await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
      const port = new KafkaJsPort({ brokers: brokers.split(','), clientId: 'it-headers' });
      const written = Array.from({ length: 60 }, (_, i) => ({
        topic,
        partition: i % 2,
        key: i % 7 === 0 ? null : b(`k${i}`),
        value: i % 11 === 0 ? null : b(`v${i}-${'x'.repeat(i * 13)}`),
        headers: HEADER_SETS[i % HEADER_SETS.length]!,
        timestamp: 1_796_562_646_000 + i * 1_000,
      }));
      const seen: InRecord[] = [];
      try {
        const producer = await port.producer('it-headers', compression === 'none' ? {} : { compression });
        await producer.send(written);
        await producer.close();
        const consumer = await port.consumer(`it-headers-${uniqueSuffix()}`, 'it-headers');
        try {
          void consumer.run({ topics: [topic] }, async (records) => {
            seen.push(...records);
          });
          await waitFor(() => seen.length >= written.length, 30_000, `${written.length} records of ${topic}`);
        } finally {
          await consumer.close();
        }
      } finally {
        await port.close();
      }
      for (const p of [0, 1]) {
        const want = written.filter((w) => w.partition === p);
        const got = seen.filter((r) => r.partition === p);
        expect(got.map((r) => r.offset)).toEqual(want.map((_, i) => BigInt(i)));
        expect(got.map((r) => r.timestamp)).toEqual(want.map((w) => w.timestamp));
        expect(got.map((r) => r.key)).toEqual(want.map((w) => w.key));
        expect(got.map((r) => r.value)).toEqual(want.map((w) => w.value));
        expect(got.map((r) => r.headers)).toEqual(want.map((w) => w.headers));
      }

      // The topic reader (tail, the console's DLQ view, reconcile) shows the same headers in the same order.
      const read = await readRanges(kafka, tailRanges(await topicOffsets(kafka, [topic]), 1_000), {
        timeoutMs: 30_000,
      });
      expect(read.complete).toBe(true);
      for (const p of [0, 1]) {
        const want = written.filter((w) => w.partition === p);
        const got = read.records.filter((r) => r.partition === p);
        expect(got.map((r) => r.offset)).toEqual(want.map((_, i) => BigInt(i)));
        expect(got.map((r) => r.headers)).toEqual(want.map((w) => w.headers));
      }

      // Plugins reading a topic whole get one value per name, the last one written; no name touches the prototype.
      const byOffset = new Map<string, Readonly<Record<string, Buffer>>>();
      await new KafkaPluginAccess(kafka, { clientId: 'it-headers' }).readAll(topic, (_k, _v, partition, meta) => {
        byOffset.set(`${partition}:${meta.offset}`, meta.headers);
      });
      expect(byOffset.size).toBe(written.length);
      for (const p of [0, 1]) {
        written
          .filter((w) => w.partition === p)
          .forEach((w, i) => {
            const got = byOffset.get(`${p}:${i}`)!;
            const want = new Map<string, Buffer>();
            for (const [k, v] of w.headers) {
              if (v === null) want.delete(k);
              else want.set(k, v);
            }
            expect(Object.getPrototypeOf(got)).toBeNull();
            expect(new Map(Object.entries(got))).toEqual(want);
          });
      }
    },
    60_000,
  );
});
