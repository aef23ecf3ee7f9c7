/* eslint-disable @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON answers */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDRIVE_HEADERS } from '../../../runtime/errors/redrive.js';
import { KafkaPluginAccess, createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import type { RunningWorker } from '../../../runtime/launch/standalone.js';
import { runCliProcess } from '../../unit/cli/cli-process.js';
import { eventually } from '../connectors/lookup-sink/harness.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../test-worker.js';

// The /erpstream/v1 operations endpoints on a real worker: two customers' LookupSinks read the same topic (acme's
// waits for an approval row that can expire into its DLQ; globex's delivers at once), behind basic auth.
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `console_${sfx}`;
const input = `it-console-in-${sfx}`;
const acme = `acme-${sfx}`;
const globex = `globex-${sfx}`;
const acmeSink = `${acme}-sink`;
const globexSink = `${globex}-sink`;
const initech = `initech-${sfx}`;
const initechSink = `${initech}-sink`;
const acmeOut = `${acme}.documents`;
const globexOut = `${globex}.documents`;
const acmeDlq = `${acme}-dlq`;
const USER = 'ops';
const PASSWORD = `pw-${sfx}`;
/** A secret only the broken connector's config holds: it must never come back in an answer. */
const SECRET = `S3cr3t-${sfx}`;
const kafka = createKafka({ brokers, clientId: 'it-console', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'it-console' });
let db: pg.Client;
let worker: RunningWorker;

const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

async function api(path: string, init: { method?: string; body?: unknown; auth?: string | null } = {}) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.auth !== null) headers.authorization = init.auth ?? AUTH;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${worker.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, body: text === '' ? null : (JSON.parse(text) as any) };
}

async function ok(path: string, init: Parameters<typeof api>[1] = {}) {
  const r = await api(path, init);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

interface Out {
  offset: string;
  key: string | null;
  value: Record<string, unknown> | null;
}

async function contents(topic: string): Promise<Out[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
  } finally {
    await admin.disconnect();
  }
  const out: Out[] = [];
  await access.readAll(topic, (key, value, _p, meta) => {
    out.push({
      offset: String(meta?.offset ?? ''),
      key: key?.toString() ?? null,
      value: value === null ? null : (JSON.parse(value.toString()) as Record<string, unknown>),
    });
  });
  return out;
}

async function send(
  events: Array<{ id: number; version: number }>,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
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
              key: JSON.stringify({ document_id: e.id }),
              value: JSON.stringify({ op: 'u', source: { ts_ms: 1_700_000_000_000 + e.version } }),
              headers: { 'erpstream.version': String(e.version), ...extraHeaders },
            })),
          })
          .then(() => {}),
      30_000,
    );
  } finally {
    await producer.disconnect();
  }
}

