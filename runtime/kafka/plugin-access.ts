import { randomUUID } from 'node:crypto';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { KafkaAccess, KafkaWriter, OutgoingKafkaRecord, RecordMetadata } from '../api/index.js';
import { createConsumer, createProducer, ensureTopics } from './client.js';

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
    const producer = createProducer(
      this.kafka,
      options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId },
    );
    await producer.connect();
    return new PluginWriter(producer, (topic) => this.partitions(topic), options.transactionalId !== undefined);
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

  /** Partition count of a topic (cached: topics used here are created explicitly and do not shrink). */
  private async partitions(topic: string): Promise<number> {
    const cached = this.partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const n = topics[0]?.partitions.length ?? 0;
      if (n === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
      this.partitionCounts.set(topic, n);
      return n;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async readAll(
    topic: string,
    onRecord: (key: Buffer | null, value: Buffer | null, partition: number) => void,
  ): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
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
              for (const m of batch.messages) onRecord(m.key ?? null, m.value ?? null, batch.partition);
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => {});
    }
  }
}

class PluginWriter implements KafkaWriter {
  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(
    private readonly producer: Producer,
    private readonly partitionsOf: (topic: string) => Promise<number>,
    private readonly transactional: boolean,
  ) {}

  /** Explicit partitions (murmur2 of the key, as Java's default does) so each record's offset can be reported. */
  private async place(records: readonly OutgoingKafkaRecord[]): Promise<number[]> {
    const counts = new Map<string, number>();
    for (const r of records) {
      if (r.partition === undefined && !counts.has(r.topic)) counts.set(r.topic, await this.partitionsOf(r.topic));
    }
    const metadata = new Map(
      [...counts].map(([topic, n]) => [
        topic,
        Array.from({ length: n }, (_, i) => ({
          partitionId: i,
          leader: 0,
          partitionErrorCode: 0,
          replicas: [],
          isr: [],
        })),
      ]),
    );
    let roundRobin = 0;
    return records.map((r) => {
      if (r.partition !== undefined) return r.partition;
      const partitionMetadata = metadata.get(r.topic)!;
      if (r.key === null) return roundRobin++ % partitionMetadata.length;
      return this.partitioner({ topic: r.topic, partitionMetadata, message: { key: r.key, value: r.value } });
    });
  }

  private async messages(records: readonly OutgoingKafkaRecord[]) {
    const partitions = await this.place(records);
    const byTopic = new Map<string, Array<{ index: number; partition: number; r: OutgoingKafkaRecord }>>();
    records.forEach((r, index) => {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ index, partition: partitions[index]!, r });
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
    return { byTopic, topicMessages };
  }

  async send(records: readonly OutgoingKafkaRecord[]): Promise<RecordMetadata[]> {
    if (records.length === 0) return [];
    if (this.transactional) {
      throw new Error('This writer is transactional: send records inside transaction()');
    }
    const { byTopic, topicMessages } = await this.messages(records);
    const acks = await this.producer.sendBatch({ topicMessages, acks: -1 });
    const base = new Map(acks.map((a) => [`${a.topicName}:${a.partition}`, BigInt(a.baseOffset ?? '0')]));
    const result = new Array<RecordMetadata>(records.length);
    for (const [topic, list] of byTopic) {
      const seen = new Map<number, bigint>();
      for (const { index, partition } of list) {
        const n = seen.get(partition) ?? 0n;
        seen.set(partition, n + 1n);
        result[index] = { topic, partition, offset: (base.get(`${topic}:${partition}`) ?? 0n) + n };
      }
    }
    return result;
  }

  async transaction<T>(
    fn: (tx: { send(records: readonly OutgoingKafkaRecord[]): Promise<void> }) => Promise<T>,
  ): Promise<T> {
    if (!this.transactional) throw new Error('transaction() needs a writer opened with a transactionalId');
    const tx = await this.producer.transaction();
    try {
      const result = await fn({
        send: async (records) => {
          if (records.length === 0) return;
          const { topicMessages } = await this.messages(records);
          await tx.sendBatch({ topicMessages, acks: -1 });
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
