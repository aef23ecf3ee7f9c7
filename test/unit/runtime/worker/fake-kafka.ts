import type {
  Ack,
  ConsumerPort,
  InRecord,
  KafkaPort,
  OutRecord,
  PartitionOffset,
  ProducerPort,
} from '../../../../runtime/worker/kafka-port.js';
import type { ConsumerFetchOptions } from '../../../../runtime/kafka/index.js';

/**
 * An in-memory Kafka (one partition per topic) for fast herder and REST tests. The behaviour it stands
 * in for is covered against the real broker in test/integration/worker.
 */
export class FakeKafka implements KafkaPort {
  readonly topics = new Map<string, InRecord[]>();
  readonly groups = new Map<string, Map<string, bigint>>();
  readonly created: string[] = [];
  /** Set to make the next sends fail (to test error handling). */
  failSends: Error | null = null;
  /** Per group: the topics its consumer owns after a simulated rebalance (all matching ones when absent). */
  private readonly owned = new Map<string, { topics: Set<string>; notify: () => void }>();

  /**
   * Simulates a rebalance of the group: its consumer now owns these topics (partition 0 each) and is told so; a
   * topic it gets back is read again from the group's committed offset.
   */
  reassign(groupId: string, topics: string[]): void {
    const o = this.owned.get(groupId);
    if (!o) throw new Error(`no consumer runs in group ${groupId}`);
    o.topics = new Set(topics);
    o.notify();
  }

  append(
    topic: string,
    r: Omit<InRecord, 'topic' | 'partition' | 'offset' | 'timestamp'> & { timestamp?: number },
  ): void {
    const list = this.topics.get(topic) ?? [];
    this.topics.set(topic, list);
    list.push({ ...r, topic, partition: 0, offset: BigInt(list.length), timestamp: r.timestamp ?? Date.now() });
  }

  /** The client id and codec of every producer a task asked for, in order. */
  readonly producersMade: Array<{ clientId: string; compression: string | undefined }> = [];

  async producer(clientId = '', options: { compression?: string } = {}): Promise<ProducerPort> {
    this.producersMade.push({ clientId, compression: options.compression });
    return {
      send: async (records: readonly OutRecord[]): Promise<Ack[]> => {
        if (this.failSends) throw this.failSends;
        return records.map((r) => {
          this.append(r.topic, {
            key: r.key,
            value: r.value,
            headers: r.headers,
            timestamp: r.timestamp ?? Date.now(),
          });
          const list = this.topics.get(r.topic)!;
          return { topic: r.topic, partition: 0, offset: BigInt(list.length - 1) };
        });
      },
      close: async () => {},
    };
  }

  /** The fetch options each consumer was created with, by group id (a sink's `consumer.override.*` fetch keys). */
  readonly consumerFetch = new Map<string, ConsumerFetchOptions>();

  async consumer(groupId: string, _clientId?: string, fetch: ConsumerFetchOptions = {}): Promise<ConsumerPort> {
    this.consumerFetch.set(groupId, fetch);
    let stopped = false;
    let paused = false;
    /** Topics whose (only) partition the task paused. */
    const pausedByTask = new Set<string>();
    let loop: Promise<void> | null = null;
    const committed = this.groups.get(groupId) ?? new Map<string, bigint>();
    this.groups.set(groupId, committed);
    const position = new Map<string, bigint>();
    return {
      run: async (subscription, onBatch, onAssignment) => {
        const subscribed = (t: string) =>
          'topics' in subscription ? subscription.topics.includes(t) : subscription.regex.test(t);
        const ownership = { topics: new Set([...this.topics.keys()].filter(subscribed)), notify: () => {} };
        let explicit = false;
        ownership.notify = () => {
          explicit = true;
          position.clear();
          onAssignment?.([...ownership.topics].map((topic) => ({ topic, partition: 0 })));
        };
        this.owned.set(groupId, ownership);
        onAssignment?.([...ownership.topics].map((topic) => ({ topic, partition: 0 })));
        const matches = (t: string) => subscribed(t) && (!explicit || ownership.topics.has(t));
        loop = (async () => {
          while (!stopped) {
            let delivered = false;
            if (!paused) {
              for (const [topic, records] of this.topics) {
                if (!matches(topic) || pausedByTask.has(topic)) continue;
                const from = position.get(topic) ?? committed.get(topic) ?? 0n;
                const batch = records.slice(Number(from));
                if (batch.length === 0) continue;
                position.set(topic, from + BigInt(batch.length));
                delivered = true;
                try {
                  await onBatch(batch);
                } catch {
                  return;
                }
              }
            }
            if (!delivered) await new Promise((r) => setTimeout(r, 10));
          }
        })();
      },
      commit: async (offsets: readonly PartitionOffset[]) => {
        for (const o of offsets) committed.set(o.topic, o.offset);
      },
      seek: (topic: string, _partition: number, offset: bigint) => void position.set(topic, offset),
      pause: () => void (paused = true),
      resume: () => void (paused = false),
      pausePartitions: (partitions) => partitions.forEach((p) => pausedByTask.add(p.topic)),
      resumePartitions: (partitions) => partitions.forEach((p) => pausedByTask.delete(p.topic)),
      close: async () => {
        stopped = true;
        await loop;
      },
    };
  }

  async ensureTopic(topic: string): Promise<void> {
    if (!this.topics.has(topic)) {
      this.topics.set(topic, []);
      this.created.push(topic);
    }
  }

  async groupOffsets(groupId: string): Promise<PartitionOffset[]> {
    return [...(this.groups.get(groupId) ?? [])].map(([topic, offset]) => ({ topic, partition: 0, offset }));
  }

  async alterGroupOffsets(
    groupId: string,
    offsets: Array<{ topic: string; partition: number; offset: bigint | null }>,
  ): Promise<void> {
    const g = this.groups.get(groupId) ?? new Map<string, bigint>();
    this.groups.set(groupId, g);
    for (const o of offsets) {
      if (o.offset === null) g.delete(o.topic);
      else g.set(o.topic, o.offset);
    }
  }

  async deleteGroupOffsets(groupId: string): Promise<void> {
    this.groups.delete(groupId);
  }

  async clusterId(): Promise<string> {
    return 'fake-cluster';
  }

  async close(): Promise<void> {}

  values(topic: string): string[] {
    return (this.topics.get(topic) ?? []).map((r) => r.value?.toString('utf8') ?? 'null');
  }
}

export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
