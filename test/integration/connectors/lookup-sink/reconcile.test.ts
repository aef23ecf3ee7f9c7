import { PassThrough } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../../../cli/context.js';
import { runCli } from '../../../../cli/program.js';
import type { ReconcileReport } from '../../../../runtime/api/reconcile.js';
import { KafkaPluginAccess, createKafka, createProducer, ensureTopics } from '../../../../runtime/kafka/index.js';
import type { RunningWorker } from '../../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../../test-worker.js';
import { eventually } from './harness.js';

// Reconcile on the real stack: two customers of one ERP, one delivered to a PostgreSQL table (jdbc), one to a
// Kafka topic. Each is broken in every way reconcile must see (rows deleted at the destination, versions corrupted,
// ledger rows dropped, the origin changed without an event, a registration removed while the sink is stopped),
// and the report must name exactly those keys, per class, without the other customer's report moving.
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `rc_${sfx}`;
const input = `it-rc-in-${sfx}`;
const jdbcCustomer = `rcj_${sfx}`;
const kafkaCustomer = `rck_${sfx}`;
const kafkaTopic = `${kafkaCustomer}.documents`;
const kafka = createKafka({ brokers, clientId: 'it-reconcile', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'it-reconcile' });
const connectorOf = (customer: string) => `${customer}-documents-sink`;
let db: pg.Client;
let worker: RunningWorker;

const JDBC_DOCS = range(1, 15);
const KAFKA_DOCS = range(6, 20);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function sinkConfig(customer: string, destination: Record<string, string>): Record<string, string> {
  return {
    'connector.class': 'LookupSink',
    'erpstream.integration': customer,
    topics: input,
    'lookup.connection.url': pgUrl,
    'lookup.query':
      `SELECT d.document_id, d.title, d.rev, dd.domain FROM ${schema}.document d ` +
      `LEFT JOIN ${schema}.document_domain dd ON dd.document_id = d.document_id AND dd.domain = '${customer}' ` +
      `WHERE d.document_id IN (:ids)`,
    'lookup.key.columns': 'document_id',
    'lookup.version.column': 'rev',
    'entity.name': 'document',
    dependencies: 'registered',
    'dependencies.registered.type': 'field',
    'dependencies.registered.field': 'domain',
    'destination.name': customer,
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '200',
    'park.retry.initial.ms': '100',
    'park.retry.max.ms': '300',
    ...destination,
  };
}

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${worker.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function reconcile(customer: string): Promise<ReconcileReport> {
  const res = await rest('POST', `/erpstream/v1/integrations/${customer}/reconcile`, { sample: 50 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as ReconcileReport;
}

/** The sampled keys of each class (the samples hold every difference here: fewer than `sample`). */
function keys(r: ReconcileReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(r.samples)) out[k] = list.map((d) => d.entityId);
  return out;
}

function cli(): CliContext & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: {},
    exitCode: 0,
    output: 'table',
    noColor: true,
    out: () => out,
    err: () => err,
  };
}

async function send(ids: readonly number[]): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    const revs = await db.query(`SELECT document_id, rev FROM ${schema}.document WHERE document_id = ANY($1)`, [ids]);
    await eventually(
      () =>
        producer
          .send({
            topic: input,
            acks: -1,
            messages: revs.rows.map((r: { document_id: number; rev: string }) => ({
              key: JSON.stringify({ document_id: r.document_id }),
              value: JSON.stringify({ op: 'u' }),
              headers: { 'erpstream.version': String(r.rev) },
            })),
          })
          .then(() => {}),
      30_000,
    );
  } finally {
    await producer.disconnect();
  }
}

