import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createConsumer } from './client.js';
import { fetchedHeaders } from './fetched-headers.js';

/** One record read back from a topic, with its coordinates (for the console's DLQ browser and lineage). */
export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Array<[string, Buffer | null]>;
}

/** A half-open offset range [from, to) of one partition. */
export interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

/** Each partition's offsets [low, high) as the broker has them now. */
export async function topicOffsets(
  kafka: Kafka,
  topics: readonly string[],
): Promise<Map<string, Array<{ partition: number; low: bigint; high: bigint }>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out = new Map<string, Array<{ partition: number; low: bigint; high: bigint }>>();
    for (const topic of new Set(topics)) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        out.set(
          topic,
          offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })),
        );
      } catch {
        out.set(topic, []); // a topic that does not exist (yet) holds nothing to show
      }
    }
    return out;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The last `perPartition` offsets of each partition (from `after` on, when given), as ranges. */
export function tailRanges(
  offsets: Map<string, Array<{ partition: number; low: bigint; high: bigint }>>,
  perPartition: number,
): PartitionRange[] {
  const out: PartitionRange[] = [];
  for (const [topic, parts] of offsets) {
    for (const p of parts) {
      const from = p.high - BigInt(perPartition) > p.low ? p.high - BigInt(perPartition) : p.low;
      if (from < p.high) out.push({ topic, partition: p.partition, from, to: p.high });
    }
  }
  return out;
}

/**
 * Reads the given offset ranges once, read_committed, through a throwaway consumer group (nothing is committed;
 * kafkajs only fetches through a group). Stops when every range is read or `timeoutMs` passed; what was read by
 * then is returned with `complete: false`, so a slow broker gives a partial answer instead of a hung request.
 */
export async function readRanges(
  kafka: Kafka,
  ranges: readonly PartitionRange[],
  o: {
    timeoutMs?: number;
    clientId?: string;
    /**
     * Takes each record as it is read instead of collecting them (a whole DLQ topic need not fit in memory); `'stop'`
     * ends the read. Records come in offset order per partition; partitions interleave. A throw ends the read with it.
     */
    onRecord?: (r: ReadRecord) => void | 'stop' | Promise<void | 'stop'>;
  } = {},
): Promise<{ records: ReadRecord[]; complete: boolean }> {
  const wanted = ranges.filter((r) => r.to > r.from);
  if (wanted.length === 0) return { records: [], complete: true };
  // Several ranges of one partition are read as their span, keeping only the records inside one of them.
  const rangeOf = new Map<
    string,
    { topic: string; partition: number; from: bigint; to: bigint; parts: PartitionRange[] }
  >();
  for (const r of wanted) {
    const key = `${r.partition}:${r.topic}`;
    const cur = rangeOf.get(key);
    if (!cur) rangeOf.set(key, { topic: r.topic, partition: r.partition, from: r.from, to: r.to, parts: [r] });
    else {
      if (r.from < cur.from) cur.from = r.from;
      if (r.to > cur.to) cur.to = r.to;
      cur.parts.push(r);
    }
  }
  const spans = [...rangeOf.values()];
  const remaining = new Set(rangeOf.keys());
  const records: ReadRecord[] = [];
  const consumer = createConsumer(kafka, { groupId: `${o.clientId ?? 'erpstream-console'}-read-${randomUUID()}` });
  let complete = false;
  let failure: { error: unknown } | null = null;
  await consumer.connect();
  try {
    const topics = [...new Set(spans.map((r) => r.topic))];
    await consumer.subscribe({ topics, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, o.timeoutMs ?? 15_000);
      const end = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const finish = (key: string): void => {
        remaining.delete(key);
        if (remaining.size === 0) {
          complete = true;
          end();
        }
      };
      // Positions move to the range starts as soon as the partitions are assigned; a seek before would be lost.
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const r of spans) consumer.seek({ topic: r.topic, partition: r.partition, offset: r.from.toString() });
      });
      // END_BATCH_PROCESS also fires for batches of control records only, which never reach eachBatch.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const key = `${payload.partition}:${payload.topic}`;
        const r = rangeOf.get(key);
        if (r && payload.lastOffset !== null && BigInt(payload.lastOffset) + 1n >= r.to) finish(key);
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const r = rangeOf.get(`${batch.partition}:${batch.topic}`);
            if (!r || failure !== null) return;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (!r.parts.some((p) => offset >= p.from && offset < p.to)) continue;
              const record: ReadRecord = {
                topic: batch.topic,
                partition: batch.partition,
                offset,
                timestamp: Number(m.timestamp),
                key: m.key ?? null,
                value: m.value ?? null,
                headers: [...fetchedHeaders(m)],
              };
              if (!o.onRecord) {
                records.push(record);
                continue;
              }
              // Errors end the read here: thrown out of eachBatch, kafkajs would fetch the batch again.
              try {
                if ((await o.onRecord(record)) === 'stop') {
                  complete = true;
                  failure = { error: null };
                  end();
                  return;
                }
              } catch (e) {
                failure = { error: e };
                end();
                return;
              }
            }
          },
        })
        .catch(reject);
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  const f = failure as { error: unknown } | null;
  if (f !== null && f.error !== null) throw f.error;
  records.sort((a, b) =>
    a.topic !== b.topic
      ? a.topic.localeCompare(b.topic)
      : a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
  );
  return { records, complete };
}
