import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import type { RunningWorker } from '../../../runtime/launch/standalone.js';
import { runIntegrationsCli } from '../../unit/cli/integrations/run-cli.js';
import { eventually } from '../connectors/lookup-sink/harness.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../test-worker.js';

// Per-customer replay on a real standalone worker, end to end: two customers' LookupSinks share one input topic and
// one origin; acme's jdbc table is truncated (a restored backup); `erpstream integrations replay acme --since …`
// restores it through acme's running task, globex's table is untouched row by row, and the operation is in the
// audit log with who ran it and its counts, also as another worker sees it after this one stopped.
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `ops_replay_${sfx}`;
const input = `it-ops-replay-in-${sfx}`;
const opsTopic = `it-ops-replay-operations-${sfx}`;
const kafka = createKafka({ brokers, clientId: 'it-ops-replay', logLevel: 'nothing' });
let db: pg.Client;
const workers: RunningWorker[] = [];

const workerConfig = {
  ...SCHEMALESS_JSON,
  'operations.storage.topic': opsTopic,
  'operations.storage.replication.factor': '1',
};

function sinkConfig(customer: string): Record<string, string> {
  return {
    'connector.class': 'LookupSink',
    topics: input,
    'erpstream.integration': customer,
    'erpstream.managed-by': 'erpstream-integrations',
    'lookup.connection.url': pgUrl,
    'lookup.query':
      `SELECT d.document_id, d.title, d.rev, dd.domain FROM ${schema}.document d LEFT JOIN ${schema}.document_domain dd ` +
      `ON dd.document_id = d.document_id AND dd.domain = '${customer}' WHERE d.document_id IN (:ids)`,
    'lookup.key.columns': 'document_id',
    'lookup.version.column': 'rev',
    'entity.name': 'document',
    dependencies: 'registered',
    'dependencies.registered.type': 'field',
    'dependencies.registered.field': 'domain',
    'destination.type': 'jdbc',
    'destination.name': `${customer}_${sfx}`,
    'destination.table': `${schema}.${customer}_out`,
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'redelivery.table': `${schema}.redelivery`,
    'redelivery.poll.interval.ms': '200',
    'redelivery.rate.per.sec': '50',
    'lookup.batch.size': '5',
  };
}

async function rows(customer: string): Promise<Array<Record<string, unknown>>> {
  return (
    await db.query(
      `SELECT document_id AS id, title, rev::int AS rev, domain, erpstream_version::text AS v FROM ${schema}.${customer}_out ORDER BY 1`,
    )
  ).rows;
}

async function send(ids: number[]): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await eventually(
      () =>
        producer
          .send({
            topic: input,
            acks: -1,
            messages: ids.map((id) => ({
              key: JSON.stringify({ document_id: id }),
              value: JSON.stringify({ op: 'u' }),
              headers: { 'erpstream.version': String(100 + id) },
            })),
          })
          .then(() => {}),
      30_000,
    );
  } finally {
    await producer.disconnect();
  }
}

/** The first worker runs with REST basic auth: the audit log records the authenticated user. */
const AUTH = {
  'rest.auth.type': 'basic',
  'rest.auth.basic.username': 'ops-admin',
  'rest.auth.basic.password': 's3cret-pw',
};
const authHeader = { authorization: `Basic ${Buffer.from('ops-admin:s3cret-pw').toString('base64')}` };
const withCredentials = (url: string) => url.replace('http://', 'http://ops-admin:s3cret-pw@');

async function createConnector(url: string, customer: string): Promise<void> {
  const res = await fetch(`${url}/connectors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeader },
    body: JSON.stringify({ name: `${customer}-sink-${sfx}`, config: sinkConfig(customer) }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text, rev bigint NOT NULL)`);
  await db.query(
    `CREATE TABLE ${schema}.document_domain (document_id int, domain text, PRIMARY KEY (document_id, domain))`,
  );
  for (const c of ['acme', 'globex']) {
    await db.query(
      `CREATE TABLE ${schema}.${c}_out (document_id int PRIMARY KEY, title text, rev bigint, domain text, erpstream_version numeric(20,0))`,
    );
  }
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
  await admin.disconnect();
}, 60_000);

