import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../../runtime/errors/dlq.js';
import { KafkaPluginAccess, createKafka, createProducer, ensureTopics } from '../../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { eventually } from './harness.js';
import { SCHEMALESS_JSON, startTestWorker } from '../../test-worker.js';

// The sink as users run it: registered over REST on a real standalone worker, fed by the worker's consumer and
// JsonConverter, with the worker lending it Kafka (SinkTaskContext.kafka) and its DLQ (errantRecordReporter).
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `ls_worker_${sfx}`;
const input = `it-ls-worker-in-${sfx}`;
const dlqTopic = `${input}-dlq`;
const acme = `acme_${sfx}`;
const kafka = createKafka({ brokers, clientId: 'it-ls-worker', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'it-ls-worker' });
let db: pg.Client;
let worker: RunningWorker;

interface Out {
  key: string | null;
  value: Record<string, unknown> | null;
  headers: Record<string, string>;
}

async function contents(topic: string): Promise<Out[]> {
  const out: Out[] = [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return out;
  } finally {
    await admin.disconnect();
  }
  await access.readAll(topic, (key, value) => {
    out.push({
      key: key?.toString() ?? null,
      value: value === null ? null : (JSON.parse(value.toString()) as Record<string, unknown>),
      headers: {},
    });
  });
  return out;
}

/** Whole records with headers (readAll gives key and value only; the DLQ test needs the context headers). */
async function withHeaders(topic: string, count: number): Promise<Out[]> {
  // The worker creates the DLQ topic on the first failure: wait for it before subscribing.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(async () => expect(await admin.listTopics()).toContain(topic), 30_000);
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `it-ls-worker-reader-${uniqueSuffix()}` });
  const out: Out[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        out.push({ key: message.key?.toString() ?? null, value: null, headers });
      },
    });
    await eventually(() => expect(out.length).toBeGreaterThanOrEqual(count), 30_000);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function send(...events: Array<{ id: number; version: number | null }>): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    // Right after creation the broker may not list the topic in its metadata yet (KRaft): retry until it does.
    await eventually(
      () =>
        producer
          .send({
            topic: input,
            acks: -1,
            messages: events.map((e) => ({
              key: JSON.stringify({ document_id: e.id }),
              value: JSON.stringify({ op: 'u' }),
              headers: e.version === null ? {} : { 'erpstream.version': String(e.version) },
            })),
          })
          .then(() => {}),
      30_000,
    );
  } finally {
    await producer.disconnect();
  }
}

async function upsertDocument(id: number, title: string, rev: number): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.document VALUES ($1, $2, $3)
     ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title, rev = EXCLUDED.rev`,
    [id, title, rev],
  );
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL, rev bigint)`);
  await db.query(`CREATE TABLE ${schema}.document_domain (document_id int PRIMARY KEY, domain text NOT NULL)`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
  await admin.disconnect();
  ({ worker } = await startTestWorker('ls-worker', SCHEMALESS_JSON));
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('LookupSink on a standalone worker (JsonConverter ids → PostgreSQL lookups → Kafka per domain)', () => {
  it('delivers, drops stale versions, parks until the domain row appears, and reports unusable records to the DLQ', async () => {
    const out = `${acme}.documents`;
    // Document 1 is registered; 2 is not yet (parked, later released).
    await upsertDocument(1, 'one', 10);
    await upsertDocument(2, 'two', 20);
    await db.query(`INSERT INTO ${schema}.document_domain VALUES (1, $1)`, [acme]);
    await send({ id: 1, version: 10 }, { id: 2, version: 20 });

    const res = await fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `lookup-sink-${sfx}`,
        config: {
          'connector.class': 'LookupSink',
          topics: input,
          'lookup.connection.url': pgUrl,
          'lookup.query':
            `SELECT d.document_id, d.title, d.rev, dd.domain FROM ${schema}.document d ` +
            `LEFT JOIN ${schema}.document_domain dd ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)`,
          'lookup.key.columns': 'document_id',
          'entity.name': 'document',
          dependencies: 'registered',
          'dependencies.registered.type': 'field',
          'dependencies.registered.field': 'domain',
          'destination.type': 'kafka',
          'destination.name': `worker_${sfx}`,
          'destination.topic': '${domain}.documents',
          'ledger.table': `${schema}.ledger`,
          'park.table': `${schema}.parked`,
          'park.check.interval.ms': '200',
          'park.retry.initial.ms': '100',
          'park.retry.max.ms': '200',
          'errors.tolerance': 'all',
          'errors.deadletterqueue.topic.name': dlqTopic,
          'errors.deadletterqueue.topic.replication.factor': '1',
          'errors.deadletterqueue.context.headers.enable': 'true',
        },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);

    // Delivery through the task's borrowed Kafka access; document 2 waits in the park table.
    await eventually(async () => expect((await contents(out)).map((r) => r.key)).toEqual(['1']), 30_000);
    const [first] = await contents(out);
    expect(first!.value).toMatchObject({ document_id: 1, title: 'one', domain: acme });
    await eventually(async () => {
      const parked = await db.query(`SELECT entity_id, version::text AS version FROM ${schema}.parked`);
      expect(parked.rows).toEqual([{ entity_id: '2', version: '20' }]);
    }, 30_000);

    // The version guard: a replayed older version of 1 is dropped; its newer version goes through once.
    await upsertDocument(1, 'one-b', 11);
    await send({ id: 1, version: 9 }, { id: 1, version: 11 }, { id: 1, version: 10 });
    await eventually(async () => expect((await contents(out)).map((r) => r.key)).toEqual(['1', '1']), 30_000);

    // Registering document 2 releases it (the periodic re-check), with the latest state.
    await upsertDocument(2, 'two-b', 21);
    await db.query(`INSERT INTO ${schema}.document_domain VALUES (2, $1)`, [acme]);
    await eventually(async () => expect((await contents(out)).map((r) => r.key)).toEqual(['1', '1', '2']), 30_000);
    const records = await contents(out);
    expect(records.map((r) => r.value!.title)).toEqual(['one', 'one-b', 'two-b']);
    expect((await db.query(`SELECT count(*)::int AS n FROM ${schema}.parked`)).rows[0].n).toBe(0);

    // A record the task cannot use (no version header) reaches the worker's DLQ through errantRecordReporter,
    // with the original bytes and Connect's context headers; the sink goes on.
    await upsertDocument(1, 'one-c', 12);
    await send({ id: 3, version: null }, { id: 1, version: 12 });
    const [dead] = await withHeaders(dlqTopic, 1);
    expect(dead!.key).toBe(JSON.stringify({ document_id: 3 }));
    expect(dead!.headers).toMatchObject({
      [DLQ_HEADERS.topic]: input,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: '5',
      [DLQ_HEADERS.stage]: 'TASK_PUT',
      [DLQ_HEADERS.className]: 'erpstream.LookupSinkConnector',
    });
    expect(dead!.headers[DLQ_HEADERS.exceptionMessage]).toMatch(/no header erpstream\.version/);
    await eventually(async () => expect((await contents(out)).length).toBe(4), 30_000);
    // Nothing went backwards at the destination: versions per key only grow.
    const versions = (await contents(out)).map((r) => Number(r.value!.rev));
    expect(versions).toEqual([10, 11, 21, 12]);
  }, 120_000);
});
