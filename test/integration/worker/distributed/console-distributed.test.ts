/* eslint-disable @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON answers */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type WorkerProcess, clusterProps, startWorker, stopWorker, waitFor, writeProps } from './cluster.js';

// Distributed mode: any worker answers for the cluster. Task counters live in the worker running each task, so
// the answering worker asks the others (with the REST credentials every worker shares); databases are shared.
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `console_dist_${sfx}`;
const input = `it-console-dist-in-${sfx}`;
const customer = `dist-${sfx}`;
const sink = `${customer}-sink`;
const AUTH = `Basic ${Buffer.from(`ops:pw-${sfx}`).toString('base64')}`;
const N = 40;
let workers: WorkerProcess[] = [];
let db: pg.Client;

async function call(url: string, method: string, p: string, body?: unknown) {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as any };
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, rev bigint)`);
  await db.query(`INSERT INTO ${schema}.document SELECT g, 1 FROM generate_series(1, ${N}) g`);
  const kafka = createKafka({ brokers, clientId: 'it-console-dist', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
  await admin.disconnect();
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send({
    topic: input,
    acks: -1,
    messages: Array.from({ length: N }, (_, i) => ({
      key: String(i + 1),
      value: JSON.stringify({ op: 'u' }),
      headers: { 'erpstream.version': '1' },
    })),
  });
  await producer.disconnect();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-console-dist-'));
  const props = await writeProps(
    path.join(dir, 'worker.properties'),
    clusterProps(brokers, `console-${sfx}`, {
      'rest.auth.type': 'basic',
      'rest.auth.basic.username': 'ops',
      'rest.auth.basic.password': `pw-${sfx}`,
      'operations.storage.topic': `it-console-dist-ops-${sfx}`,
    }),
  );
  workers = await Promise.all([startWorker(props), startWorker(props)]);
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w)));
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
}, 60_000);

describe('/erpstream/v1 in distributed mode', () => {
  it('counts every task of a customer from any worker, the tasks running on two workers', async () => {
    const created = await waitFor(
      async () => {
        const r = await call(workers[0]!.url, 'POST', '/connectors', {
          name: sink,
          config: {
            'connector.class': 'LookupSink',
            'erpstream.integration': customer,
            'tasks.max': '2',
            topics: input,
            'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
            'lookup.connection.url': pgUrl,
            'lookup.table': `${schema}.document`,
            'lookup.key.columns': 'document_id',
            'entity.name': 'document',
            'destination.type': 'kafka',
            'destination.name': `${customer}_docs`,
            'destination.topic': `${customer}.documents`,
            'ledger.table': `${schema}.ledger`,
            'park.table': `${schema}.parked`,
          },
        });
        return r.status === 409 ? null : r;
      },
      60_000,
      'the group to accept the connector',
    );
    expect(created.status).toBe(201);
    const workerIds = new Set(workers.map((w) => w.workerId));
    await waitFor(
      async () => {
        const s = (await call(workers[0]!.url, 'GET', `/connectors/${sink}/status`)).body;
        const ids = new Set((s.tasks ?? []).filter((t: any) => t.state === 'RUNNING').map((t: any) => t.worker_id));
        return s.tasks?.length === 2 && ids.size === 2 && [...ids].every((id) => workerIds.has(id as string));
      },
      60_000,
      'two RUNNING tasks on two workers',
    );
    // Each worker sees only its own task's progress in the status; /customers adds both, from either worker.
    for (const w of workers) {
      const counts = await waitFor(
        async () => {
          const r = await call(w.url, 'GET', `/erpstream/v1/customers?customer=${customer}`);
          expect(r.status).toBe(200);
          const c = r.body[0];
          return c?.delivered === N ? c : null;
        },
        60_000,
        `${w.url} to count all ${N} deliveries`,
      );
      expect(counts).toMatchObject({ customer, connectors: [sink], tasks: 2, tasksUnreported: 0, parked: 0 });
    }
    // Lineage from either worker: the ledger is shared.
    for (const w of workers) {
      const l = await call(w.url, 'GET', `/erpstream/v1/lineage?key=7&customer=${customer}`);
      expect(l.status).toBe(200);
      expect(l.body.deliveries).toEqual([
        expect.objectContaining({ customer, version: '1', target: `${customer}.documents` }),
      ]);
    }
    // A redrive on a worker that runs none of the customer's tasks, or any: audited cluster-wide either way.
    const none = await call(workers[1]!.url, 'POST', '/erpstream/v1/dlq/redrive', { connector: sink, filter: {} });
    expect(none.status).toBe(400); // this connector has no DLQ
    expect(none.body.message).toMatch(/no dead-letter queue/);
  }, 180_000);
});
