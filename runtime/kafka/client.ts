import {
  Kafka,
  Partitioners,
  type Admin,
  type Consumer,
  type ConsumerConfig,
  type ITopicConfig,
  type Producer,
  type ProducerConfig,
  type RetryOptions,
} from 'kafkajs';
import { ErpStreamError, RetriableError } from '../api/index.js';
import { fixRequestQueueTimers } from './kafkajs-node24.js';
import { fixAbortedTransactionFilter } from './kafkajs-read-committed.js';
import { useFastRecordBatches } from './kafkajs-record-batches.js';
import { registerKafkaCodecs } from './kafkajs-codecs.js';
import { isTransientKafkaError } from './transient.js';
import { kafkaLogCreator, stderrLogSink, toKafkaLogLevel, type KafkaLogSink, type LogLevelName } from './log.js';
import { sleep } from '../api/sleep.js';

export interface KafkaOptions {
  /** host:port list, e.g. from `KAFKA_BROKERS` (comma separated). Use 127.0.0.1, not localhost (Node may pick ::1). */
  brokers: string[] | string;
  clientId: string;
  /** Where kafkajs's log lines go (default: JSON lines on stderr). */
  logSink?: KafkaLogSink;
  /** Minimum level passed to the sink (default 'warn'; kafkajs is chatty at info). */
  logLevel?: LogLevelName | 'nothing';
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: RetryOptions;
}

/** Splits a `KAFKA_BROKERS`-style value into a broker list. */
export function parseBrokers(brokers: string[] | string): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(',')).map((b) => b.trim()).filter(Boolean);
  if (list.length === 0) throw new ErpStreamError('ERPSTREAM_KAFKA_BROKERS_MISSING');
  return list;
}

/** The broker list each client was made with, for the data-path producer (it is a separate client library). */
const brokersByClient = new WeakMap<Kafka, string[]>();

/** The brokers a client from createKafka() connects to. */
export function brokersOf(kafka: Kafka): string[] {
  const brokers = brokersByClient.get(kafka);
  // Invariant: every client in the runtime comes from createKafka().
  if (!brokers) throw new Error('This Kafka client was not made by createKafka(): its brokers are unknown');
  return brokers;
}

fixRequestQueueTimers();
// Before the read_committed fix, which loads the fetch response decoders.
useFastRecordBatches();
fixAbortedTransactionFilter();
registerKafkaCodecs();

/** Creates a Kafka client with erpstream's defaults. */
export function createKafka(options: KafkaOptions): Kafka {
  const level = options.logLevel ?? 'warn';
  const brokers = parseBrokers(options.brokers);
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: options.retry ?? { initialRetryTime: 100, retries: 8 },
    logLevel: toKafkaLogLevel(level),
    logCreator: kafkaLogCreator(options.logSink ?? stderrLogSink(level === 'nothing' ? 'error' : level)),
  });
  brokersByClient.set(kafka, brokers);
  return kafka;
}

export interface TopicSpec {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  /** Topic-level configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, string>;
}

export interface EnsureTopicsOptions {
  /**
   * How long to keep trying (transient errors: broker down, no leader yet, metadata not served yet) until every
   * topic exists and is usable (default 60 s); -1 = forever.
   */
  timeoutMs?: number;
  /** Told about each transient error before the next attempt (for logs and a "waiting" status). */
  onRetry?: (error: unknown, sinceMs: number) => void;
}

/**
 * Creates the topics that do not exist yet (explicitly: never rely on auto-creation, which races with metadata
 * under KRaft) and waits until each one is usable: listed in the metadata, a leader on every partition, and its
 * offsets served by those leaders (right after creation a leader may still answer "This server does not host this
 * topic-partition"). Transient errors are retried with backoff until `timeoutMs`; existing topics are left as they
 * are. The one helper for "create the topic, then use it".
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[], options: EnsureTopicsOptions = {}): Promise<void> {
  if (specs.length === 0) return;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const since = Date.now();
  const deadline = timeoutMs < 0 ? Infinity : since + timeoutMs;
  const wanted = specs.map((s) => s.topic);
  let lastProblem = '';
  let delay = 100;
  for (;;) {
    try {
      const listed = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !listed.has(s.topic));
      if (missing.length > 0) {
        await createTopics(admin, missing, Math.min(30_000, Math.max(1000, deadline - Date.now())));
        lastProblem = `created ${missing.map((s) => s.topic).join(', ')}; waiting for the metadata`;
      } else {
        const { topics } = await admin.fetchTopicMetadata({ topics: wanted });
        const leaderless = topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (leaderless.length === 0) {
          // Each leader must serve the partition, not just be named in the metadata.
          for (const t of wanted) await admin.fetchTopicOffsets(t);
          return;
        }
        lastProblem = `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`;
      }
    } catch (err) {
      if (!isTransientKafkaError(err)) throw err;
      lastProblem = err instanceof Error ? err.message : String(err);
      options.onRetry?.(err, since);
    }
    if (Date.now() > deadline) {
      throw new RetriableError(`Topic(s) ${wanted.join(', ')} not usable after ${timeoutMs} ms: ${lastProblem}`, {
        code: 'ERPSTREAM_TOPIC_NOT_READY',
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
}

/**
 * The replication factor to create a topic with: -1 stays -1 (the broker's `default.replication.factor`, KIP-464);
 * a count is capped at the brokers there are, so a single-broker dev cluster can hold a topic asked for with 3.
 */
