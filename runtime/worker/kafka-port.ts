import { type KafkaAccess, RetriableError, sleep } from '../api/index.js';
import { KafkaPluginAccess, asKafkaOutage, estimatedRecordBytes, retryTransient, sizedRuns } from '../kafka/index.js';
import {
  type Admin,
  type Consumer,
  type ConsumerFetchOptions,
  type Kafka,
  type Producer,
  type Transaction,
  connectTransactionalProducer,
  createConsumer,
  createKafka,
  ensureTopics,
  type KafkaLogSink,
  type DataProducer,
  connectRecordProducer,
  replicationFactorFor,
  type Compression,
} from '../kafka/index.js';
import type { Ack, OutRecord, ProducerPort, RawHeaders } from '../kafka/producer-port.js';
import { fetchedHeaders } from '../kafka/fetched-headers.js';

/**
 * The narrow slice of Kafka the worker's tasks use. Tasks code against these ports; the real
 * implementation sits on runtime/kafka, and unit tests use an in-memory one.
 */
// The producer side lives in runtime/kafka so error reporting (DLQ) can use it without importing the worker.
export type { Ack, OutRecord, ProducerPort, RawHeaders } from '../kafka/producer-port.js';

export interface InRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RawHeaders;
  timestamp: number;
}

/** A sink task's consumer: the client's options, and where a new group starts and how much one put() gets. */
export interface SinkConsumerOptions extends ConsumerFetchOptions {
  /** auto.offset.reset: earliest (true, Connect's default for sinks) or latest. */
  readonly fromBeginning?: boolean;
  /** max.poll.records: the most records one put() call receives. */
  readonly maxPollRecords?: number;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read (Kafka's committed-offset convention). */
  offset: bigint;
}

export interface ConsumerPort {
  /**
   * Starts consuming; `onBatch` runs for one partition's batch at a time, and must finish before the next.
   * `stale()` turns true once a seek of its partition made the batch obsolete (skip it: the consumer fetches again).
   * `onAssignment` gets this member's partitions after every group rebalance (before their first batch), so
   * offsets of partitions that moved to another member are never committed from here. `onGiveUp` hears of an
   * error the consumer stopped on after run() resolved (one it does not retry): the consumer reads nothing more.
   */
  run(
    subscription: { topics: string[] } | { regex: RegExp },
    onBatch: (records: InRecord[], stale?: () => boolean) => Promise<void>,
    onAssignment?: (partitions: Array<{ topic: string; partition: number }>) => void,
    onGiveUp?: (error: unknown) => void,
  ): Promise<void>;
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  /**
   * The next batch of this (assigned) partition starts at `offset` (SinkTaskContext.offset): a batch of it fetched
   * before is not delivered. Only while running.
   */
  seek(topic: string, partition: number, offset: bigint): void;
  /** The task's pause (REST): nothing more is handed to it until resume(). */
  pause(): void;
  resume(): void;
  /**
   * SinkTaskContext.pause/resume: these partitions' records wait (the others flow) until resumed; kept across
   * rebalances for the partitions still assigned, as Connect does.
   */
  pausePartitions(partitions: ReadonlyArray<{ topic: string; partition: number }>): void;
  resumePartitions(partitions: ReadonlyArray<{ topic: string; partition: number }>): void;
  close(): Promise<void>;
}

/** Kafka's codec ids (record batch attributes), as kafkajs takes them. */
const CODEC_ID: Readonly<Record<Compression, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/**
 * A transactional producer (exactly-once sources). Creating it runs initTransactions, which fences any
 * older producer with the same transactional id (a zombie task) and aborts its open transaction: once the promise
 * resolved, nothing the older producer wrote is still pending, so a read of the offsets topic need not wait for it.
 */
export interface TransactionalProducerPort {
  begin(): Promise<void>;
  /** Sends inside the open transaction; the acks are final only once commit() resolved. */
  send(records: readonly OutRecord[]): Promise<Ack[]>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  readonly inTransaction: boolean;
  close(): Promise<void>;
}

export interface KafkaPort {
  producer(clientId: string, options?: { compression?: Compression }): Promise<ProducerPort>;
  /** `fetch`: the connector's consumer fetch overrides (sinks' `consumer.override.*`). */
  consumer(groupId: string, clientId: string, fetch?: SinkConsumerOptions): Promise<ConsumerPort>;
  ensureTopic(topic: string, options: { partitions: number; replicationFactor: number }): Promise<void>;
  groupOffsets(groupId: string): Promise<PartitionOffset[]>;
  /** A null offset removes that partition's committed offset. */
  alterGroupOffsets(
    groupId: string,
    offsets: Array<{ topic: string; partition: number; offset: bigint | null }>,
  ): Promise<void>;
  deleteGroupOffsets(groupId: string): Promise<void>;
  clusterId(): Promise<string | null>;
  close(): Promise<void>;
  /** Kafka access lent to sink plugins (SinkTaskContext.kafka); optional for in-memory test ports. */
  pluginAccess?(): KafkaAccess;
  /** Exactly-once sources; optional so in-memory test ports need not implement it. */
  transactionalProducer?(
    transactionalId: string,
    options?: { compression?: Compression; transactionTimeoutMs?: number },
  ): Promise<TransactionalProducerPort>;
}

function headersOut(h: RawHeaders): Record<string, Buffer | Buffer[]> {
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of h) {
    const b = v ?? Buffer.alloc(0);
    const prev = out[k];
    out[k] = prev === undefined ? b : Array.isArray(prev) ? [...prev, b] : [prev, b];
  }
  return out;
}

