// Helpers for distributed-worker tests: worker processes, REST calls, reading topics from the beginning.
import { writeFile } from 'node:fs/promises';
import { createConsumer, createKafka } from '../../../../runtime/kafka/index.js';
import { type WorkerProcess, startWorkerProcess } from '../../../support/erpstream-cli.js';

export type { WorkerProcess };

export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Worker settings for a test cluster: its own group and internal topics, short timeouts. */
export function clusterProps(brokers: string, suffix: string, extra: Record<string, string> = {}): string {
  const props: Record<string, string> = {
    'bootstrap.servers': brokers,
    listeners: 'http://127.0.0.1:0',
    'group.id': `it-dist-${suffix}`,
    'config.storage.topic': `it-dist-${suffix}-configs`,
    'offset.storage.topic': `it-dist-${suffix}-offsets`,
    'status.storage.topic': `it-dist-${suffix}-status`,
    'offset.storage.partitions': '3',
    'status.storage.partitions': '2',
    'config.storage.replication.factor': '1',
    'offset.storage.replication.factor': '1',
    'status.storage.replication.factor': '1',
    'session.timeout.ms': '6000',
    'heartbeat.interval.ms': '1000',
    'rebalance.timeout.ms': '10000',
    'offset.flush.interval.ms': '500',
    'task.shutdown.graceful.timeout.ms': '3000',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
    ...extra,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

export async function writeProps(file: string, text: string): Promise<string> {
  await writeFile(file, text);
  return file;
}

/** `erpstream worker start <props>` in its own process (distributed, since the props set group.id). */
export function startWorker(propsFile: string): Promise<WorkerProcess> {
  return startWorkerProcess([propsFile]);
}

/** SIGTERM and wait; resolves with the exit code (null when it had to be killed after 30 s). */
export async function stopWorker(w: WorkerProcess): Promise<number | null> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return w.proc.exitCode;
  const exited = new Promise<number | null>((r) => w.proc.once('exit', (code) => r(code)));
  w.proc.kill('SIGTERM');
  const timer = setTimeout(() => w.proc.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export async function killWorker(w: WorkerProcess): Promise<void> {
  const exited = new Promise<void>((r) => w.proc.once('exit', () => r()));
  w.proc.kill('SIGKILL');
  await exited;
}

export async function rest<T = unknown>(
  url: string,
  method: string,
  pathname: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
}

export interface RawRecord {
  key: string | null;
  value: string | null;
  partition: number;
}

/** Every record of a topic up to its current end (read_committed unless told otherwise). */
export async function readTopic(brokers: string, topic: string, readUncommitted = false): Promise<RawRecord[]> {
  const kafka = createKafka({ brokers, clientId: 'it-dist-reader', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const consumer = createConsumer(kafka, { groupId: `it-dist-reader-${Date.now()}-${Math.random()}`, readUncommitted });
  const out: RawRecord[] = [];
  const positions = new Map<number, bigint>();
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const p = e.payload as { partition: number; lastOffset: string };
    positions.set(p.partition, BigInt(p.lastOffset) + 1n);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        out.push({
          key: m.key?.toString('utf8') ?? null,
          value: m.value?.toString('utf8') ?? null,
          partition: batch.partition,
        });
      }
    },
  });
  await waitFor(
    () => ends.every((e) => (positions.get(e.partition) ?? 0n) >= BigInt(e.offset)),
    60_000,
    `reading ${topic} to its end`,
  );
  await consumer.disconnect();
  return out;
}