export function replicationFactorFor(requested: number, brokerCount: number): number {
  return requested === -1 ? -1 : Math.max(1, Math.min(requested, brokerCount));
}

async function createTopics(admin: Admin, specs: TopicSpec[], timeoutMs: number): Promise<void> {
  const topics: ITopicConfig[] = specs.map((s) => ({
    topic: s.topic,
    numPartitions: s.numPartitions ?? 1,
    replicationFactor: s.replicationFactor ?? 1,
    configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
  }));
  try {
    await admin.createTopics({ topics, waitForLeaders: true, timeout: timeoutMs });
  } catch (err) {
    // Another client may have created one of them in the meantime; anything else is for the caller to judge.
    if (!isTopicExistsError(err)) throw err;
  }
}

function isTopicExistsError(err: unknown): boolean {
  const e = err as { type?: string; errors?: Array<{ type?: string }> } | undefined;
  if (e?.type === 'TOPIC_ALREADY_EXISTS') return true;
  return Array.isArray(e?.errors) && e.errors.length > 0 && e.errors.every((x) => x.type === 'TOPIC_ALREADY_EXISTS');
}

export interface ProducerOptions {
  /** Set to make a transactional producer (implies idempotence). */
  transactionalId?: string;
  transactionTimeoutMs?: number;
  retry?: RetryOptions;
}

/**
 * An idempotent producer with one request in flight (ordering holds across retries), Java-compatible (murmur2)
 * partitioning, and no topic auto-creation.
 */
export function createProducer(kafka: Kafka, options: ProducerOptions = {}): Producer {
  const config: ProducerConfig = {
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  };
  if (options.transactionalId !== undefined) config.transactionalId = options.transactionalId;
  if (options.transactionTimeoutMs !== undefined) config.transactionTimeout = options.transactionTimeoutMs;
  if (options.retry !== undefined) config.retry = options.retry;
  return kafka.producer(config);
}

/**
 * A connected transactional producer that has already fenced every earlier producer with its transactional id, as
 * Java's initTransactions() does: the coordinator has bumped the epoch and aborted their open transaction. kafkajs'
 * connect() only asks for an idempotent producer id, without the transactional id; the InitProducerId that fences is
 * sent by the first transaction(). Until then a predecessor's transaction stays open, and a read_committed read of
 * its topics (an exactly-once task reading its offsets) waits for the broker to time it out: 60 s and more. So an
 * empty transaction is begun and aborted here; it ends without a request to the broker.
 * @param attempt runs each step (connect, fence): the caller's retries and error mapping, if any
 */
export async function connectTransactionalProducer(
  kafka: Kafka,
  options: ProducerOptions & { transactionalId: string },
  attempt: <T>(step: () => Promise<T>) => Promise<T> = (step) => step(),
): Promise<Producer> {
  const producer = createProducer(kafka, options);
  try {
    await attempt(() => producer.connect());
    await attempt(async () => {
      const fencing = await producer.transaction();
      await fencing.abort();
    });
  } catch (e) {
    await producer.disconnect().catch(() => {});
    throw e;
  }
  return producer;
}

/** What a sink connector may set of its consumer (`consumer.override.*`), as kafkajs names it. */
export interface ConsumerFetchOptions {
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
  readonly minBytes?: number;
  readonly maxWaitTimeInMs?: number;
  /** Default false: read_committed, so records of aborted or open transactions are never seen. */
  readonly readUncommitted?: boolean;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
}

export interface ConsumerOptions extends ConsumerFetchOptions {
  groupId: string;
  retry?: ConsumerConfig['retry'];
}

/** A consumer that reads committed records only and never auto-creates topics. */
export function createConsumer(kafka: Kafka, options: ConsumerOptions): Consumer {
  const config: ConsumerConfig = {
    groupId: options.groupId,
    readUncommitted: options.readUncommitted ?? false,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 500,
  };
  if (options.maxBytesPerPartition !== undefined) config.maxBytesPerPartition = options.maxBytesPerPartition;
  if (options.maxBytes !== undefined) config.maxBytes = options.maxBytes;
  if (options.minBytes !== undefined) config.minBytes = options.minBytes;
  if (options.retry !== undefined) config.retry = options.retry;
  return kafka.consumer(config);
}