afterAll(async () => {
  for (const w of workers) await w.stop().catch(() => {});
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('erpstream integrations replay (standalone worker, PostgreSQL, Kafka)', () => {
  it("restores one customer's truncated table without touching the other's; the audit entry survives the worker", async () => {
    const n = 30;
    for (let id = 1; id <= n; id++) {
      await db.query(`INSERT INTO ${schema}.document VALUES ($1, $2, $3)`, [id, `t${id}`, 100 + id]);
      // acme: 1–20, globex: 11–30.
      if (id <= 20) await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, 'acme')`, [id]);
      if (id > 10) await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, 'globex')`, [id]);
    }
    const { worker } = await startTestWorker('ops-replay', { ...workerConfig, ...AUTH });
    workers.push(worker);
    await createConnector(worker.url, 'acme');
    await createConnector(worker.url, 'globex');
    await send(Array.from({ length: n }, (_, i) => i + 1));
    await eventually(async () => expect(await rows('acme')).toHaveLength(20), 60_000);
    await eventually(async () => expect(await rows('globex')).toHaveLength(20), 60_000);
    const acmeBefore = await rows('acme');
    const globexBefore = await rows('globex');

    // The customer restored a backup older than everything we sent: its table is empty again.
    await db.query(`TRUNCATE ${schema}.acme_out`);
    const cli = await runIntegrationsCli([
      'integrations',
      'replay',
      'acme',
      '--since',
      '1h',
      '--connect-url',
      withCredentials(worker.url),
      '-o',
      'json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const op = JSON.parse(cli.stdout) as Record<string, unknown>;
    expect(op).toMatchObject({
      kind: 'replay',
      customer: 'acme',
      connector: `acme-sink-${sfx}`,
      result: 'succeeded',
      counts: { total: 20, pending: 0, delivered: 20, failed: 0 },
    });
    // Who: the authenticated REST user, with the user@host the CLI claims beside it.
    expect(String(op.who)).toMatch(/^ops-admin \(.+@.+\)$/);
    expect(await rows('acme')).toEqual(acmeBefore);
    // Row by row, the other customer's table is as it was (its versions, titles, and no extra row).
    expect(await rows('globex')).toEqual(globexBefore);

    // A replay of a customer with no connector is refused in Connect's error shape.
    const missing = await fetch(`${worker.url}/erpstream/v1/integrations/nobody/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeader },
      body: JSON.stringify({ since: '1h' }),
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error_code: 404 });
    const bad = await fetch(`${worker.url}/erpstream/v1/integrations/acme/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeader },
      body: JSON.stringify({ since: 'yesterday-ish' }),
    });
    expect(bad.status).toBe(400);

    // The status view: `integrations list` shows each customer's last operation.
    // Without credentials, nothing: the operations API is behind the same auth as Connect's.
    const anonymous = await fetch(`${worker.url}/erpstream/v1/operations`);
    expect(anonymous.status).toBe(401);
    const listed = await runIntegrationsCli([
      'integrations',
      'list',
      '--connect-url',
      withCredentials(worker.url),
      '-o',
      'json',
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    const integrations = JSON.parse(listed.stdout) as Array<{ integration: string; lastOperation?: { id: string } }>;
    expect(integrations.find((i) => i.integration === 'acme')?.lastOperation?.id).toBe(op.id);
    expect(integrations.find((i) => i.integration === 'globex')?.lastOperation).toBeUndefined();
    const table = await runIntegrationsCli(['integrations', 'list', '--connect-url', withCredentials(worker.url)]);
    expect(table.stdout).toMatch(/replay succeeded/);

    // Another worker on the same cluster (the operations topic), after this one stopped, shows the same entry.
    await worker.stop();
    workers.length = 0;
    const { worker: second } = await startTestWorker('ops-replay-2', workerConfig);
    workers.push(second);
    const res = await fetch(`${second.url}/erpstream/v1/operations?customer=acme&kind=replay`);
    expect(res.status).toBe(200);
    const { operations } = (await res.json()) as { operations: Array<Record<string, unknown>> };
    expect(operations).toHaveLength(1);
    expect(operations[0]).toMatchObject({ id: op.id, result: 'succeeded', counts: { delivered: 20 }, scope: {} });
    expect((operations[0]!.scope as Record<string, unknown>).since).toMatch(/^\d{4}-/);
    const list = await runIntegrationsCli(['integrations', 'operations', 'acme', '--connect-url', second.url]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(String(op.id));
    expect(list.stdout).toContain('replay');
  }, 180_000);

  it('a Kafka-destination sink with tasks.max=2 refuses a replay: 400 with the code, nothing queued, not retried', async () => {
    const { worker } = await startTestWorker('ops-replay-3', workerConfig);
    workers.push(worker);
    const name = `initech-sink-${sfx}`;
    const config = {
      ...sinkConfig('initech'),
      'tasks.max': '2',
      'destination.type': 'kafka',
      'destination.topic': `it-ops-replay-initech-${sfx}`,
    };
    const created = await fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, config }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const res = await fetch(`${worker.url}/erpstream/v1/integrations/initech/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ since: '1h' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error_code: number; message: string };
    expect(body).toMatchObject({ error_code: 400 });
    expect(body.message).toContain('LOOKUP_SINK_REDELIVERY_UNSAFE');
    expect(body.message).toContain('tasks.max=2');
    // The CLI fails at once (a 400 is final; a 409 would have been retried for 30 s) and says why.
    const started = Date.now();
    const cli = await runIntegrationsCli([
      'integrations',
      'replay',
      'initech',
      '--since',
      '1h',
      '--connect-url',
      worker.url,
    ]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('LOOKUP_SINK_REDELIVERY_UNSAFE');
    expect(Date.now() - started).toBeLessThan(10_000);
    // The first test's sinks created the queue table; the refused replay put nothing in it.
    const table = await db.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${schema}.redelivery`]);
    if (table.rows[0].present) {
      const queued = await db.query(`SELECT COUNT(*)::int AS n FROM ${schema}.redelivery WHERE connector = $1`, [name]);
      expect(queued.rows[0].n).toBe(0);
    }
    const ops = await fetch(`${worker.url}/erpstream/v1/operations?customer=initech`);
    const { operations } = (await ops.json()) as { operations: Array<Record<string, unknown>> };
    expect(operations.length).toBeGreaterThan(0);
    for (const o of operations) expect(o).toMatchObject({ kind: 'replay', result: 'failed' });
  }, 120_000);
});
