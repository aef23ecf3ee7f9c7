import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import {
  type KafkaAccess,
  type KafkaWriter,
  type OutgoingKafkaRecord,
  type RecordMetadata,
  ErpStreamError,
  RetriableError,
} from '../api/index.js';
import { brokersOf, connectTransactionalProducer, createConsumer, ensureTopics } from './client.js';
import { fetchedHeaders, lastHeaderValues } from './fetched-headers.js';
import { javaPartition } from './murmur2.js';
import { type ProducerRecord, RecordProducer } from './record-producer.js';
import { estimatedRecordBytes, sizedRuns } from './request-size.js';
import { retryTransient } from './transient.js';

/** How long a plugin's metadata and offset look-ups retry a broker outage or a topic not served yet. */
const PLUGIN_ADMIN_RETRY_MS = 60_000;

/**
 * KafkaAccess for plugins on top of runtime/kafka: idempotent producers (one request in flight, murmur2
 * partitioning), explicit topic creation, and reading a (compacted) topic to its end. Plugins get this through
 * SinkTaskContext.kafka and never see kafkajs.
 */
export class KafkaPluginAccess implements KafkaAccess {
  private readonly partitionCounts = new Map<string, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: { clientId?: string; replicationFactor?: number } = {},
  ) {}

  async writer(options: { transactionalId?: string; clientId?: string } = {}): Promise<KafkaWriter> {
    if (options.transactionalId === undefined) {
      const producer = await RecordProducer.connect({
        brokers: brokersOf(this.kafka),
        clientId: options.clientId ?? this.options.clientId ?? 'erpstream-plugin',
      });
      return new PluginWriter(producer);
    }
    const producer = await connectTransactionalProducer(this.kafka, { transactionalId: options.transactionalId });
    return new TransactionalPluginWriter(producer, (topic) => this.partitions(topic));
  }

  async ensureTopics(
    topics: ReadonlyArray<{ topic: string; partitions?: number; configs?: Readonly<Record<string, string>> }>,
  ): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(
        admin,
        topics.map((t) => ({
          topic: t.topic,
          ...(t.partitions === undefined ? {} : { numPartitions: t.partitions }),
          ...(this.options.replicationFactor === undefined
            ? {}
            : { replicationFactor: this.options.replicationFactor }),
          ...(t.configs === undefined ? {} : { configs: { ...t.configs } }),
        })),
      );
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async existingTopics(topics: readonly string[]): Promise<string[]> {
    const admin = this.kafka.admin();
    try {
      const all = await retryTransient(
        async () => {
          await admin.connect();
          return new Set(await admin.listTopics());
        },
        { timeoutMs: PLUGIN_ADMIN_RETRY_MS },
      );
      return topics.filter((t) => all.has(t));
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** Partition count of a topic (cached: topics used here are created explicitly and do not shrink). */
  private async partitions(topic: string): Promise<number> {
    const cached = this.partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    const admin = this.kafka.admin();
    try {
      // A topic created a moment ago may not be in the metadata yet; a broker may be restarting: both end.
      const n = await retryTransient(
        async () => {
          await admin.connect();
          const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
          const count = topics[0]?.partitions.length ?? 0;
          if (count === 0) {
            throw new RetriableError(`topic ${topic} has no partitions in the metadata (does it exist?)`, {
              code: 'ERPSTREAM_TOPIC_NOT_READY',
            });
          }
          return count;
        },
        { timeoutMs: PLUGIN_ADMIN_RETRY_MS },
      );
      this.partitionCounts.set(topic, n);
      return n;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async readAll(
    topic: string,
    onRecord: (
      key: Buffer | null,
      value: Buffer | null,
      partition: number,
      meta: { offset: bigint; headers: Readonly<Record<string, Buffer>> },
    ) => unknown,
  ): Promise<void> {
    const admin = this.kafka.admin();
    let ends: Map<number, bigint>;
    try {
      const offsets = await retryTransient(
        async () => {
          await admin.connect();
          return admin.fetchTopicOffsets(topic);
        },
        { timeoutMs: PLUGIN_ADMIN_RETRY_MS },
      );
      ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect().catch(() => {});
    }
    const remaining = new Set([...ends].filter(([, end]) => end > 0n).map(([p]) => p));
    if (remaining.size === 0) return;
    // A throwaway group: nothing is committed, the group only exists so kafkajs can fetch.
    const groupId = `${this.options.clientId ?? 'erpstream'}-readall-${randomUUID()}`;
    const consumer = createConsumer(this.kafka, { groupId });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        // Progress is judged by kafkajs's END_BATCH_PROCESS: it also fires for batches that held only control
        // records or aborted transactions, which never reach eachBatch but still move the position to the end.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const end = ends.get(payload.partition);
          if (payload.topic !== topic || end === undefined || payload.lastOffset === null) return;
          if (BigInt(payload.lastOffset) + 1n >= end) remaining.delete(payload.partition);
          if (remaining.size === 0) resolve();
        });
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                const pending = onRecord(m.key ?? null, m.value ?? null, batch.partition, {
                  offset: BigInt(m.offset),
                  headers: lastHeaderValues(fetchedHeaders(m)),
                });
                if (pending instanceof Promise) await pending;
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => {});
    }
  }
}