/**
 * Delays between restarts of a crashed consumer: 300 ms doubling to 5 s (the worker's outage backoff), from 300 ms
 * again once a minute passed without a crash.
 */
export class RestartBackoff {
  private delay = 0;
  private last = 0;

  constructor(private readonly now: () => number = Date.now) {}

  next(): number {
    const t = this.now();
    this.delay = this.delay === 0 || t - this.last > 60_000 ? 300 : Math.min(this.delay * 2, 5_000);
    this.last = t;
    return this.delay;
  }
}

/** Transient Kafka errors become RetriableError (ERPSTREAM_KAFKA_UNAVAILABLE): tasks wait those out. */
const wrapKafkaError = (e: unknown): unknown => asKafkaOutage(e);

/** How long an admin call keeps retrying broker outages, coordinator moves and metadata lag. */
const ADMIN_RETRY_MS = 60_000;

/** Admin calls hit coordinator moves and metadata lag right after topic or group creation: retry those. */
async function withRetries<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await retryTransient(op, { timeoutMs: ADMIN_RETRY_MS });
  } catch (e) {
    throw wrapKafkaError(e);
  }
}

/**
 * Sends records as consecutive requests under the broker's per-batch limit (in a transaction they all belong to
 * it) and maps kafkajs's per-partition base offsets back to each record, in order.
 */
async function sendWithAcks(
  producer: Pick<Producer, 'sendBatch'>,
  records: readonly OutRecord[],
  compression: number,
): Promise<Ack[]> {
  const acks: Ack[] = [];
  for (const [from, to] of sizedRuns(records, (r) => estimatedRecordBytes(r.key, r.value, r.headers))) {
    acks.push(...(await sendRequest(producer, records.slice(from, to), compression)));
  }
  return acks;
}

async function sendRequest(
  producer: Pick<Producer, 'sendBatch'>,
  records: readonly OutRecord[],
  compression: number,
): Promise<Ack[]> {
  if (records.length === 0) return [];
  // Group by topic but remember each record's position: acks come back per topic-partition.
  const byTopic = new Map<string, number[]>();
  records.forEach((r, i) => {
    const list = byTopic.get(r.topic) ?? [];
    byTopic.set(r.topic, list);
    list.push(i);
  });
  let results;
  try {
    results = await producer.sendBatch({
      acks: -1,
      compression,
      topicMessages: [...byTopic].map(([topic, idx]) => ({
        topic,
        messages: idx.map((i) => {
          const r = records[i]!;
          return {
            key: r.key,
            value: r.value,
            headers: headersOut(r.headers),
            ...(r.partition !== null ? { partition: r.partition } : {}),
            ...(r.timestamp !== null ? { timestamp: String(r.timestamp) } : {}),
          };
        }),
      })),
    });
  } catch (e) {
    throw wrapKafkaError(e);
  }
  // kafkajs reports one base offset per partition. When a topic's records all went to one
  // partition their offsets are base + rank; otherwise the per-record partition is unknown here.
  const acks: Ack[] = [];
  const perTopic = new Map<string, Array<{ partition: number; next: bigint }>>();
  for (const r of results) {
    const list = perTopic.get(r.topicName) ?? [];
    perTopic.set(r.topicName, list);
    list.push({ partition: r.partition, next: BigInt(r.baseOffset ?? r.offset ?? '-1') });
  }
  for (const r of records) {
    const parts = perTopic.get(r.topic) ?? [];
    const only = parts.length === 1 ? parts[0]! : parts.find((p) => p.partition === r.partition);
    acks.push(
      only
        ? { topic: r.topic, partition: only.partition, offset: only.next++ }
        : { topic: r.topic, partition: -1, offset: -1n },
    );
  }
  return acks;
}

