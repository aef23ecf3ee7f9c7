import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../../runtime/errors/dlq.js';
import { createKafka, createProducer, ensureTopics } from '../../../../runtime/kafka/index.js';
import { type WorkerProcess, startWorkerProcess } from '../../../support/erpstream-cli.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { eventually } from './harness.js';

// delivery.transforms end to end: `erpstream worker start` in its own process, a LookupSink registered over REST
// whose delivery chain (CleanSchema, InsertField, a Filter behind a predicate) shapes the looked-up PostgreSQL rows
// before they reach Kafka; a row the chain fails on goes to the DLQ naming the alias, the class and the field.
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `ls_shape_${sfx}`;
const input = `it-ls-shape-in-${sfx}`;
const out = `it-ls-shape-out-${sfx}`;
const dlqTopic = `${input}-dlq`;
const kafka = createKafka({ brokers, clientId: 'it-ls-shape', logLevel: 'nothing' });
let db: pg.Client;
let worker: WorkerProcess | null = null;

interface Message {
  offset: string;
  key: string | null;
  value: Record<string, unknown> | null;
  headers: Record<string, string>;
}

/** Every record of a topic so far (from the beginning), with headers. */
async function read(topic: string, atLeast: number): Promise<Message[]> {
  // The sink (or the worker's DLQ) creates the topic on its first record: wait for it before subscribing.
  await eventually(async () => expect(await topics()).toContain(topic), 30_000);
  const consumer = kafka.consumer({ groupId: `it-ls-shape-reader-${uniqueSuffix()}` });
  const got: Message[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        got.push({
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value ? (JSON.parse(message.value.toString()) as Record<string, unknown>) : null,
          headers,
        });
      },
    });
    await eventually(() => expect(got.length).toBeGreaterThanOrEqual(atLeast), 30_000);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

async function topics(): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

async function send(...events: Array<{ id: string; version: number }>): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await eventually(
      () =>
        producer
          .send({
            topic: input,
            acks: -1,
            messages: events.map((e) => ({
              key: JSON.stringify({ SHPMT_NO: e.id }),
              value: JSON.stringify({ op: 'u' }),
              headers: { 'erpstream.version': String(e.version) },
            })),
          })
          .then(() => {}),
      30_000,
    );
  } finally {
    await producer.disconnect();
  }
}

async function register(name: string, config: Record<string, string>): Promise<void> {
  const res = await fetch(`${worker!.url}/connectors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, config }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function taskStatus(
  name: string,
): Promise<{ state: string; trace?: string; progress?: Record<string, unknown> }> {
  const res = await fetch(`${worker!.url}/connectors/${name}/status`);
  const body = (await res.json()) as {
    tasks: Array<{ state: string; trace?: string; progress?: Record<string, unknown> }>;
  };
  return body.tasks[0] ?? { state: 'NONE' };
}

const sinkConfig = (): Record<string, string> => ({
  'connector.class': 'LookupSink',
  topics: input,
  'lookup.connection.url': pgUrl,
  'lookup.table': `${schema}.shipment`,
  'lookup.key.columns': 'SHPMT_NO',
  'entity.name': 'shipment',
  'destination.type': 'kafka',
  'destination.name': `shape_${sfx}`,
  'destination.topic': `${out}.\${DOMAIN}`,
  'ledger.table': `${schema}.ledger`,
  'park.table': `${schema}.parked`,
  'errors.tolerance': 'all',
  'errors.deadletterqueue.topic.name': dlqTopic,
  'errors.deadletterqueue.topic.replication.factor': '1',
  'errors.deadletterqueue.context.headers.enable': 'true',
  'delivery.transforms': 'clean,tag,internal',
  'delivery.transforms.clean.type': 'CleanSchema',
  'delivery.transforms.clean.renames': 'SHPMT_NO:shipmentNo',
  'delivery.transforms.clean.strip.prefixes': 'Z_',
  'delivery.transforms.clean.case': 'camel',
  'delivery.transforms.clean.boolean.fields': 'ACTIVE_FLG',
  'delivery.transforms.clean.decimal.fields': 'NET_AMT:2',
  'delivery.transforms.tag.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
  'delivery.transforms.tag.static.field': 'feed',
  'delivery.transforms.tag.static.value': 'erpstream',
  // Rows of the internal domain are never delivered: the record's topic is the resolved destination topic.
  'delivery.transforms.internal.type': 'Filter',
  'delivery.transforms.internal.predicate': 'isInternal',
  'delivery.predicates': 'isInternal',
  'delivery.predicates.isInternal.type': 'TopicNameMatches',
  'delivery.predicates.isInternal.pattern': '.*\\.internal',
});

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.shipment (
    "SHPMT_NO" varchar(12) PRIMARY KEY, "Z_CUST_CD" char(4) NOT NULL, "NET_AMT" numeric(12,2),
    "ACTIVE_FLG" char(1) NOT NULL, "REMARK" varchar(200) NOT NULL DEFAULT '', "DOMAIN" varchar(40) NOT NULL)`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
  await admin.disconnect();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-ls-shape-'));
  const props = path.join(dir, 'worker.properties');
  await writeFile(
    props,
    [
      `bootstrap.servers=${brokers}`,
      'listeners=http://127.0.0.1:0',
      `offset.storage.file.filename=${path.join(dir, 'offsets.json')}`,
      'offset.flush.interval.ms=200',
      'key.converter=org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable=false',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable=false',
      'log.level=WARN',
    ].join('\n'),
  );
  worker = await startWorkerProcess([props, '--standalone'], 60_000);
}, 90_000);

