// Run by restart.test.ts in a child process that is SIGKILLed: a lookup sink task that parks records and then
// is killed with no chance to clean up.
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { sinkRecord, testContext } from './harness.js';

const { props, records } = JSON.parse(process.argv[2]!) as {
  props: Record<string, string>;
  records: Array<{ offset: string; key: number; version: string }>;
};
const task = new LookupSinkTask();
task.initialize(testContext());
await task.start(props);
await task.put(
  records.map((r) =>
    sinkRecord({ topic: 'documents', offset: BigInt(r.offset), key: r.key, version: BigInt(r.version) }),
  ),
);
// The worker's next commit after the batch is recorded (put() may return while a pipelined batch is written).
await task.flush();
const committed = await task.preCommit(new Map([[{ topic: 'documents', partition: 0 }, BigInt(records.length)]]));
process.stdout.write(
  `${JSON.stringify({ committed: [...committed.values()].map(String), metrics: task.metrics() })}\n`,
);
// Stay alive (as a worker would) until killed.
setInterval(() => {}, 1000);
