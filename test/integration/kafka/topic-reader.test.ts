import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type ReadRecord, readRanges, tailRanges, topicOffsets } from '../../../runtime/kafka/topic-reader.js';
import { requireEnv, uniqueSuffix } from '../env.js';

// The console's reader: offset ranges of a real topic, read once through a throwaway group.
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'it-topic-reader', logLevel: 'nothing' });
const topic = `it-topic-reader-${uniqueSuffix()}`;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
  await admin.disconnect();
  const producer = createProducer(kafka);
  await producer.connect();
  for (const partition of [0, 1]) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 20 }, (_, i) => ({
        partition,
        key: `${partition}-${i}`,
        value: String(i),
        headers: { h: `v${i}` },
      })),
    });
  }
  await producer.disconnect();
}, 60_000);

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

const coords = (rs: readonly ReadRecord[]) => rs.map((r) => `${r.partition}:${r.offset}`);

describe('readRanges', () => {
  it('reads the tail of every partition, in order, with keys and headers', async () => {
    const offsets = await topicOffsets(kafka, [topic, `${topic}-missing`]);
    expect(offsets.get(`${topic}-missing`)).toEqual([]);
    const { records, complete } = await readRanges(kafka, tailRanges(offsets, 3));
    expect(complete).toBe(true);
    expect(coords(records)).toEqual(['0:17', '0:18', '0:19', '1:17', '1:18', '1:19']);
    expect(records[0]!.key!.toString()).toBe('0-17');
    expect(records[0]!.headers).toEqual([['h', Buffer.from('v17')]]);
  });

  it('reads several ranges of one partition (and only them)', async () => {
    const { records } = await readRanges(kafka, [
      { topic, partition: 0, from: 2n, to: 3n },
      { topic, partition: 0, from: 15n, to: 17n },
      { topic, partition: 1, from: 0n, to: 1n },
    ]);
    expect(coords(records)).toEqual(['0:2', '0:15', '0:16', '1:0']);
  });

  it('streams to onRecord, stops when told, and ends with the error a callback throws', async () => {
    const seen: string[] = [];
    const stopped = await readRanges(kafka, [{ topic, partition: 1, from: 0n, to: 20n }], {
      onRecord: (r) => {
        seen.push(`${r.partition}:${r.offset}`);
        return seen.length === 5 ? 'stop' : undefined;
      },
    });
    expect(stopped).toEqual({ records: [], complete: true });
    expect(seen).toEqual(['1:0', '1:1', '1:2', '1:3', '1:4']);
    await expect(
      readRanges(kafka, [{ topic, partition: 0, from: 0n, to: 20n }], {
        onRecord: async (r) => {
          if (r.offset === 3n) throw new Error('judging failed');
        },
      }),
    ).rejects.toThrow('judging failed');
  });
});