afterAll(async () => {
  if (worker) await stopProcess(worker.proc);
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('LookupSink delivery.transforms on a worker process', () => {
  it('delivers cleaned rows, filters by predicate, and dead-letters a row the chain fails on', async () => {
    const rows: Array<[string, string, string | null, string, string, string]> = [
      ['S1', 'AC01', '12.5', 'J', '  ', 'acme'],
      ['S2', 'AC01', '1', 'J', 'staff only', 'internal'],
      ['S3', 'AC01', '3', 'X', '', 'acme'], // ACTIVE_FLG X is neither true nor false: CleanSchema fails
      ['S4', 'GX01', null, 'N', 'late', 'acme'],
    ];
    for (const r of rows) await db.query(`INSERT INTO ${schema}.shipment VALUES ($1, $2, $3, $4, $5, $6)`, r);
    await send({ id: 'S1', version: 1 }, { id: 'S2', version: 2 }, { id: 'S3', version: 3 }, { id: 'S4', version: 4 });
    await register(`shape-${sfx}`, sinkConfig());

    const delivered = await read(`${out}.acme`, 2);
    expect(delivered.map((m) => m.key)).toEqual(['S1', 'S4']);
    expect(delivered[0]!.value).toEqual({
      shipmentNo: 'S1',
      custCd: 'AC01',
      netAmt: '12.50',
      activeFlg: true,
      remark: null,
      domain: 'acme',
      feed: 'erpstream',
    });
    expect(delivered[1]!.value).toMatchObject({ shipmentNo: 'S4', netAmt: null, activeFlg: false, remark: 'late' });
    expect(delivered[0]!.headers).toMatchObject({
      'erpstream.version': '1',
      'erpstream.entity': 'shipment',
      'erpstream.id': 'S1',
    });

    const [dead] = await read(dlqTopic, 1);
    expect(dead!.key).toBe(JSON.stringify({ SHPMT_NO: 'S3' }));
    expect(dead!.headers[DLQ_HEADERS.stage]).toBe('TASK_PUT');
    expect(dead!.headers[DLQ_HEADERS.exceptionMessage]).toMatch(
      /Transform 'clean' \(erpstream\.transforms\.CleanSchema\) failed: .*"ACTIVE_FLG" has value "X"/,
    );

    // The filtered row reached no topic, is counted, and every offset was committed (nothing left behind).
    expect((await topics()).filter((t) => t === `${out}.internal`)).toEqual([]);
    await eventually(async () => expect((await taskStatus(`shape-${sfx}`)).progress).toMatchObject({ filtered: 1 }));
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(async () => {
        const [committed] = await admin.fetchOffsets({ groupId: `connect-shape-${sfx}`, topics: [input] });
        expect(committed!.partitions[0]!.offset).toBe('4');
      }, 30_000);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);

  it('refuses a wrong delivery chain when the config is submitted, naming the prefixed key and the class', async () => {
    const name = `shape-bad-${sfx}`;
    const config = {
      ...sinkConfig(),
      'destination.name': `shape_bad_${sfx}`,
      'delivery.transforms.clean.type': 'CleenSchema',
    };
    const expected =
      /Invalid value CleenSchema for configuration delivery\.transforms\.clean\.type: Class CleenSchema could not be found\. Did you mean [^\n]*CleanSchema/;
    const created = await fetch(`${worker!.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, config }),
    });
    const refusal = (await created.json()) as { error_code: number; message: string };
    expect(created.status).toBe(400);
    expect(refusal.error_code).toBe(400);
    expect(refusal.message).toMatch(expected);
    expect((await fetch(`${worker!.url}/connectors/${name}`)).status).toBe(404);

    const validated = await fetch(`${worker!.url}/connector-plugins/LookupSink/config/validate`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...config, name }),
    });
    const infos = (await validated.json()) as {
      error_count: number;
      configs: Array<{ value: { name: string; errors: string[] } }>;
    };
    expect(validated.status).toBe(200);
    expect(infos.error_count).toBe(1);
    const bad = infos.configs.find((c) => c.value.name === 'delivery.transforms.clean.type');
    expect(bad?.value.errors.join('\n')).toMatch(expected);
  }, 60_000);
});