async function document(id: number, rev: number, approved = false): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.document VALUES ($1, $2, $3)
     ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title, rev = EXCLUDED.rev`,
    [id, `doc ${id} rev ${rev}`, rev],
  );
  if (approved) await approve(id);
}

async function approve(id: number): Promise<void> {
  await db.query(`INSERT INTO ${schema}.approval VALUES ($1) ON CONFLICT DO NOTHING`, [id]);
}

function sinkConfig(customer: string, out: string, extra: Record<string, string>): Record<string, string> {
  return {
    'connector.class': 'LookupSink',
    'erpstream.integration': customer,
    topics: input,
    'lookup.connection.url': pgUrl,
    'lookup.query': `SELECT document_id, title, rev FROM ${schema}.document WHERE document_id IN (:ids)`,
    'lookup.key.columns': 'document_id',
    'lookup.version.column': 'rev',
    'entity.name': 'document',
    'destination.type': 'kafka',
    'destination.name': `${customer}_docs`,
    'destination.topic': out,
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '100',
    'park.retry.initial.ms': '100',
    'park.retry.max.ms': '200',
    'errors.tolerance': 'all',
    'errors.deadletterqueue.topic.replication.factor': '1',
    'errors.deadletterqueue.context.headers.enable': 'true',
    ...extra,
  };
}

async function createConnector(name: string, config: Record<string, string>): Promise<void> {
  const r = await api('/connectors', { method: 'POST', body: { name, config } });
  expect(r.status, r.text).toBe(201);
}

async function taskProgress(name: string): Promise<Record<string, any>> {
  const s = await ok(`/connectors/${encodeURIComponent(name)}/tasks/0/status`);
  return s.progress ?? {};
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL, rev bigint)`);
  await db.query(`CREATE TABLE ${schema}.approval (document_id int PRIMARY KEY)`);
  await db.query(
    `CREATE TABLE ${schema}.initech_docs (document_id int PRIMARY KEY, title text, rev bigint, erpstream_version numeric)`,
  );
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
  await admin.disconnect();
  ({ worker } = await startTestWorker('console', {
    ...SCHEMALESS_JSON,
    'rest.auth.type': 'basic',
    'rest.auth.basic.username': USER,
    'rest.auth.basic.password': PASSWORD,
    'operations.storage.topic': `it-console-ops-${sfx}`,
  }));
  // acme: a document goes out once approved; one never approved within 6 s goes to acme's DLQ.
  await createConnector(
    acmeSink,
    sinkConfig(acme, acmeOut, {
      dependencies: 'approved',
      'dependencies.approved.type': 'sql',
      'dependencies.approved.query': `SELECT 1 FROM ${schema}.approval WHERE document_id = :id`,
      'park.max.duration.ms': '6000',
      'errors.deadletterqueue.topic.name': acmeDlq,
    }),
  );
  // globex: every document at once, on the same input topic.
  await createConnector(
    globexSink,
    sinkConfig(globex, globexOut, { 'errors.deadletterqueue.topic.name': `${globex}-dlq` }),
  );
  // initech: a database destination, same topic.
  const { 'destination.topic': _kafkaOnly, ...initechConfig } = sinkConfig(initech, '', {
    'destination.type': 'jdbc',
    'destination.table': `${schema}.initech_docs`,
    'errors.deadletterqueue.topic.name': `${initech}-dlq`,
  });
  await createConnector(initechSink, initechConfig);
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('/erpstream/v1 operations endpoints on a standalone worker', () => {
  it('enforces the REST auth on every endpoint, like the Connect routes', async () => {
    for (const path of [
      '/erpstream/v1/customers',
      '/erpstream/v1/parked',
      `/erpstream/v1/dlq?connector=${acmeSink}`,
      '/erpstream/v1/lineage?key=1',
    ]) {
      const none = await api(path, { auth: null });
      expect(none.status, path).toBe(401);
      expect(none.body).toEqual({ error_code: 401, message: 'Unauthorized' });
      const wrong = await api(path, { auth: `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}` });
      expect(wrong.status, path).toBe(401);
    }
    const redrive = await api('/erpstream/v1/dlq/redrive', {
      method: 'POST',
      body: { connector: acmeSink, filter: {} },
      auth: null,
    });
    expect(redrive.status).toBe(401);
  });

  it('parks, releases, dead-letters, redrives (version-guarded, one connector only) and traces documents', async () => {
    await document(1, 10, true);
    await document(2, 20); // parked until approved
    await document(5, 50); // never approved in time: acme's DLQ, redriven once approved
    await document(7, 70); // never approved in time; a newer version is delivered before the old one is redriven
    await document(9, 90); // never approved in time; then redriven three times at once
    await send([
      { id: 1, version: 10 },
      { id: 2, version: 20 },
      { id: 5, version: 50 },
      { id: 7, version: 70 },
      { id: 9, version: 90 },
    ]);

    // globex delivers everything; acme only document 1.
    await eventually(
      async () => expect((await contents(globexOut)).map((r) => r.key)).toEqual(['1', '2', '5', '7', '9']),
      30_000,
    );
    await eventually(async () => expect((await contents(acmeOut)).map((r) => r.key)).toEqual(['1']), 30_000);

    // Parked: 2, 5 and 7, with their versions and reason; filtered by customer.
    const parked = await ok(`/erpstream/v1/parked?customer=${acme}`);
    expect(parked.records.map((r: any) => [r.entityId, r.version])).toEqual(
      expect.arrayContaining([
        ['2', '20'],
        ['5', '50'],
        ['7', '70'],
      ]),
    );
    const two = parked.records.find((r: any) => r.entityId === '2');
    expect(two).toMatchObject({
      connector: acmeSink,
      customer: acme,
      entity: 'document',
      waiting: false,
      destination: `${acme}_docs`,
    });
    expect(two.reason).toMatch(/approved/);
    expect(Date.parse(two.firstParkedAt)).toBeGreaterThan(0);
    expect(Date.parse(two.nextCheckAt)).toBeGreaterThan(0);
    expect((await ok(`/erpstream/v1/parked?customer=${globex}`)).records).toEqual([]);

    // Released: approving 2 delivers it, and it leaves the parked list.
    await approve(2);
    await eventually(async () => expect((await contents(acmeOut)).map((r) => r.key)).toEqual(['1', '2']), 30_000);
    await eventually(async () => {
      const now = await ok(`/erpstream/v1/parked?connector=${acmeSink}`);
      expect(now.records.map((r: any) => r.entityId)).not.toContain('2');
    }, 10_000);

    // 5 and 7 expire into acme's DLQ with Connect's context decoded.
    let dlq: any;
    await eventually(async () => {
      dlq = await ok(`/erpstream/v1/dlq?connector=${acmeSink}`);
      expect(dlq.records).toHaveLength(3);
    }, 30_000);
    expect(dlq.topic).toBe(acmeDlq);
    const five = dlq.records.find((r: any) => r.key === JSON.stringify({ document_id: 5 }));
    expect(five.error).toMatchObject({
      stage: 'TASK_PUT',
      className: 'erpstream.LookupSinkConnector',
      originalTopic: input,
      originalPartition: 0,
      originalOffset: '2',
      connector: acmeSink,
      taskId: 0,
    });
    expect(five.error.message).toMatch(/approved/);
    expect(five.headers['erpstream.version']).toBe('50');
    expect(five.keyEncoding).toBe('utf8');
    // The customer's view gives the same topic; paging with a cursor.
    const page = await ok(`/erpstream/v1/dlq?customer=${acme}&limit=1&after=0:0`);
    expect(page.records.map((r: any) => r.offset)).toEqual(['1']);
    expect(page).toMatchObject({ next: '0:1', prev: '0:1' });
    // Newest first page, then older pages through `prev`.
    const newest = await ok(`/erpstream/v1/dlq?connector=${acmeSink}&limit=1`);
    expect(newest.records.map((r: any) => r.offset)).toEqual(['2']);
    expect(newest.next).toBeUndefined();
    const older = await ok(`/erpstream/v1/dlq?connector=${acmeSink}&limit=1&before=${newest.prev}`);
    expect(older.records.map((r: any) => r.offset)).toEqual(['1']);
    expect((await api(`/erpstream/v1/dlq?connector=${acmeSink}&before=0:1&after=0:1`)).status).toBe(400);

    // Redrive 5 once it is approved: delivered to acme; globex's task never even gets the redriven record.
    await approve(5);
    const globexRecords = (await taskProgress(globexSink)).records;
    const redriven = await ok('/erpstream/v1/dlq/redrive', {
      method: 'POST',
      body: { connector: acmeSink, records: [{ partition: five.partition, offset: five.offset }] },
    });
    expect(redriven).toMatchObject({ redriven: 1, skipped: 0 });
    expect(redriven.auditId).toEqual(expect.any(String));
    await eventually(async () => expect((await contents(acmeOut)).map((r) => r.key)).toEqual(['1', '2', '5']), 30_000);
    const delivered5 = (await contents(acmeOut)).find((r) => r.key === '5')!;
    expect(delivered5.value).toMatchObject({ document_id: 5, rev: 50 });
    // Another customer's sink on the same topic skips it before put(): its record count does not move.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await taskProgress(globexSink)).records).toBe(globexRecords);
    expect((await contents(globexOut)).map((r) => r.key)).toEqual(['1', '2', '5', '7', '9']);
    // The audit entry: who, what, result.
    const ops = await ok(`/erpstream/v1/operations?kind=redrive&customer=${acme}`);
    expect(ops.operations[0]).toMatchObject({
      id: redriven.auditId,
      kind: 'redrive',
      customer: acme,
      connector: acmeSink,
      who: USER,
      result: 'succeeded',
      counts: { redriven: 1, skipped: 0 },
    });

    // 7: a newer version is delivered, then the old DLQ record is redriven: it must not overwrite the newer one.
    await document(7, 71, true);
    await send([{ id: 7, version: 71 }]);
    await eventually(
      async () => expect((await contents(acmeOut)).map((r) => r.key)).toEqual(['1', '2', '5', '7']),
      30_000,
    );
    const old = await ok('/erpstream/v1/dlq/redrive', {
      method: 'POST',
      body: { connector: acmeSink, filter: { entityId: '7' } },
    });
    expect(old).toMatchObject({ redriven: 0, skipped: 1 });
    expect(old.records[0]).toMatchObject({ result: 'skipped', entityId: '7', version: '70' });
    expect(old.records[0].reason).toMatch(/stale: the destination holds version 71/);
    // And if an old version reaches the sink anyway (a redrive racing a newer delivery), the ledger guard drops it.
    const staleBefore = (await taskProgress(acmeSink)).staleDropped;
    await send([{ id: 7, version: 70 }], { [REDRIVE_HEADERS.connector]: acmeSink });
    await eventually(async () => expect((await taskProgress(acmeSink)).staleDropped).toBe(staleBefore + 1), 30_000);
    const sevens = (await contents(acmeOut)).filter((r) => r.key === '7');
    expect(sevens.map((r) => r.value!.rev)).toEqual([71]);
    // globex skipped both records meant for acme, and committed past them (8 records on the input topic).
    await eventually(async () => {
      const offsets = await ok(`/connectors/${globexSink}/offsets`);
      expect(offsets.offsets).toEqual([
        expect.objectContaining({ partition: { kafka_topic: input, kafka_partition: 0 }, offset: { kafka_offset: 8 } }),
      ]);
    }, 30_000);

    // Lineage of 1 for acme: origin, source event, delivery with its offset.
    const l1 = await ok(`/erpstream/v1/lineage?key=1&customer=${acme}`);
    expect(l1.origin).toMatchObject({ entity: 'document', exists: true, version: '10' });
    expect(l1.origin.committedAt).toBe(new Date(1_700_000_000_010).toISOString());
    expect(l1.sourceEvents).toEqual([
      expect.objectContaining({ topic: input, partition: 0, offset: '0', version: '10', op: 'u' }),
    ]);
    const acmeOffset1 = (await contents(acmeOut)).find((r) => r.key === '1')!.offset;
    expect(l1.deliveries).toEqual([
      expect.objectContaining({
        customer: acme,
        connector: acmeSink,
        destinationType: 'kafka',
        version: '10',
        target: acmeOut,
        kafkaPartition: 0,
        kafkaOffset: acmeOffset1,
      }),
    ]);
    expect(Date.parse(l1.deliveries[0].at)).toBeGreaterThan(0);
    expect(l1.parked).toEqual([]);
    expect(l1.dlq).toEqual([]);
    // `erpstream trace` gives the same answer (the CLI's exit codes: 0 traced, 1 unknown, 2 bad input).
    process.env.ERPSTREAM_CONNECT_USERNAME = USER;
    process.env.ERPSTREAM_CONNECT_PASSWORD = PASSWORD;
    try {
      const cli = ['--connect-url', worker.url];
      const traced = await runCliProcess(['trace', '1', '--customer', acme, '-o', 'json', ...cli]);
      expect(traced.code, traced.stderr).toBe(0);
      expect(JSON.parse(traced.stdout)).toEqual(l1);
      const table = await runCliProcess(['trace', '1', '--entity', 'document', ...cli]);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toContain(`document 1: origin version 10`);
      expect(table.stdout).toContain(acmeOut);
      const unknown = await runCliProcess(['trace', '424242', '--customer', acme, ...cli]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('No trace of document 424242');
      const bad = await runCliProcess(['trace', '1 OR 1=1', '--customer', acme, ...cli]);
      expect(bad.code, bad.stderr).toBe(2);
      const noCustomer = await runCliProcess(['trace', '1', '--customer', 'nobody-here', ...cli]);
      expect(noCustomer.code).toBe(1);
      expect(noCustomer.stderr).toContain('Customer nobody-here not found');
    } finally {
      delete process.env.ERPSTREAM_CONNECT_USERNAME;
      delete process.env.ERPSTREAM_CONNECT_PASSWORD;
    }

    // Every customer at once; 5 shows its DLQ entry next to the deliveries.
    const l5 = await ok('/erpstream/v1/lineage?key=5&entity=document');
    expect(l5.deliveries.map((d: any) => [d.customer, d.version]).sort()).toEqual([
      [acme, '50'],
      [globex, '50'],
      [initech, '50'],
    ]);
    expect(l5.deliveries.find((d: any) => d.customer === initech)).toMatchObject({
      destinationType: 'jdbc',
      target: `${schema}.initech_docs`,
      sqlTable: `${schema}.initech_docs`,
    });
    expect(l5.dlq).toHaveLength(1);
    expect(l5.dlq[0]).toMatchObject({ customer: acme, connector: acmeSink, topic: acmeDlq });

    // Per-customer counts.
    const customers = await ok('/erpstream/v1/customers');
    const a = customers.find((c: any) => c.customer === acme);
    const g = customers.find((c: any) => c.customer === globex);
    expect(a).toMatchObject({ connectors: [acmeSink], parked: 0, waiting: 0, dlq: 3, tasks: 1, tasksUnreported: 0 });
    expect(a.delivered).toBe(4);
    expect(a.staleDropped).toBeGreaterThanOrEqual(1);
    expect(g).toMatchObject({ connectors: [globexSink], delivered: 6, dlq: 0 }); // 7 twice: v70, then v71
    expect((await ok(`/erpstream/v1/customers?customer=${globex}`)).map((c: any) => c.customer)).toEqual([globex]);

    // Three operators redrive 9 at the same moment: however many copies go out, acme delivers it once.
    await approve(9);
    const nine = dlq.records.find((r: any) => r.key === JSON.stringify({ document_id: 9 }));
    const consumedBefore = (await taskProgress(acmeSink)).records;
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        ok('/erpstream/v1/dlq/redrive', {
          method: 'POST',
          body: { connector: acmeSink, records: [{ partition: nine.partition, offset: nine.offset }] },
        }),
      ),
    );
    const sent = answers.reduce((n, a) => n + a.redriven, 0);
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(answers.reduce((n, a) => n + a.redriven + a.skipped, 0)).toBe(3);
    expect(new Set(answers.map((a) => a.auditId)).size).toBe(3);
    await eventually(async () => expect((await taskProgress(acmeSink)).records).toBe(consumedBefore + sent), 30_000);
    await eventually(async () => {
      expect((await contents(acmeOut)).filter((r) => r.key === '9').map((r) => r.value!.rev)).toEqual([90]);
    }, 30_000);
    const audit = await ok(`/erpstream/v1/operations?kind=redrive&connector=${acmeSink}`);
    expect(audit.operations.length).toBe(5); // 5, the skipped one of 7, and these three
  }, 180_000);

  it('answers bad input with Connect-shaped errors and never repeats a secret', async () => {
    await document(100, 1);
    const cases: Array<[string, number, RegExp]> = [
      ['/erpstream/v1/parked?connector=no-such-connector', 404, /no-such-connector/],
      ['/erpstream/v1/parked?customer=no-such-customer', 404, /Customer no-such-customer not found/],
      ['/erpstream/v1/parked?limit=abc', 400, /limit/],
      ['/erpstream/v1/parked?limit=99999999', 400, /limit/],
      [`/erpstream/v1/dlq?connector=${acmeSink}&after=zzz`, 400, /after/],
      ['/erpstream/v1/dlq', 400, /connector or customer/],
      ['/erpstream/v1/lineage', 400, /key is required/],
      [`/erpstream/v1/lineage?key=1&entity=nope`, 404, /entity nope/],
      [`/erpstream/v1/lineage?key=${encodeURIComponent('1 OR 1=1')}&customer=${acme}`, 400, /1 OR 1=1/],
      [`/erpstream/v1/lineage?key=${encodeURIComponent('1\u0000')}`, 400, /control characters/],
    ];
    for (const [path, status, message] of cases) {
      const r = await api(path);
      expect(r.status, `${path}: ${r.text}`).toBe(status);
      expect(r.body.error_code).toBe(status);
      expect(r.body.message).toMatch(message);
    }
    // The injected key reached the database only as a bound value: the table is still there.
    expect((await db.query(`SELECT count(*)::int AS n FROM ${schema}.document`)).rows[0].n).toBeGreaterThan(0);

    const bodies: Array<[unknown, number, RegExp]> = [
      ['not json', 400, /Invalid JSON/],
      [[], 400, /JSON object/],
      [{ connector: acmeSink }, 400, /exactly one of records .* or filter/],
      [{ connector: acmeSink, filter: {}, records: [{ partition: 0, offset: 0 }] }, 400, /exactly one/],
      [{ connector: acmeSink, filter: { evil: 'x' } }, 400, /Unknown filter/],
      [{ connector: acmeSink, filter: {}, topic: 'elsewhere' }, 400, /Unknown field/],
      [{ connector: acmeSink, records: [{ partition: 0, offset: -1 }] }, 400, /offset/],
      [{ connector: acmeSink, records: [{ partition: 0, offset: 999999 }] }, 404, /No record/],
      [{ connector: 'no-such-connector', filter: {} }, 404, /no-such-connector/],
      [{ connector: globexSink, records: [{ partition: 0, offset: 0 }] }, 404, /No record/],
    ];
    for (const [body, status, message] of bodies) {
      const r = await api('/erpstream/v1/dlq/redrive', { method: 'POST', body });
      expect(r.status, `${JSON.stringify(body)}: ${r.text}`).toBe(status);
      expect(r.body.message).toMatch(message);
    }

    // Forged DLQ records (anyone who can write the DLQ topic): one claims another connector, one points at a topic
    // the connector does not consume. Neither is sent anywhere.
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: acmeDlq, numPartitions: 1 }]);
    const end = BigInt((await admin.fetchTopicOffsets(acmeDlq))[0]!.high);
    await admin.disconnect();
    const producer = createProducer(kafka);
    await producer.connect();
    const forged = (connector: string, topic: string) => ({
      key: JSON.stringify({ document_id: 100 }),
      value: JSON.stringify({ op: 'u' }),
      headers: {
        'erpstream.version': '999',
        '__connect.errors.topic': topic,
        '__connect.errors.partition': '0',
        '__connect.errors.offset': '0',
        '__connect.errors.connector.name': connector,
        '__connect.errors.stage': 'TASK_PUT',
      },
    });
    await producer.send({
      topic: acmeDlq,
      acks: -1,
      messages: [forged(globexSink, input), forged(acmeSink, `${globex}.documents`)],
    });
    await producer.disconnect();
    const forgedAnswer = await ok('/erpstream/v1/dlq/redrive', {
      method: 'POST',
      body: {
        connector: acmeSink,
        records: [
          { partition: 0, offset: end.toString() },
          { partition: 0, offset: (end + 1n).toString() },
        ],
      },
    });
    expect(forgedAnswer).toMatchObject({ redriven: 0, skipped: 2 });
    expect(forgedAnswer.records.map((r: any) => r.reason)).toEqual([
      `belongs to connector ${globexSink}`,
      `its original topic ${globex}.documents is not one ${acmeSink} consumes`,
    ]);

    // A connector whose database is unreachable, with a password in its URL: errors name the problem, not it.
    await createConnector(`broken-${sfx}`, {
      ...sinkConfig(`broken-${sfx}`, `broken-${sfx}.documents`, {}),
      'lookup.connection.url': `postgresql://nobody:${SECRET}@127.0.0.1:1/nowhere`,
      'lookup.connection.password': SECRET,
      'ledger.connection.url': `postgresql://nobody:${SECRET}@127.0.0.1:1/nowhere`,
    });
    for (const path of [
      `/erpstream/v1/parked?connector=broken-${sfx}`,
      `/erpstream/v1/lineage?key=1&connector=broken-${sfx}`,
      '/erpstream/v1/customers',
      '/erpstream/v1/parked',
    ]) {
      const r = await api(path);
      expect(r.text, path).not.toContain(SECRET);
      expect(r.status, `${path}: ${r.text}`).toBeLessThan(600);
    }
    const broken = await api(`/erpstream/v1/parked?connector=broken-${sfx}`);
    expect(broken.status).toBeGreaterThanOrEqual(500);
    expect(broken.body.error_code).toBe(broken.status);
  }, 60_000);
});