export class KafkaJsPort implements KafkaPort {
  private readonly kafka: Kafka;
  private readonly brokers: string[];
  private adminClient: Admin | null = null;
  private access: KafkaPluginAccess | null = null;

  pluginAccess(): KafkaAccess {
    this.access ??= new KafkaPluginAccess(this.kafka);
    return this.access;
  }

  constructor(options: { brokers: string[]; clientId: string; logSink?: KafkaLogSink }) {
    this.brokers = options.brokers;
    this.kafka = createKafka({
      brokers: options.brokers,
      clientId: options.clientId,
      ...(options.logSink ? { logSink: options.logSink } : {}),
    });
  }

  private async admin(): Promise<Admin> {
    if (!this.adminClient) {
      const a = this.kafka.admin();
      await withRetries(() => a.connect());
      this.adminClient = a;
    }
    return this.adminClient;
  }

  /**
   * Plain (non-transactional) records go through the data-path producer: acks=all, idempotent, in order. It connects
   * in the background: a broker that is down when a task starts makes the first sends fail as an outage, which the
   * task waits out (status "waiting for the Kafka broker"), instead of failing the task's start.
   */
  async producer(clientId: string, options: { compression?: Compression } = {}): Promise<ProducerPort> {
    const connect = () =>
      connectRecordProducer({ brokers: this.brokers, clientId, compression: options.compression ?? 'none' });
    let connecting: Promise<DataProducer> = connect();
    connecting.catch(() => {});
    let closed = false;
    const ready = async (): Promise<DataProducer> => {
      try {
        return await connecting;
      } catch (e) {
        // The next send tries again: a failed connect is not cached.
        if (!closed) {
          connecting = connect();
          connecting.catch(() => {});
        }
        throw e;
      }
    };
    return {
      send: async (records) => (await ready()).send(records),
      close: async () => {
        closed = true;
        const p = await connecting.catch(() => null);
        await p?.close();
      },
    };
  }

  async transactionalProducer(
    transactionalId: string,
    options: { compression?: Compression; transactionTimeoutMs?: number } = {},
  ): Promise<TransactionalProducerPort> {
    // Fenced before the task reads its offsets (Connect's initTransactions() in prepareToInitializeTask).
    const producer = await connectTransactionalProducer(
      this.kafka,
      {
        transactionalId,
        ...(options.transactionTimeoutMs !== undefined ? { transactionTimeoutMs: options.transactionTimeoutMs } : {}),
      },
      withRetries,
    );
    const compression = CODEC_ID[options.compression ?? 'none'];
    let txn: Transaction | null = null;
    return {
      get inTransaction() {
        return txn !== null;
      },
      async begin() {
        // Invariant: the worker opens one transaction at a time per producer.
        if (txn) throw new Error(`Transaction ${transactionalId} is already open`);
        try {
          txn = await producer.transaction();
        } catch (e) {
          throw wrapKafkaError(e);
        }
      },
      async send(records) {
        // Invariant: commit/abort only follow begin().
        if (!txn) throw new Error(`No open transaction for ${transactionalId}`);
        try {
          return await sendWithAcks(txn, records, compression);
        } catch (e) {
          throw wrapKafkaError(e);
        }
      },
      // A broker outage during commit or abort is an outage (the task waits it out and starts again from the
      // committed offsets), not a reason to fail.
      async commit() {
        const t = txn;
        txn = null;
        try {
          await t?.commit();
        } catch (e) {
          throw wrapKafkaError(e);
        }
      },
      async abort() {
        const t = txn;
        txn = null;
        try {
          await t?.abort();
        } catch (e) {
          throw wrapKafkaError(e);
        }
      },
      async close() {
        await producer.disconnect();
      },
    };
  }

