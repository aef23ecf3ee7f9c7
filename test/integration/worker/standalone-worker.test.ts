import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { DLQ_HEADERS } from '../../../runtime/errors/dlq.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { type WorkerProcess, startWorkerProcess } from '../../support/erpstream-cli.js';
import { waitFor } from '../../support/worker.js';
import { STRINGS, startTestWorker } from '../test-worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

async function lines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Starts `erpstream worker start … --standalone` as a separate process; resolves with its REST URL. */
function startStandaloneProcess(args: string[]): Promise<WorkerProcess> {
  return startWorkerProcess([...args, '--standalone'], 60_000);
}

/** SIGTERM, then wait for a clean exit; a worker that does not exit in time is killed and the test fails. */
async function stopProcess(w: { proc: ChildProcess; stderr: string[] }): Promise<number | null> {
  const { proc } = w;
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 30_000)));
  const result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    proc.kill('SIGKILL');
    throw new Error(`worker did not exit within 30 s of SIGTERM:\n${w.stderr.slice(-20).join('\n')}`);
  }
  return result;
}

describe('standalone worker process: FileStreamSource → Kafka → FileStreamSink', () => {
  let dir: string;
  let running: { proc: ChildProcess; url: string; stderr: string[] } | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-worker-'));
  });
  afterAll(async () => {
    if (running) await stopProcess(running);
  });

  it('copies every line once, and after a SIGTERM + restart continues from the stored offsets', async () => {
    const topic = `it-worker-lines-${uniqueSuffix()}`;
    const input = path.join(dir, 'in.txt');
    const output = path.join(dir, 'out.txt');
    const workerProps = path.join(dir, 'worker.properties');
    await writeFile(
      workerProps,
      [
        `bootstrap.servers=${brokers}`,
        'listeners=http://127.0.0.1:0',
        `offset.storage.file.filename=${path.join(dir, 'offsets.json')}`,
        'offset.flush.interval.ms=500',
        'producer.compression.type=gzip',
        'key.converter=org.apache.kafka.connect.storage.StringConverter',
        'value.converter=org.apache.kafka.connect.storage.StringConverter',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'source.properties'),
      `name=lines-src\nconnector.class=FileStreamSource\nfile=${input}\ntopic=${topic}\n`,
    );
    await writeFile(
      path.join(dir, 'sink.json'),
      JSON.stringify({
        name: 'lines-sink',
        config: {
          'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
          file: output,
          topics: topic,
        },
      }),
    );
    const first = Array.from({ length: 50 }, (_, i) => `line-${i}`);
    await writeFile(input, `${first.join('\n')}\n`);

    running = await startStandaloneProcess([
      workerProps,
      path.join(dir, 'source.properties'),
      path.join(dir, 'sink.json'),
    ]);
    await waitFor(async () => (await lines(output)).length >= 50, 60_000, '50 lines in the output file');
    const status = (await (await fetch(`${running.url}/connectors/lines-src/status`)).json()) as {
      tasks: Array<{ state: string }>;
    };
    expect(status.tasks[0]!.state).toBe('RUNNING');
    // Let the source flush its offsets (offset.flush.interval.ms=500), then stop gracefully.
    await waitFor(
      async () => {
        const o = (await (await fetch(`${running!.url}/connectors/lines-src/offsets`)).json()) as {
          offsets: Array<{ offset: { position: number } }>;
        };
        return o.offsets[0]?.offset.position === Buffer.byteLength(`${first.join('\n')}\n`);
      },
      10_000,
      'source offsets flushed',
    );
    expect(await stopProcess(running)).toBe(0);
    running = null;

    const more = Array.from({ length: 20 }, (_, i) => `more-${i}`);
    await appendFile(input, `${more.join('\n')}\n`);
    // Restart with the worker config only: the connectors come back from the config file next to the offsets.
    running = await startStandaloneProcess([workerProps]);
    const names = (await (await fetch(`${running.url}/connectors`)).json()) as string[];
    expect(names).toEqual(['lines-sink', 'lines-src']);
    // A second worker on the same offsets file would rewrite it from its own copy and lose the first's offsets.
    const second = startStandaloneProcess([workerProps]);
    await expect(second).rejects.toThrow(/worker exited with 1/);
    await expect(second).rejects.toThrow(
      new RegExp(`offsets\\.json is in use by another standalone worker \\(pid ${running.proc.pid},`),
    );
    await waitFor(async () => (await lines(output)).length >= 70, 60_000, '70 lines in the output file');
    await new Promise((r) => setTimeout(r, 1500)); // a replay would show up as extra lines
    expect(await lines(output)).toEqual([...first, ...more]);
    expect(await stopProcess(running)).toBe(0);
    running = null;
  });
});

