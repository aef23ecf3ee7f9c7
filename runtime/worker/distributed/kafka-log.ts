import { randomUUID } from 'node:crypto';
import { ConfigError, ErpStreamError } from '../../api/index.js';
import {
  type Admin,
  type Consumer,
  type Kafka,
  type Producer,
  createConsumer,
  brokersOf,
  createProducer,
  ensureTopics,
  replicationFactorFor,
  retryTransient,
} from '../../kafka/index.js';
import { HighWatermarks } from '../../kafka/high-watermarks.js';

export interface LogRecord {
  key: string | null;
  value: Buffer | null;
  partition: number;
  offset: bigint;
}

export interface InternalTopicSpec {
  topic: string;
  /** The worker setting that named it, for error messages (`config.storage.topic`…). */
  setting: string;
  partitions: number;
  replicationFactor: number;
  /** The config topic must have exactly one partition: its records are ordered. */
  singlePartition?: boolean;
}

const TOPIC_RESOURCE = 2; // kafkajs ConfigResourceTypes.TOPIC

/**
 * How long a fetch of an internal topic waits at the broker for a record. A record that arrives ends the wait at
 * once (the broker answers as soon as it has one byte), so this bounds only how often an idle worker asks: each
 * empty fetch is a request, a response and a turn of kafkajs's fetch loop, three logs at a time (issue 18: at
 * 100 ms, idle fetches were most of an idle worker's CPU once kafkajs's timer loop was fixed). It also bounds how
 * long `stop()` waits for the fetch in flight (kafkajs lets it finish).
 */
export const LOG_FETCH_WAIT_MS = 3000;
/** Heartbeats of the log's single-member group: only to keep it alive (kafkajs sends them between fetches). */
const LOG_HEARTBEAT_MS = 3000;

/**
 * Creates an internal topic compacted if it is missing; if it exists, checks `cleanup.policy` is exactly
 * `compact` (Connect refuses to start otherwise, KAFKA-9216: a deleted record would lose configs or offsets)
 * and, for the config topic, that it has one partition.
 */
export async function ensureInternalTopic(
  admin: Admin,
  spec: InternalTopicSpec,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  // Broker outages, controller moves and metadata lag right after creation are retried (issue 20 item 3).
  const retrying = <T>(op: () => Promise<T>) => retryTransient(op, { timeoutMs: options.timeoutMs ?? 60_000 });
  const { brokers } = await retrying(() => admin.describeCluster());
  await ensureTopics(
    admin,
    [
      {
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: replicationFactorFor(spec.replicationFactor, brokers.length),
        configs: { 'cleanup.policy': 'compact' },
      },
    ],
    { timeoutMs: options.timeoutMs ?? 60_000 },
  );
  const described = await retrying(() =>
    admin.describeConfigs({
      resources: [{ type: TOPIC_RESOURCE, name: spec.topic, configNames: ['cleanup.policy'] }],
      includeSynonyms: false,
    }),
  );
  const policy =
    described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? 'delete';
  const policies = policy.split(',').map((p) => p.trim());
  if (policies.length !== 1 || policies[0] !== 'compact') {
    throw new ConfigError(
      `Topic '${spec.topic}' supplied via the '${spec.setting}' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of connector configurations, offsets and statuses, but found cleanup.policy=${policy}. Change the topic's cleanup.policy to compact, or use another topic.`,
      spec.setting,
    );
  }
  if (spec.singlePartition) {
    const meta = await retrying(() => admin.fetchTopicMetadata({ topics: [spec.topic] }));
    const n = meta.topics[0]?.partitions.length ?? 0;
    if (n !== 1) {
      throw new ConfigError(
        `Topic '${spec.topic}' supplied via the '${spec.setting}' property is required to have a single partition in order to guarantee consistency of connector configurations, but found ${n} partitions.`,
        spec.setting,
      );
    }
  }
}

/**
 * Connect's KafkaBasedLog: a topic read from the beginning, followed for as long as the log runs, with
 * `readToEnd()` to wait until everything written before the call has been applied. Reads are
 * read_committed, so offsets written by a transaction that was aborted (a fenced zombie) never apply.
 * The consumer uses a throwaway group id and never commits: every start replays the compacted topic.
 */