  async consumer(groupId: string, _clientId: string, options: SinkConsumerOptions = {}): Promise<ConsumerPort> {
    const { fromBeginning = true, maxPollRecords = Infinity, ...fetch } = options;
    let closed = false;
    const stopped = new AbortController();
    const restarts = new RestartBackoff();
    const consumer: Consumer = createConsumer(this.kafka, {
      ...fetch,
      groupId,
      retry: {
        retries: 5,
        // kafkajs restarts a consumer that crashed on a retriable error, and closing it is one: disconnect() drops
        // the connections under a fetch in flight, the fetch crashes with "Closed connection", and 100 ms later the
        // closed consumer rejoined the group as a member no task reads for, holding its partitions (found by the
        // fault suite's http outage: a task restarted while its put() waited on the destination). A closed consumer
        // never restarts. Restarts back off: a deleted topic made kafkajs crash and restart every 100 ms, two ERROR
        // lines each time (24 lines a second for as long as the topic was missing).
        restartOnFailure: async () => {
          if (closed) return false;
          await sleep(restarts.next(), stopped.signal).catch(() => {});
          return !closed;
        },
      },
    });
    await withRetries(() => consumer.connect());
    const seenTopics = new Set<string>();
    /**
     * The task's pause, kept here and applied to kafkajs whenever it can take it. kafkajs pauses only a consumer
     * group that exists: not before run() (a sink task starting paused, as after a rebalance or a worker restart
     * of a paused connector, failed with "Consumer group was not initialized"), not after close, and a restart
     * after a crash (a broker outage) builds a new group that has forgotten the pause, which silently resumed it.
     */
    let paused = false;
    /** Partitions the task paused (SinkTaskContext.pause), by topic; applied as the task's pause is. */
    const pausedByTask = new Map<string, Set<number>>();
    const taskPaused = (topic: string, partition: number) => pausedByTask.get(topic)?.has(partition) === true;
    /** Both pauses, as far as kafkajs can take them now (again is harmless). */
    const applyPauses = (): void => {
      const wanted: Array<{ topic: string; partitions?: number[] }> = [...pausedByTask].map(([topic, ps]) => ({
        topic,
        partitions: [...ps],
      }));
      if (paused) for (const topic of seenTopics) wanted.push({ topic });
      if (wanted.length === 0) return;
      try {
        consumer.pause(wanted);
      } catch {
        // No consumer group now (closed, or between a crash and its restart): GROUP_JOIN applies them.
      }
    };
    return {
      async run(subscription, onBatch, onAssignment, onGiveUp) {
        // kafkajs reports an error it does not retry (e.g. a session timeout outside the broker's
        // group.min/max.session.timeout.ms) only as a CRASH event, long after run() resolved: without this the task
        // stayed RUNNING and read nothing.
        consumer.on(consumer.events.CRASH, (e) => {
          const { error, restart } = e.payload as { error: unknown; restart: boolean };
          if (!restart && !closed) onGiveUp?.(wrapKafkaError(error));
        });
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          const assigned = e.payload.memberAssignment;
          // A partition that moved to another member is no longer this task's to pause.
          for (const [topic, ps] of pausedByTask) {
            for (const p of ps) if (!assigned[topic]?.includes(p)) ps.delete(p);
            if (ps.size === 0) pausedByTask.delete(topic);
          }
          applyPauses();
          onAssignment?.(
            Object.entries(assigned).flatMap(([topic, partitions]) =>
              partitions.map((partition) => ({ topic, partition })),
            ),
          );
        });
        if ('topics' in subscription) {
          for (const t of subscription.topics) seenTopics.add(t);
          await consumer.subscribe({ topics: subscription.topics, fromBeginning });
        } else {
          await consumer.subscribe({ topics: [subscription.regex], fromBeginning });
        }
        const running = consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
            seenTopics.add(batch.topic);
            if (!isRunning() || isStale() || batch.messages.length === 0) return;
            // Fetched while paused (before the pause reached kafkajs, or of a topic it could not name yet: a regex
            // subscription's): left unresolved, so it is fetched again after the resume.
            if (paused || taskPaused(batch.topic, batch.partition)) {
              applyPauses();
              return;
            }
            const records: InRecord[] = batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: BigInt(m.offset),
              key: m.key,
              value: m.value,
              headers: fetchedHeaders(m),
              timestamp: Number(m.timestamp),
            }));
            // max.poll.records: a fetch larger than that reaches the task in several put() calls, each resolved.
            for (let from = 0; from < records.length; from += maxPollRecords) {
              const part = maxPollRecords >= records.length ? records : records.slice(from, from + maxPollRecords);
              await onBatch(part, isStale);
              // A seek during the batch wins: the next fetch starts where it said.
              if (isStale()) return;
              resolveOffset(batch.messages[from + part.length - 1]!.offset);
              await heartbeat();
              // Paused between two max.poll.records parts: the rest is fetched again after the resume.
              if (!isRunning() || paused || taskPaused(batch.topic, batch.partition)) return;
            }
          },
        });
        // kafkajs made its consumer group synchronously inside run(): a pause from before takes effect now.
        applyPauses();
        await running;
      },
      async commit(offsets) {
        if (offsets.length === 0) return;
        try {
          await consumer.commitOffsets(
            offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })),
          );
        } catch (e) {
          // kafkajs restarts a consumer that crashed on a broker outage; until it has rejoined, a commit finds no
          // group. That ends by itself: an outage, not a reason to fail the task.
          if (/Consumer group was not initialized/.test((e as Error).message ?? '')) {
            throw new RetriableError(`Offset commit while the consumer rejoins its group: ${(e as Error).message}`, {
              cause: e,
              code: 'ERPSTREAM_KAFKA_UNAVAILABLE',
            });
          }
          throw wrapKafkaError(e);
        }
      },
      seek(topic, partition, offset) {
        consumer.seek({ topic, partition, offset: offset.toString() });
      },
      pause() {
        if (paused) return;
        paused = true;
        applyPauses();
      },
      resume() {
        if (!paused) return;
        paused = false;
        if (seenTopics.size === 0) return;
        try {
          consumer.resume([...seenTopics].map((topic) => ({ topic })));
        } catch {
          // No consumer group (closed, or restarting after a crash): the next one starts unpaused.
        }
        // A topic's resume also resumed its partitions the task had paused itself.
        applyPauses();
      },
      pausePartitions(partitions) {
        for (const { topic, partition } of partitions) {
          const ps = pausedByTask.get(topic) ?? new Set<number>();
          pausedByTask.set(topic, ps);
          ps.add(partition);
        }
        applyPauses();
      },
      resumePartitions(partitions) {
        const resumed = new Map<string, number[]>();
        for (const { topic, partition } of partitions) {
          const ps = pausedByTask.get(topic);
          if (!ps?.delete(partition)) continue;
          if (ps.size === 0) pausedByTask.delete(topic);
          resumed.set(topic, [...(resumed.get(topic) ?? []), partition]);
        }
        // While the task is paused as a whole its topics stay paused in kafkajs.
        if (resumed.size === 0 || paused) return;
        try {
          consumer.resume([...resumed].map(([topic, ps]) => ({ topic, partitions: ps })));
        } catch {
          // No consumer group: the next one starts with only the pauses still wanted.
        }
      },
      async close() {
        closed = true;
        stopped.abort();
        await consumer.disconnect();
      },
    };
  }

  async ensureTopic(topic: string, options: { partitions: number; replicationFactor: number }): Promise<void> {
    const admin = await this.admin();
    const { brokers } = await withRetries(() => admin.describeCluster());
    try {
      await ensureTopics(admin, [
        {
          topic,
          numPartitions: options.partitions,
          replicationFactor: replicationFactorFor(options.replicationFactor, brokers.length),
        },
      ]);
    } catch (e) {
      throw wrapKafkaError(e);
    }
  }

  async groupOffsets(groupId: string): Promise<PartitionOffset[]> {
    const admin = await this.admin();
    const topics = await withRetries(() => admin.fetchOffsets({ groupId }));
    const out: PartitionOffset[] = [];
    for (const t of topics) {
      for (const p of t.partitions) {
        if (p.offset !== '-1') out.push({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) });
      }
    }
    return out;
  }

  async alterGroupOffsets(
    groupId: string,
    offsets: Array<{ topic: string; partition: number; offset: bigint | null }>,
  ): Promise<void> {
    const admin = await this.admin();
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      byTopic.set(o.topic, list);
      // kafkajs cannot delete one partition's offset; -1 makes the consumer fall back to auto.offset.reset.
      list.push({ partition: o.partition, offset: o.offset === null ? '-1' : o.offset.toString() });
    }
    for (const [topic, partitions] of byTopic)
      await withRetries(() => admin.setOffsets({ groupId, topic, partitions }));
  }

  async deleteGroupOffsets(groupId: string): Promise<void> {
    const admin = await this.admin();
    try {
      await admin.deleteGroups([groupId]);
    } catch (e) {
      const err = e as { groups?: Array<{ errorCode?: number; error?: { type?: string } }> };
      // A group that never committed anything does not exist: nothing to reset.
      if (!err.groups?.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND')) throw e;
    }
  }

  async clusterId(): Promise<string | null> {
    const admin = await this.admin();
    const c = await withRetries(() => admin.describeCluster());
    return c.clusterId ?? null;
  }

  async close(): Promise<void> {
    await this.adminClient?.disconnect();
    this.adminClient = null;
  }
}