async function ledgerCount(customer: string): Promise<number> {
  const r = await db.query(
    `SELECT count(*)::int AS n FROM ${schema}.ledger WHERE destination = $1 AND NOT deleted AND targets <> '[]' ` +
      // Not a target listed ahead of its send (version -1, planner.ts intentWritesOf): that one is not delivered yet.
      `AND version >= 0 AND targets NOT LIKE '%"-1"]%'`,
    [customer],
  );
  return r.rows[0].n as number;
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL, rev bigint)`);
  await db.query(
    `CREATE TABLE ${schema}.document_domain (document_id int, domain text, PRIMARY KEY (document_id, domain))`,
  );
  await db.query(
    `CREATE TABLE ${schema}.jdbc_documents (document_id int PRIMARY KEY, title text, rev bigint, erpstream_version numeric(20,0))`,
  );
  for (const id of range(1, 20)) {
    await db.query(`INSERT INTO ${schema}.document VALUES ($1, $2, $3)`, [id, `doc ${id}`, 100 + id]);
  }
  for (const id of JDBC_DOCS)
    await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, $2)`, [id, jdbcCustomer]);
  for (const id of KAFKA_DOCS) {
    await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, $2)`, [id, kafkaCustomer]);
  }
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
  await admin.disconnect();
  ({ worker } = await startTestWorker('reconcile', SCHEMALESS_JSON));
  for (const [customer, destination] of [
    [jdbcCustomer, { 'destination.type': 'jdbc', 'destination.table': `${schema}.jdbc_documents` }],
    [kafkaCustomer, { 'destination.type': 'kafka', 'destination.topic': '${domain}.documents' }],
  ] as const) {
    const res = await rest('PUT', `/connectors/${connectorOf(customer)}/config`, sinkConfig(customer, destination));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  await send(range(1, 20));
  await eventually(async () => {
    expect(await ledgerCount(jdbcCustomer)).toBe(JDBC_DOCS.length);
    expect(await ledgerCount(kafkaCustomer)).toBe(KAFKA_DOCS.length);
  }, 60_000);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('erpstream integrations reconcile (origin vs ledger vs destination)', () => {
  it('reports both customers in sync after delivery, through REST and the CLI (exit 0)', async () => {
    const j = await reconcile(jdbcCustomer);
    expect(j.inSync, JSON.stringify(j.counts)).toBe(true);
    expect(j.connectors[0]!.compared).toEqual({ destination: true, versions: true });
    expect(j.connectors[0]!.totals).toMatchObject({ origin: 15, ledger: 15, destination: 15 });
    const k = await reconcile(kafkaCustomer);
    expect(k.inSync, JSON.stringify(k.counts)).toBe(true);
    expect(k.connectors[0]!.totals).toMatchObject({ origin: 15, ledger: 15, destination: 15 });
    expect(k.connectors[0]!.targets).toEqual([kafkaTopic]);

    const ctx = cli();
    expect(await runCli(['integrations', 'reconcile', jdbcCustomer, '--connect-url', worker.url], ctx)).toBe(0);
    expect(ctx.out()).toContain(`Customer ${jdbcCustomer}: in sync`);
  }, 60_000);

  it('names exactly the missing, stale, extra and drifted keys of the jdbc customer; the kafka customer stays in sync', async () => {
    const t = `${schema}.jdbc_documents`;
    await db.query(`DELETE FROM ${t} WHERE document_id IN (1, 2)`); // missing + drift
    await db.query(`UPDATE ${t} SET erpstream_version = 1 WHERE document_id = 3`); // stale + drift
    await db.query(`DELETE FROM ${schema}.ledger WHERE destination = $1 AND entity_id = '4'`, [jdbcCustomer]); // drift
    await db.query(`UPDATE ${schema}.document SET rev = rev + 1000 WHERE document_id = 5`); // stale (no event sent)
    // A registration removed while the sink is stopped: nobody withdraws document 6 from the table.
    expect((await rest('PUT', `/connectors/${connectorOf(jdbcCustomer)}/stop`)).status).toBe(204);
    await db.query(`DELETE FROM ${schema}.document_domain WHERE document_id = 6 AND domain = $1`, [jdbcCustomer]);

    const r = await reconcile(jdbcCustomer);
    expect(r.inSync).toBe(false);
    expect(r.counts).toEqual({ missing: 2, stale: 2, extra: 1, drift: 4 });
    expect(keys(r)).toEqual({ missing: ['1', '2'], stale: ['3', '5'], extra: ['6'], drift: ['1', '2', '3', '4'] });
    const stale3 = r.samples.stale.find((d) => d.entityId === '3')!;
    expect(stale3).toMatchObject({ originVersion: '103', ledgerVersion: '103', destinationVersion: '1' });
    const stale5 = r.samples.stale.find((d) => d.entityId === '5')!;
    expect(stale5).toMatchObject({ originVersion: '1105', ledgerVersion: '105', destinationVersion: '105' });
    expect(r.samples.extra[0]).toMatchObject({ shouldHold: false, target: t, destinationVersion: '106' });

    // Recorded in the operations log: who, when, the counts.
    expect(r.operationId).toEqual(expect.any(String));
    const op = await rest('GET', `/erpstream/v1/operations/${r.operationId}`);
    expect(op.body).toMatchObject({
      kind: 'reconcile',
      customer: jdbcCustomer,
      result: 'succeeded',
      counts: { missing: 2, stale: 2, extra: 1, drift: 4 },
    });

    // The other customer's report does not move (document 5 and 6 are not its; 6 is, and stays registered).
    const other = await reconcile(kafkaCustomer);
    expect(other.inSync, JSON.stringify(other.counts)).toBe(true);

    // The CLI: exit 2, and -o json is the REST report.
    const ctx = cli();
    ctx.output = 'json';
    expect(
      await runCli(['integrations', 'reconcile', jdbcCustomer, '--connect-url', worker.url, '-o', 'json'], ctx),
    ).toBe(2);
    expect((JSON.parse(ctx.out()) as ReconcileReport).counts).toEqual(r.counts);
  }, 60_000);

  it('reads the compacted topic of the kafka customer: the latest record per key, its version header', async () => {
    await db.query(`DELETE FROM ${schema}.ledger WHERE destination = $1 AND entity_id = '16'`, [kafkaCustomer]); // drift
    await db.query(`UPDATE ${schema}.document SET rev = rev + 1000 WHERE document_id = 17`); // stale
    // Someone deletes document 19 from the customer's topic (a tombstone): missing, and the ledger disagrees.
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: kafkaTopic,
      acks: -1,
      messages: [{ key: '19', value: null, headers: { 'erpstream.entity': 'document', 'erpstream.id': '19' } }],
    });
    await producer.disconnect();
    // A registration removed while the sink is stopped: 18 stays on the topic.
    expect((await rest('PUT', `/connectors/${connectorOf(kafkaCustomer)}/stop`)).status).toBe(204);
    await db.query(`DELETE FROM ${schema}.document_domain WHERE document_id = 18 AND domain = $1`, [kafkaCustomer]);

    const r = await reconcile(kafkaCustomer);
    expect(r.counts).toEqual({ missing: 1, stale: 1, extra: 1, drift: 2 });
    expect(keys(r)).toEqual({ missing: ['19'], stale: ['17'], extra: ['18'], drift: ['16', '19'] });
    expect(r.samples.drift[0]).toMatchObject({ entityId: '16', ledgerVersion: null, destinationVersion: '116' });

    // The jdbc customer's report is the one of the previous case, unchanged.
    const j = await reconcile(jdbcCustomer);
    expect(keys(j)).toEqual({ missing: ['1', '2'], stale: ['3', '5'], extra: ['6'], drift: ['1', '2', '3', '4'] });
    // What the destination really holds, read independently: 18 is there, 19 is not.
    const latest = new Map<string, string | null>();
    await access.readAll(kafkaTopic, (key, value) => latest.set(key!.toString(), value === null ? null : 'x'));
    expect(latest.get('18')).toBe('x');
    expect(latest.get('19')).toBeNull();
  }, 60_000);

  it('--repair fixes exactly the customer it is run for; a second reconcile is in sync; the other customer is untouched', async () => {
    for (const c of [jdbcCustomer, kafkaCustomer]) {
      expect((await rest('PUT', `/connectors/${connectorOf(c)}/resume`)).status).toBe(202);
    }
    // The kafka customer's data before the jdbc customer's repair: its ledger rows and its topic's end offsets.
    const ledgerOf = async (c: string) =>
      (
        await db.query(
          `SELECT entity_id, version::text, targets, updated_at::text FROM ${schema}.ledger WHERE destination = $1 ORDER BY entity_id`,
          [c],
        )
      ).rows;
    const ends = async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.fetchTopicOffsets(kafkaTopic)).map((o) => `${o.partition}:${o.high}`).sort();
      } finally {
        await admin.disconnect();
      }
    };
    const kafkaLedger = await ledgerOf(kafkaCustomer);
    const kafkaEnds = await ends();

    const ctx = cli();
    ctx.output = 'json';
    const code = await runCli(
      ['integrations', 'reconcile', jdbcCustomer, '--repair', '--connect-url', worker.url, '-o', 'json'],
      ctx,
    );
    expect(code, ctx.err()).toBe(0);
    const out = JSON.parse(ctx.out()) as {
      before: ReconcileReport;
      repair: { kind: string; result: string; customer: string };
      after: ReconcileReport;
    };
    expect(out.before.counts).toEqual({ missing: 2, stale: 2, extra: 1, drift: 4 });
    expect(out.repair).toMatchObject({ kind: 'repair', result: 'succeeded', customer: jdbcCustomer });
    expect(out.after.inSync, JSON.stringify(out.after.counts)).toBe(true);
    // What the table holds now: every registered document at the origin's version, document 6 gone.
    const rows = await db.query(
      `SELECT document_id, erpstream_version::text AS v FROM ${schema}.jdbc_documents ORDER BY document_id`,
    );
    expect(rows.rows.map((r: { document_id: number }) => r.document_id)).toEqual(JDBC_DOCS.filter((d) => d !== 6));
    expect(rows.rows.find((r: { document_id: number }) => r.document_id === 5)).toEqual({ document_id: 5, v: '1105' });

    // The kafka customer: not one ledger row or record written, and its report is the one it had.
    expect(await ledgerOf(kafkaCustomer)).toEqual(kafkaLedger);
    expect(await ends()).toEqual(kafkaEnds);
    expect(keys(await reconcile(kafkaCustomer))).toEqual({
      missing: ['19'],
      stale: ['17'],
      extra: ['18'],
      drift: ['16', '19'],
    });

    // Now the kafka customer, over REST (waiting for the repair), without touching the jdbc customer's table.
    const jdbcRows = (await db.query(`SELECT * FROM ${schema}.jdbc_documents ORDER BY document_id`)).rows;
    const res = await rest('POST', `/erpstream/v1/integrations/${kafkaCustomer}/reconcile`, {
      repair: true,
      wait: true,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ repair: { totals: { pending: 0, failed: 0 } } });
    const again = await reconcile(kafkaCustomer);
    expect(again.inSync, JSON.stringify(again.counts)).toBe(true);
    const latest = new Map<string, string | null>();
    await access.readAll(kafkaTopic, (key, value) => latest.set(key!.toString(), value === null ? null : 'x'));
    expect(latest.get('18')).toBeNull(); // withdrawn
    expect(latest.get('19')).toBe('x'); // delivered again
    expect((await db.query(`SELECT * FROM ${schema}.jdbc_documents ORDER BY document_id`)).rows).toEqual(jdbcRows);
    expect((await reconcile(jdbcCustomer)).inSync).toBe(true);
  }, 120_000);

  it('runs while the sinks deliver (several at once): only in-flight entities differ, never extra; quiet again, in sync', async () => {
    // Every document changes; the events go out while three reconciles of each customer run side by side.
    await db.query(`UPDATE ${schema}.document SET rev = rev + 5000`);
    const sending = send(range(1, 20));
    const reports = await Promise.all([jdbcCustomer, kafkaCustomer, jdbcCustomer, kafkaCustomer].map(reconcile));
    await sending;
    for (const r of reports) {
      expect(r.counts.extra).toBe(0);
      // What differs is what is in flight: registered documents not yet at their new version.
      const mine = r.customer === jdbcCustomer ? JDBC_DOCS.filter((d) => d !== 6) : KAFKA_DOCS.filter((d) => d !== 18);
      for (const d of [...r.samples.missing, ...r.samples.stale]) expect(mine).toContain(Number(d.entityId));
    }
    await eventually(async () => {
      const j = await reconcile(jdbcCustomer);
      const k = await reconcile(kafkaCustomer);
      expect([j.counts, k.counts]).toEqual([
        { missing: 0, stale: 0, extra: 0, drift: 0 },
        { missing: 0, stale: 0, extra: 0, drift: 0 },
      ]);
    }, 60_000);
  }, 120_000);

  it('a customer nothing was delivered to yet (its topic does not exist): everything registered is missing, at once', async () => {
    const fresh = `rcn_${sfx}`;
    for (const id of [1, 2, 3]) await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, $2)`, [id, fresh]);
    const res = await rest('POST', '/connectors', {
      name: connectorOf(fresh),
      config: sinkConfig(fresh, { 'destination.type': 'kafka', 'destination.topic': '${domain}.documents' }),
      initial_state: 'STOPPED',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const started = Date.now();
    const r = await reconcile(fresh);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.counts).toEqual({ missing: 3, stale: 0, extra: 0, drift: 0 });
    expect(keys(r).missing).toEqual(['1', '2', '3']);
    expect(r.connectors[0]!.notes).toContain(`Destination topic ${fresh}.documents does not exist: it holds nothing.`);
  }, 60_000);

  it('refuses hostile and unknown customer names with a clear error', async () => {
    for (const name of ['..%2F..%2Fetc', '%27%3B%20DROP%20TABLE%20x%3B--', 'a%20b']) {
      const res = await rest('POST', `/erpstream/v1/integrations/${name}/reconcile`, {});
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error_code: 400, message: expect.stringMatching(/Invalid customer name/) });
    }
    const unknown = await rest('POST', `/erpstream/v1/integrations/nobody_${sfx}/reconcile`, {});
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error_code: 404, message: expect.stringMatching(/No connector belongs/) });
    const bad = await rest('POST', `/erpstream/v1/integrations/${jdbcCustomer}/reconcile`, { sample: -1 });
    expect(bad.status).toBe(400);

    const ctx = cli();
    expect(await runCli(['integrations', 'reconcile', "x'; DROP TABLE y", '--connect-url', worker.url], ctx)).toBe(1);
    expect(ctx.err()).toMatch(/Invalid customer name/);
    const ctx2 = cli();
    expect(await runCli(['integrations', 'reconcile', `nobody_${sfx}`, '--connect-url', worker.url], ctx2)).toBe(1);
    expect(ctx2.err()).toMatch(/No connector belongs to customer/);
  }, 60_000);
});