export class KafkaBasedLog {
  private consumer: Consumer | null = null;
  private stopping = false;
  private restarts = 0;
  private producer: Producer | null = null;
  /** Next offset to read, per partition (control records and aborted batches included). */
  private readonly positions = new Map<number, bigint>();
  private waiters: Array<() => void> = [];
  private highWatermarks: HighWatermarks | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    readonly topic: string,
    private readonly groupPrefix: string,
    private readonly apply: (record: LogRecord) => void,
  ) {}

  async start(): Promise<void> {
    await this.startConsumer();
    const producer = createProducer(this.kafka);
    this.producer = producer;
    await retryTransient(() => producer.connect(), { timeoutMs: 60_000 });
    await this.readToEnd();
  }

  /**
   * kafkajs restarts a crashed consumer only when the error is retriable; a broker outage long enough that no broker
   * answers FindCoordinator ends in KafkaJSGroupCoordinatorNotFound, which it marks non-retriable, and the consumer
   * then stays down: the store stops following its topic and every readToEnd() times out (an exactly-once task went
   * FAILED after a broker SIGKILL). A consumer kafkajs will not restart is started again here, with backoff, until
   * the log is stopped; positions survive, so what was applied is skipped on the re-read.
   */
  private onCrash(restartedByKafkaJs: boolean): void {
    if (restartedByKafkaJs || this.stopping) return;
    const old = this.consumer;
    this.consumer = null;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.restarts++, 5));
    const timer = setTimeout(() => {
      void (async () => {
        await old?.disconnect().catch(() => {});
        if (this.stopping) return;
        await this.startConsumer();
        this.restarts = 0;
      })().catch(() => this.onCrash(false));
    }, delay);
    timer.unref();
  }

  private async startConsumer(): Promise<void> {
    const consumer = createConsumer(this.kafka, {
      groupId: `${this.groupPrefix}-${randomUUID()}`,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: LOG_HEARTBEAT_MS,
      maxWaitTimeInMs: LOG_FETCH_WAIT_MS,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      if (this.consumer === consumer) this.onCrash((e.payload as { restart: boolean }).restart);
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const p = e.payload as { topic: string; partition: number; lastOffset: string };
      if (p.topic !== this.topic) return;
      const next = BigInt(p.lastOffset) + 1n;
      if (next > (this.positions.get(p.partition) ?? 0n)) this.positions.set(p.partition, next);
      this.wake();
    });
    await retryTransient(() => consumer.connect(), { timeoutMs: 60_000 });
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        // kafkajs restarts a consumer that crashed on a broker outage; it rejoins its group, which has no committed
        // offsets, and reads the topic from the beginning again. Records already applied are skipped: applied again,
        // they would take the store back to older values (a task would resume from a stale source offset) while
        // readToEnd(), whose positions are already past them, reports the store up to date.
        const applied = this.positions.get(batch.partition) ?? 0n;
        for (const m of batch.messages) {
          if (BigInt(m.offset) < applied) continue;
          this.apply({
            key: m.key === null ? null : m.key.toString('utf8'),
            value: m.value,
            partition: batch.partition,
            offset: BigInt(m.offset),
          });
        }
      },
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Resolves once every record committed before the call has been applied. By default the end is the last
   * stable offset (read_committed). With `openTransactions`, the end is the high watermark: the call also waits
   * for the transactions open at the time of the call to commit or abort, since a record committed after the
   * first of them stays invisible to read_committed until that one ends too. A task taking over source offsets
   * under exactly-once needs that, or it resumes from a stale offset and writes a committed chunk again.
   */
  async readToEnd(
    timeoutMs = 30_000,
    options: { openTransactions?: boolean; onStall?: { afterMs: number; run: () => Promise<unknown> } } = {},
  ): Promise<void> {
    // A topic created a moment ago may not be served by its leader yet ("This server does not host this
    // topic-partition"): retried like any transient condition.
    const stable = await retryTransient(() => this.admin.fetchTopicOffsets(this.topic), { timeoutMs });
    let ends = stable.map((e) => ({ partition: e.partition, offset: BigInt(e.offset) }));
    if (options.openTransactions) {
      this.highWatermarks ??= new HighWatermarks(brokersOf(this.kafka), `${this.groupPrefix}-end-offsets`);
      const high = await this.highWatermarks.of(
        this.topic,
        ends.map((e) => e.partition),
      );
      ends = ends.map((e) => ({ partition: e.partition, offset: high.get(e.partition) ?? e.offset }));
    }
    const deadline = Date.now() + timeoutMs;
    const caughtUp = () => ends.every((e) => (this.positions.get(e.partition) ?? 0n) >= e.offset);
    const { onStall } = options;
    let stallCheckAt = onStall ? Date.now() + onStall.afterMs : Infinity;
    while (!caughtUp()) {
      if (Date.now() >= stallCheckAt) {
        // Still short of the end: something may hold it that nobody else will end (a hanging transaction).
        await onStall!.run();
        stallCheckAt = Date.now() + onStall!.afterMs;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ErpStreamError(
          'ERPSTREAM_TIMEOUT',
          `Timed out after ${timeoutMs} ms reading topic ${this.topic} to its end`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Writes records (in order) and waits for the broker's acknowledgement. */
  async send(records: Array<{ key: string; value: Buffer | string | null }>): Promise<void> {
    // Invariant: writers start the log first.
    if (!this.producer) throw new Error(`The log for ${this.topic} is not started`);
    if (records.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: -1, messages: records });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([this.consumer?.disconnect(), this.producer?.disconnect(), this.highWatermarks?.close()]);
    this.consumer = null;
    this.producer = null;
  }
}
