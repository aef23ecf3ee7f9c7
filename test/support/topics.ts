import { createConsumer, createKafka } from '../../runtime/kafka/index.js';
import { waitFor } from './worker.js';

export interface RawRecord {
  key: string | null;
  value: string | null;
  partition: number;
}

/** Every record of a topic up to its current end (read_committed unless told otherwise). */
export async function readTopic(brokers: string, topic: string, readUncommitted = false): Promise<RawRecord[]> {
  const kafka = createKafka({ brokers, clientId: 'it-dist-reader', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const consumer = createConsumer(kafka, { groupId: `it-dist-reader-${Date.now()}-${Math.random()}`, readUncommitted });
  const out: RawRecord[] = [];
  const positions = new Map<number, bigint>();
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const p = e.payload as { partition: number; lastOffset: string };
    positions.set(p.partition, BigInt(p.lastOffset) + 1n);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        out.push({
          key: m.key?.toString('utf8') ?? null,
          value: m.value?.toString('utf8') ?? null,
          partition: batch.partition,
        });
      }
    },
  });
  await waitFor(
    () => ends.every((e) => (positions.get(e.partition) ?? 0n) >= BigInt(e.offset)),
    60_000,
    `reading ${topic} to its end`,
  );
  await consumer.disconnect();
  return out;
}