/** Plain writes: the data-path producer (acks=all, idempotent), one ack per record with its partition and offset. */
class PluginWriter implements KafkaWriter {
  constructor(private readonly producer: RecordProducer) {}

  async send(records: readonly OutgoingKafkaRecord[]): Promise<RecordMetadata[]> {
    const out = new Array<ProducerRecord>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      out[i] = {
        topic: r.topic,
        partition: r.partition ?? null,
        key: r.key,
        value: r.value,
        ...(r.headers ? { headers: headerPairs(r.headers) } : {}),
        timestamp: r.timestamp ?? null,
      };
    }
    return this.producer.send(out);
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

function headerPairs(h: Readonly<Record<string, Buffer | string>>): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const k in h) {
    const v = h[k]!;
    out.push([k, typeof v === 'string' ? Buffer.from(v) : v]);
  }
  return out;
}

const outgoingSize = (r: OutgoingKafkaRecord): number =>
  estimatedRecordBytes(r.key, r.value, Object.entries(r.headers ?? {}));

/** Transactional writes (exactly-once destinations) stay on kafkajs, whose transaction handling is tested here. */
class TransactionalPluginWriter implements KafkaWriter {
  constructor(
    private readonly producer: Producer,
    private readonly partitionsOf: (topic: string) => Promise<number>,
  ) {}

  /** Explicit partitions (murmur2 of the key, as Java's default does) so each record's offset can be reported. */
  private async place(records: readonly OutgoingKafkaRecord[]): Promise<number[]> {
    const counts = new Map<string, number>();
    for (const r of records) {
      if (r.partition === undefined && !counts.has(r.topic)) counts.set(r.topic, await this.partitionsOf(r.topic));
    }
    let roundRobin = 0;
    return records.map((r) => {
      if (r.partition !== undefined) return r.partition;
      const n = counts.get(r.topic)!;
      return r.key === null ? roundRobin++ % n : javaPartition(r.key, n);
    });
  }

  private async messages(records: readonly OutgoingKafkaRecord[]) {
    const partitions = await this.place(records);
    const byTopic = new Map<string, Array<{ partition: number; r: OutgoingKafkaRecord }>>();
    records.forEach((r, index) => {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ partition: partitions[index]!, r });
      byTopic.set(r.topic, list);
    });
    const topicMessages = [...byTopic].map(([topic, list]) => ({
      topic,
      messages: list.map(({ partition, r }) => ({
        key: r.key,
        value: r.value,
        partition,
        ...(r.headers ? { headers: { ...r.headers } } : {}),
        ...(r.timestamp === undefined ? {} : { timestamp: String(r.timestamp) }),
      })),
    }));
    return topicMessages;
  }

  async send(): Promise<RecordMetadata[]> {
    throw new ErpStreamError(
      'ERPSTREAM_PLUGIN_MISUSE',
      'This writer is transactional: send records inside transaction()',
    );
  }

  async transaction<T>(
    fn: (tx: { send(records: readonly OutgoingKafkaRecord[]): Promise<void> }) => Promise<T>,
  ): Promise<T> {
    const tx = await this.producer.transaction();
    try {
      const result = await fn({
        send: async (records) => {
          // Several requests within the one transaction when the records outgrow what the broker takes at once.
          for (const [from, to] of sizedRuns(records, outgoingSize)) {
            const topicMessages = await this.messages(records.slice(from, to));
            await tx.sendBatch({ topicMessages, acks: -1 });
          }
        },
      });
      await tx.commit();
      return result;
    } catch (e) {
      await tx.abort().catch(() => {});
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
