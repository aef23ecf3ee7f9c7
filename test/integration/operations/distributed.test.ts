import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { eventually } from '../connectors/lookup-sink/harness.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import {
  type WorkerProcess,
  clusterProps,
  killWorker,
  rest,
  restWhenJoined,
  startWorker,
  stopWorker,
  waitFor,
  writeProps,
} from '../worker/distributed/cluster.js';

// Distributed mode: a redelivery asked of one worker is done by the task wherever it runs, and its audit entry is
// seen by every worker, also after the worker that ran the operation was SIGKILLed.
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `ops_dist_${sfx}`;
const input = `it-ops-dist-in-${sfx}`;
const kafka = createKafka({ brokers, clientId: 'it-ops-dist', logLevel: 'nothing' });
let db: pg.Client;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text, rev bigint NOT NULL)`);
  await db.query(
    `CREATE TABLE ${schema}.acme_out (document_id int PRIMARY KEY, title text, rev bigint, erpstream_version numeric(20,0))`,
  );
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
  await admin.disconnect();
}, 60_000);

afterAll(async () => {
  for (const w of workers) await stopWorker(w).catch(() => {});
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('operations in distributed mode', () => {
  it('any worker starts a redelivery and every worker shows its audit entry, after a worker is killed too', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'it-ops-dist-'));
    const props = await writeProps(
      path.join(dir, 'worker.properties'),
      clusterProps(brokers, sfx, {
        'operations.storage.topic': `it-dist-${sfx}-operations`,
        'operations.storage.replication.factor': '1',
      }),
    );
    const a = await startWorker(props);
    workers.push(a);
    const b = await startWorker(props);
    workers.push(b);
    for (let id = 1; id <= 6; id++)
      await db.query(`INSERT INTO ${schema}.document VALUES ($1, $2, $3)`, [id, `t${id}`, id]);
    // Right after the second worker joined, a write may meet the rebalance (409): sent again until the group settled.
    const created = await restWhenJoined(
      a.url,
      'POST',
      '/connectors',
      {
        name: `acme-sink-${sfx}`,
        config: {
          'connector.class': 'LookupSink',
          topics: input,
          'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'key.converter.schemas.enable': 'false',
          'erpstream.integration': 'acme',
          'lookup.connection.url': pgUrl,
          'lookup.table': `${schema}.document`,
          'lookup.key.columns': 'document_id',
          'lookup.version.column': 'rev',
          'entity.name': 'document',
          'destination.type': 'jdbc',
          'destination.name': `acme_${sfx}`,
          'destination.table': `${schema}.acme_out`,
          'ledger.table': `${schema}.ledger`,
          'park.table': `${schema}.parked`,
          'redelivery.table': `${schema}.redelivery`,
          'redelivery.poll.interval.ms': '200',
        },
      },
      { timeoutMs: 60_000, what: 'the connector created' },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: input,
      acks: -1,
      messages: [1, 2, 3, 4, 5, 6].map((id) => ({
        key: JSON.stringify({ document_id: id }),
        value: JSON.stringify({ op: 'u' }),
        headers: { 'erpstream.version': String(id) },
      })),
    });
    await producer.disconnect();
    const count = async () => Number((await db.query(`SELECT count(*) AS n FROM ${schema}.acme_out`)).rows[0].n);
    await eventually(async () => expect(await count()).toBe(6), 90_000);

    await db.query(`DELETE FROM ${schema}.acme_out WHERE document_id IN (2, 4)`);
    // Asked of b (the task may run on either worker): it queues, the task does it, b follows it to the end.
    const started = await rest<{ operationId: string; totals: Record<string, number> }>(
      b.url,
      'POST',
      '/erpstream/v1/integrations/acme/redeliver',
      { connector: `acme-sink-${sfx}`, deliver: ['2', '4'], wait: true },
    );
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.totals).toMatchObject({ delivered: 2, pending: 0 });
    expect(await count()).toBe(6);

    const seen = await rest<{ operations: Array<Record<string, unknown>> }>(
      a.url,
      'GET',
      '/erpstream/v1/operations?customer=acme',
    );
    expect(seen.body.operations.map((o) => o.id)).toEqual([started.body.operationId]);
    expect(seen.body.operations[0]).toMatchObject({ kind: 'repair', result: 'succeeded', worker: b.workerId });

    // b dies; a still answers with the same history.
    await killWorker(b);
    workers.splice(workers.indexOf(b), 1);
    const after = await waitFor(
      async () =>
        (
          await rest<{ operations: Array<Record<string, unknown>> }>(
            a.url,
            'GET',
            `/erpstream/v1/operations/${started.body.operationId}`,
          )
        ).body,
      30_000,
      'the audit entry from the surviving worker',
    );
    expect(after).toMatchObject({ id: started.body.operationId, result: 'succeeded', counts: { delivered: 2 } });
  }, 240_000);
});
