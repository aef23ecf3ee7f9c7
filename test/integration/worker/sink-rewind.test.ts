import { describe, expect, it } from 'vitest';
import {
  type SinkRecord,
  type SinkTask,
  type SinkTaskContext,
  type TopicPartition,
  silentLogger,
} from '../../../runtime/api/index.js';
import { StringConverter, SimpleHeaderConverter } from '../../../runtime/converters/index.js';
import { ErrorReporter } from '../../../runtime/errors/reporter.js';
import { errorHandlingSettings } from '../../../runtime/worker/connector-settings.js';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { TransformChain } from '../../../runtime/transforms/index.js';
import { KafkaJsPort } from '../../../runtime/worker/kafka-port.js';
import { WorkerSinkTask } from '../../../runtime/worker/sink-task.js';
import { sinkTaskContext } from '../../support/sink-context.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';

const brokers = requireEnv('KAFKA_BROKERS').split(',');

/**
 * A sink that keeps its own position (as sinks writing offsets into their destination do): it starts at offset 4
 * (SinkTaskContext.offset in open), and once, on seeing offset 7, goes back to 5.
 */
class RewindingSink implements SinkTask {
  context!: SinkTaskContext;
  readonly seen: bigint[] = [];
  private rewound = false;
  version = () => 'test';
  initialize(context: SinkTaskContext): void {
    this.context = context;
  }
  async start(): Promise<void> {}
  async open(partitions: TopicPartition[]): Promise<void> {
    this.context.offset(new Map(partitions.map((tp) => [tp, 4n])));
  }
  async put(records: SinkRecord[]): Promise<void> {
    for (const r of records) {
      this.seen.push(r.kafkaOffset);
      if (r.kafkaOffset === 7n && !this.rewound) {
        this.rewound = true;
        this.context.offset(new Map([[{ topic: r.topic, partition: r.kafkaPartition }, 5n]]));
        return; // the rest of this batch is not taken: it comes again from offset 5
      }
    }
  }
  async stop(): Promise<void> {}
}

describe('SinkTaskContext.offset on real Kafka', () => {
  it('starts where open() says, goes back when put() says, and commits the position it reached', async () => {
    const topic = `it-rewind-${uniqueSuffix()}`;
    const group = `it-rewind-${uniqueSuffix()}`;
    const kafka = createKafka({ brokers, clientId: 'it-rewind' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();

    const port = new KafkaJsPort({ brokers, clientId: 'it-rewind' });
    const task = new RewindingSink();
    const strings = new StringConverter();
    strings.configure({}, false);
    const header = new SimpleHeaderConverter();
    header.configure({});
    const errors = errorHandlingSettings({});
    const runner: WorkerSinkTask = new WorkerSinkTask({
      connector: 'rewind',
      taskId: 0,
      task,
      taskClass: 'RewindingSink',
      props: {},
      subscription: { topics: [topic] },
      chain: TransformChain.empty<SinkRecord>(),
      converters: { key: strings, keyClass: 's', value: strings, valueClass: 's', header, headerClass: 'h' },
      consumer: await port.consumer(group, 'it-rewind'),
      errors,
      reporter: new ErrorReporter({ connector: 'rewind', task: 0 }, errors, silentLogger, null),
      logger: silentLogger,
      listener: { onState() {} },
      onTopic() {},
    });
    task.initialize(sinkTaskContext(runner, 'rewind'));
    try {
      await runner.start(false);
      await waitFor(() => task.seen.at(-1) === 9n, 30_000, 'the last record');
      expect(task.seen).toEqual([4n, 5n, 6n, 7n, 5n, 6n, 7n, 8n, 9n]);
      await waitFor(
        async () => {
          const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
          return t?.partitions[0]?.offset === '10';
        },
        15_000,
        'offset 10 committed',
      );
    } finally {
      await runner.stop(10_000);
      await port.close();
      await admin.disconnect();
    }
  }, 60_000);
});
