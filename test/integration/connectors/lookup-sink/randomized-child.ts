// The "worker" of randomized.test.ts, run in a child process that the test SIGKILLs at random moments. It hosts
// the lookup sink tasks of one run and is fed batches of the test's log over stdin ({"batch": [...]}); it answers
// {"done": n} once every task has taken the batch (put + flush: delivered, parked or reported), the moment a
// worker would commit. DLQ reports go to stdout as {"dlq": …}. {"settle": true} re-checks parked records until
// nothing changes and answers {"settled": metrics}.
import { createInterface } from 'node:readline';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import type { SinkTaskContext } from '../../../../runtime/api/index.js';
import { sinkRecord, testContext } from './harness.js';

interface Spec {
  name: string;
  topics: string[];
  props: Record<string, string>;
}
export interface LogEntry {
  topic: string;
  offset: number;
  key: unknown;
  value: unknown;
  version: string | null;
}

const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const { specs, brokers } = JSON.parse(process.argv[2]!) as { specs: Spec[]; brokers: string };
const kafka = createKafka({ brokers, clientId: 'lookup-sink-rnd', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-rnd' });

const tasks: Array<{ spec: Spec; task: LookupSinkTask }> = [];
for (const spec of specs) {
  const task = new LookupSinkTask();
  const context: SinkTaskContext = {
    ...testContext({ kafka: access }),
    connectorName: spec.name,
    errantRecordReporter: {
      async report(record, error) {
        say({ dlq: { task: spec.name, topic: record.topic, key: record.key, message: error.message } });
      },
    },
  };
  task.initialize(context);
  await task.start(spec.props);
  tasks.push({ spec, task });
}
say({ ready: true });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const cmd = JSON.parse(line) as { batch?: LogEntry[]; settle?: boolean };
  if (cmd.batch) {
    for (const { spec, task } of tasks) {
      const records = cmd.batch
        .filter((e) => spec.topics.includes(e.topic))
        .map((e) =>
          sinkRecord({
            topic: e.topic,
            offset: BigInt(e.offset),
            key: e.key,
            value: e.value,
            version: e.version === null ? null : BigInt(e.version),
          }),
        );
      if (records.length > 0) await task.put(records);
    }
    for (const { task } of tasks) await task.flush();
    say({ done: cmd.batch.length });
  } else if (cmd.settle) {
    // Parked records are due again within park.retry.max.ms: a few quiet rounds past it and nothing moves any more.
    let last = '';
    for (let i = 0, quiet = 0; i < 100 && quiet < 4; i++) {
      await new Promise((r) => setTimeout(r, 60));
      for (const { task } of tasks) await task.checkParked();
      for (const { task } of tasks) await task.flush();
      const now = JSON.stringify(tasks.map((t) => [t.task.metrics().delivered, t.task.metrics().parked]));
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
    say({ settled: Object.fromEntries(tasks.map((t) => [t.spec.name, t.task.metrics()])) });
  }
}
