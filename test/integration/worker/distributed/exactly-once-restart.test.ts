import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer } from '../../../../runtime/kafka/index.js';
import { HighWatermarks } from '../../../../runtime/kafka/high-watermarks.js';
import { taskTransactionalId } from '../../../../runtime/worker/worker.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { readTopic } from '../../../support/topics.js';
import {
  type WorkerProcess,
  killWorker,
  rest,
  restWhenJoined,
  startWorker,
  stopWorker,
  waitFor,
  writeClusterProps,
} from '../../../support/worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * The zombie's transaction.timeout.ms: the broker would abort its transaction only after this. Far longer than the
 * worker's cap on an offsets read (180 s), so without fencing the task never resumes within the test, however fast or
 * slow the machine; with fencing it resumes as soon as the worker is up.
 */
const ZOMBIE_TRANSACTION_TIMEOUT_MS = 600_000;
/** How long the restarted worker may take to run the task: its start-up on a loaded machine, not a wait for Kafka. */
const RESUME_BUDGET_MS = 150_000;

interface Status {
  tasks: Array<{ id: number; state: string; trace?: string; worker_id: string }>;
}

/**
 * An exactly-once task that starts while a transaction with its transactional id is still open (its previous
 * instance was SIGKILLed, or its broker was, mid-transaction). Its offsets read (read_committed, to the end) waits for
 * the transactions open on the offsets topic; unless the task's producer fences the old one first (initTransactions,
 * which aborts it at once), it waits until the broker times that transaction out: a minute and more.
 */
describe('exactly-once task restart with its previous transaction left open', () => {
  const suffix = uniqueSuffix();
  const name = `h-eos-fence-${suffix}`;
  const clusterSuffix = `h-eos-fence-${suffix}`;
  const groupId = `it-dist-${clusterSuffix}`;
  const topic = `it-h-eos-fence-${suffix}`;
  const offsetsTopic = `it-dist-${clusterSuffix}-offsets`;
  let props: string;
  let worker: WorkerProcess | null = null;

  beforeAll(async () => {
    props = await writeClusterProps({
      brokers,
      suffix: clusterSuffix,
      extra: { 'exactly.once.source.support': 'enabled' },
    });
  });

  afterAll(async () => {
    if (worker) await stopWorker(worker);
  }, 60_000);

  const taskState = async (w: WorkerProcess) =>
    (await rest<Status>(w.url, 'GET', `/connectors/${name}/status`)).body.tasks?.[0];

  it('fences the open transaction before reading offsets: resumes in seconds, nothing twice, nothing lost', async () => {
    worker = await startWorker(props);
    await restWhenJoined(
      worker!.url,
      'POST',
      '/connectors',
      {
        name,
        config: {
          'connector.class': 'erpstream.connectors.SequenceSourceConnector',
          'tasks.max': '1',
          topic,
          'records.per.second': '200',
          'batch.size': '20',
        },
      },
      { timeoutMs: 60_000, what: 'the group to accept the connector' },
    );
    await waitFor(async () => (await taskState(worker!))?.state === 'RUNNING', 60_000, 'the task RUNNING');
    await waitFor(async () => (await readTopic(brokers, topic)).length > 100, 60_000, 'records committed');
    await killWorker(worker);
    worker = null;

    // The previous instance's transaction, left open: a producer with the task's transactional id writes an offset
    // and a record in a transaction it never ends. Neither may ever count.
    const kafka = createKafka({ brokers, clientId: `${name}-zombie`, logLevel: 'nothing' });
    const zombie = createProducer(kafka, {
      transactionalId: taskTransactionalId(groupId, name, 0),
      transactionTimeoutMs: ZOMBIE_TRANSACTION_TIMEOUT_MS,
    });
    await zombie.connect();
    const txn = await zombie.transaction();
    await txn.send({ topic: offsetsTopic, messages: [{ key: `["${name}",{"task":0}]`, value: '{"seq":1000000}' }] });
    await txn.send({ topic, messages: [{ key: '0-999999', value: '{"task":0,"seq":999999}' }] });
    await zombie.disconnect();
    // Precondition: the transaction is open (the last stable offset stops short of the high watermark).
    const admin = kafka.admin();
    await admin.connect();
    const stable = await admin.fetchTopicOffsets(offsetsTopic);
    await admin.disconnect();
    const watermarks = new HighWatermarks(brokers, `${name}-hw`);
    const high = await watermarks.of(
      offsetsTopic,
      stable.map((s) => s.partition),
    );
    await watermarks.close();
    expect(stable.some((s) => BigInt(s.offset) < (high.get(s.partition) ?? 0n))).toBe(true);

    const startedAt = Date.now();
    worker = await startWorker(props);
    const w = worker;
    const upMs = Date.now() - startedAt;
    // Without fencing first, the task's start() (which reads its offset) returns only once the broker aborted the
    // transaction (after ZOMBIE_TRANSACTION_TIMEOUT_MS): its read gives up first, and the task goes FAILED.
    let failed: string | null = null;
    await waitFor(
      async () => {
        // The killed worker's last status (RUNNING) stays until the new one reports: only the new worker's counts.
        const t = await taskState(w);
        if (t?.worker_id !== w.workerId) return false;
        if (t.state === 'FAILED') failed = `task FAILED: ${t.trace ?? ''}`;
        return t.state === 'RUNNING';
      },
      RESUME_BUDGET_MS,
      'the task RUNNING long before the open transaction would time out',
      { abort: () => failed },
    );
    // Figures only (wall clock on a shared machine): the worker's start-up, then until the task ran.
    process.stdout.write(`eos-fence ${JSON.stringify({ workerUpMs: upMs, runningMs: Date.now() - startedAt })}\n`);

    const before = (await readTopic(brokers, topic)).length;
    await waitFor(async () => (await readTopic(brokers, topic)).length > before + 100, 60_000, 'records after restart');
    const stop = await restWhenJoined(w.url, 'PUT', `/connectors/${name}/stop`, undefined, {
      timeoutMs: 30_000,
      what: 'stop',
    });
    expect(stop.status).toBe(204);
    await waitFor(
      async () => (await rest<Status>(w.url, 'GET', `/connectors/${name}/status`)).body.tasks?.length === 0,
      30_000,
      'the task stopped',
    );

    const seqs = (await readTopic(brokers, topic)).map((r) => (JSON.parse(r.value!) as { seq: number }).seq);
    const sorted = [...seqs].sort((a, b) => a - b);
    expect(sorted.length, 'nothing written twice').toBe(new Set(sorted).size);
    expect(sorted[0], 'starts at 0').toBe(0);
    // Nothing lost (no gap), and neither the zombie's record nor its offset (which would skip to 1000001) counted.
    expect(sorted[sorted.length - 1], 'no gap').toBe(sorted.length - 1);
    expect(sorted).not.toContain(999999);
    const offsets = await readTopic(brokers, offsetsTopic);
    const last = offsets.filter((r) => r.key === `["${name}",{"task":0}]`).pop()!;
    expect(JSON.parse(last.value!)).toEqual({ seq: sorted.length - 1 });
  }, 300_000);
});
