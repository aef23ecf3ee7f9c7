import { afterAll, describe, expect, it } from 'vitest';
import { type SinkRecord, type SinkTask, type SinkTaskContext, silentLogger } from '../../../runtime/api/index.js';
import { StringConverter, SimpleHeaderConverter } from '../../../runtime/converters/index.js';
import { ErrorReporter } from '../../../runtime/errors/reporter.js';
import { errorHandlingSettings } from '../../../runtime/worker/connector-settings.js';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { TransformChain } from '../../../runtime/transforms/index.js';
import { KafkaJsPort, type SinkConsumerOptions } from '../../../runtime/worker/kafka-port.js';
import { WorkerSinkTask } from '../../../runtime/worker/sink-task.js';
import { sinkTaskContext } from '../../support/sink-context.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';

const brokers = requireEnv('KAFKA_BROKERS').split(',');
const kafka = createKafka({ brokers, clientId: 'it-consumer-overrides', logLevel: 'nothing' });

/** Keeps what each put() received. */
class RecordingSink implements SinkTask {
  readonly puts: string[][] = [];
  version = () => 'test';
  initialize(_context: SinkTaskContext): void {}
  async start(): Promise<void> {}
  async put(records: SinkRecord[]): Promise<void> {
    if (records.length > 0) this.puts.push(records.map((r) => String(r.value)));
  }
  async stop(): Promise<void> {}
}

/**
 * Rewinds once: on the first put() that holds `at`, asks for `to` again (context.offset), as a sink that lost a write
 * does. What the task saw, per put().
 */
class RewindingSink extends RecordingSink {
  private context!: SinkTaskContext;
  private rewound = false;
  constructor(
    private readonly at: string,
    private readonly to: bigint,
  ) {
    super();
  }
  override initialize(context: SinkTaskContext): void {
    this.context = context;
  }
  override async put(records: SinkRecord[]): Promise<void> {
    await super.put(records);
    const hit = records.find((r) => String(r.value) === this.at);
    if (hit && !this.rewound) {
      this.rewound = true;
      this.context.offset(new Map([[{ topic: hit.topic, partition: hit.kafkaPartition }, this.to]]));
    }
  }
}

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();
}

/** A sink task on the real broker whose consumer has the given consumer.override.* settings. */
async function startSink(
  topic: string,
  group: string,
  options: SinkConsumerOptions,
  task: RecordingSink = new RecordingSink(),
) {
  const port = new KafkaJsPort({ brokers, clientId: 'it-consumer-overrides' });
  const strings = new StringConverter();
  strings.configure({}, false);
  const header = new SimpleHeaderConverter();
  header.configure({});
  const errors = errorHandlingSettings({});
  const states: Array<{ state: string; error?: unknown }> = [];
  const runner = new WorkerSinkTask({
    connector: 'overrides',
    taskId: 0,
    task,
    taskClass: 'RecordingSink',
    props: {},
    subscription: { topics: [topic] },
    chain: TransformChain.empty<SinkRecord>(),
    converters: { key: strings, keyClass: 's', value: strings, valueClass: 's', header, headerClass: 'h' },
    consumer: await port.consumer(group, 'it-consumer-overrides', options),
    errors,
    reporter: new ErrorReporter({ connector: 'overrides', task: 0 }, errors, silentLogger, null),
    logger: silentLogger,
    listener: { onState: (state: string, error?: unknown) => void states.push({ state, error }) },
    onTopic() {},
  });
  task.initialize(sinkTaskContext(runner, 'overrides'));
  await runner.start(false);
  return {
    task,
    runner,
    states,
    stop: async () => {
      await runner.stop(10_000);
      await port.close();
    },
  };
}