describe('dead letter queue against the real broker', () => {
  let worker: RunningWorker;
  let dir: string;
  const kafka = createKafka({ brokers, clientId: 'it-worker-dlq', logLevel: 'nothing' });

  beforeAll(async () => {
    ({ worker, dir } = await startTestWorker('dlq', STRINGS));
  });
  afterAll(async () => {
    await worker?.stop();
  });

  async function readAll(
    topic: string,
    count: number,
  ): Promise<Array<{ key: string | null; value: string | null; headers: Record<string, string> }>> {
    // The worker creates the DLQ topic on the first failure: wait for it before subscribing.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor(async () => (await admin.listTopics()).includes(topic), 30_000, `topic ${topic} to exist`);
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `it-dlq-reader-${uniqueSuffix()}` });
    const out: Array<{ key: string | null; value: string | null; headers: Record<string, string> }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
          out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
        },
      });
      await waitFor(() => out.length >= count, 30_000, `${count} records in ${topic}`);
    } finally {
      await consumer.disconnect();
    }
    return out;
  }

  async function post(body: unknown): Promise<void> {
    const res = await fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }

  it('sink: a poison record lands in the DLQ with its original bytes and __connect.errors.* headers', async () => {
    const topic = `it-dlq-in-${uniqueSuffix()}`;
    const dlq = `${topic}-dlq`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic }]);
    await admin.disconnect();
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'k1', value: '{"ok":1}' },
        { key: 'k2', value: 'this is not json', headers: { origin: 'erp' } },
        { key: 'k3', value: '{"ok":3}' },
      ],
    });
    await producer.disconnect();
    const output = path.join(dir, 'sink-out.txt');
    await post({
      name: `dlq-sink-${uniqueSuffix()}`,
      config: {
        'connector.class': 'FileStreamSink',
        file: output,
        topics: topic,
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    });
    const [poison] = await readAll(dlq, 1);
    expect(poison).toMatchObject({ key: 'k2', value: 'this is not json' });
    expect(poison!.headers).toMatchObject({
      origin: 'erp',
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: '1',
      [DLQ_HEADERS.stage]: 'VALUE_CONVERTER',
      [DLQ_HEADERS.className]: 'org.apache.kafka.connect.json.JsonConverter',
      [DLQ_HEADERS.taskId]: '0',
    });
    expect(poison!.headers[DLQ_HEADERS.exceptionMessage]).toBeTruthy();
    expect(poison!.headers[DLQ_HEADERS.exceptionStacktrace]).toBeTruthy();
    await waitFor(async () => (await lines(output)).length === 2, 30_000, 'the two good records in the sink file');
    expect(await lines(output)).toEqual(['{"ok":1}', '{"ok":3}']);
  });

  it('source: a record failing a transform lands in the DLQ with its source partition and offset', async () => {
    const topic = `it-dlq-src-${uniqueSuffix()}`;
    const dlq = `${topic}-dlq`;
    const input = path.join(dir, 'numbers.txt');
    await writeFile(input, '1\n2\nnot-a-number\n4\n');
    await post({
      name: `dlq-src-${uniqueSuffix()}`,
      config: {
        'connector.class': 'FileStreamSource',
        file: input,
        topic,
        transforms: 'toInt',
        'transforms.toInt.type': 'org.apache.kafka.connect.transforms.Cast$Value',
        'transforms.toInt.spec': 'int32',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    });
    const [poison] = await readAll(dlq, 1);
    expect(poison!.value).toBe('not-a-number');
    expect(poison!.headers).toMatchObject({
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.stage]: 'TRANSFORMATION',
      [DLQ_HEADERS.className]: 'org.apache.kafka.connect.transforms.Cast$Value',
      [DLQ_HEADERS.sourcePartition]: JSON.stringify({ filename: input }),
      [DLQ_HEADERS.sourceOffset]: '{"position":17}',
    });
    const good = await readAll(topic, 3);
    expect(good.map((r) => r.value)).toEqual(['1', '2', '4']);
  });
});