describe('consumer.override.* a sink task honours, on the real broker', () => {
  const admin = kafka.admin();
  const topics: string[] = [];
  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  });

  async function committed(groupId: string, topic: string, offset: string): Promise<void> {
    await waitFor(
      async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset === offset,
      15_000,
      `offset ${offset} committed`,
    );
  }

  async function newTopic(name: string): Promise<string> {
    const topic = `it-overrides-${name}-${uniqueSuffix()}`;
    topics.push(topic);
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    return topic;
  }

  it('max.poll.records: no put() gets more, every record once and in order, and the offsets commit', async () => {
    const topic = await newTopic('poll');
    const group = `it-overrides-poll-${uniqueSuffix()}`;
    const values = Array.from({ length: 23 }, (_, i) => `v${i}`);
    await produce(topic, values);
    const sink = await startSink(topic, group, { maxPollRecords: 5 });
    try {
      await waitFor(() => sink.task.puts.flat().length >= 23, 30_000, 'all 23 records');
      expect(sink.task.puts.flat()).toEqual(values);
      expect(Math.max(...sink.task.puts.map((p) => p.length))).toBeLessThanOrEqual(5);
      await committed(group, topic, '23');
    } finally {
      await sink.stop();
    }
  }, 60_000);

  it('max.poll.records with a rewind in the middle of a split fetch: the rest of that fetch is not handed out', async () => {
    const topic = await newTopic('rewind');
    const group = `it-overrides-rewind-${uniqueSuffix()}`;
    const values = Array.from({ length: 23 }, (_, i) => `v${i}`);
    await produce(topic, values);
    // One fetch brings all 23; the task rewinds to offset 3 while it holds the second slice (v5..v9).
    const sink = await startSink(topic, group, { maxPollRecords: 5 }, new RewindingSink('v7', 3n));
    try {
      await waitFor(() => sink.task.puts.flat().at(-1) === 'v22', 30_000, 'the records up to v22').catch((e) => {
        throw new Error(`${e.message}; puts: ${JSON.stringify(sink.task.puts)}`);
      });
      await new Promise((r) => setTimeout(r, 1000)); // late slices of the stale fetch would show here
      // What followed the slice that rewound, in the fetch the rewind made stale, must not come before (or beside) the
      // re-read from v3.
      const at = sink.task.puts.findIndex((p) => p.includes('v7'));
      const before = sink.task.puts.slice(0, at + 1).flat();
      expect(before).toEqual(values.slice(0, before.length));
      expect(sink.task.puts.slice(at + 1).flat()).toEqual(values.slice(3));
      expect(Math.max(...sink.task.puts.map((p) => p.length))).toBeLessThanOrEqual(5);
      await committed(group, topic, '23');
    } finally {
      await sink.stop();
    }
  }, 60_000);

  it('auto.offset.reset=latest: a new group starts at the end, not at what was there before', async () => {
    const topic = await newTopic('latest');
    await produce(topic, ['old-1', 'old-2', 'old-3']);
    const sink = await startSink(topic, `it-overrides-latest-${uniqueSuffix()}`, { fromBeginning: false });
    try {
      await waitFor(() => sink.runner.assignment().length > 0, 30_000, 'the partition assigned');
      // The group's position is set on its first fetch after the assignment.
      await new Promise((r) => setTimeout(r, 2000));
      await produce(topic, ['new-1', 'new-2']);
      await waitFor(() => sink.task.puts.flat().length >= 2, 30_000, 'the two new records');
      await new Promise((r) => setTimeout(r, 1000));
      expect(sink.task.puts.flat()).toEqual(['new-1', 'new-2']);
    } finally {
      await sink.stop();
    }
  }, 60_000);

  it("a session timeout the broker refuses fails the task with the broker's reason (it stayed RUNNING, reading nothing)", async () => {
    // The stack's broker keeps Kafka's group.min.session.timeout.ms of 6000.
    const topic = await newTopic('session');
    await produce(topic, ['a']);
    const sink = await startSink(topic, `it-overrides-session-${uniqueSuffix()}`, {
      sessionTimeoutMs: 1000,
      heartbeatIntervalMs: 300,
    });
    try {
      await waitFor(() => sink.states.some((s) => s.state === 'FAILED'), 30_000, 'the task FAILED');
      const failed = sink.states.find((s) => s.state === 'FAILED')!;
      expect(String((failed.error as Error).message)).toMatch(
        /session timeout is not within the range allowed by the broker/,
      );
      expect(sink.task.puts).toEqual([]);
    } finally {
      await sink.stop();
    }
  }, 60_000);
});
