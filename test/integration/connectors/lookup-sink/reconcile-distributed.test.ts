import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileReport } from '../../../../runtime/api/reconcile.js';
import { createKafka, createProducer, ensureTopics } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import {
  type WorkerProcess,
  clusterProps,
  killWorker,
  rest,
  restWhenJoined,
  startWorker,
  stopWorker,
  writeProps,
} from '../../worker/distributed/cluster.js';
import { eventually } from './harness.js';

// Distributed mode: any worker answers a reconcile with the same report (what it compares lives in databases and
// topics, not in a worker), a repair asked of one worker is done by the task wherever it runs, and the surviving
// worker still answers after the other is SIGKILLed.
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `rc_dist_${sfx}`;
const input = `it-rc-dist-in-${sfx}`;
const customer = `rcd_${sfx}`;
const kafka = createKafka({ brokers, clientId: 'it-rc-dist', logLevel: 'nothing' });
let db: pg.Client;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text, rev bigint NOT NULL)`);
  await db.query(
    `CREATE TABLE ${schema}.out (document_id int PRIMARY KEY, title text, rev bigint, erpstream_version numeric(20,0))`,
  );
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
  await admin.disconnect();
}, 60_000);

afterAll(async () => {
  for (const w of workers) await stopWorker(w).catch(() => {});
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('reconcile in distributed mode', () => {
  it('every worker gives the same report; a repair asked of one fixes it; the survivor answers after a SIGKILL', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'it-rc-dist-'));
    const props = await writeProps(
      path.join(dir, 'worker.properties'),
      clusterProps(brokers, sfx, {
        'operations.storage.topic': `it-rc-dist-${sfx}-operations`,
        'operations.storage.replication.factor': '1',
      }),
    );
    const a = await startWorker(props);
    workers.push(a);
    const b = await startWorker(props);
    workers.push(b);
    for (let id = 1; id <= 8; id++) {
      await db.query(`INSERT INTO ${schema}.document VALUES ($1, $2, $3)`, [id, `t${id}`, 100 + id]);
    }
    // The second worker's join may still be rebalancing the group: Connect answers 409 then, and the write is sent again.
    const created = await restWhenJoined(
      a.url,
      'POST',
      '/connectors',
      {
        name: `${customer}-sink`,
        config: {
          'connector.class': 'LookupSink',
          topics: input,
          'tasks.max': '2',
          'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'key.converter.schemas.enable': 'false',
          'erpstream.integration': customer,
          'lookup.connection.url': pgUrl,
          'lookup.table': `${schema}.document`,
          'lookup.key.columns': 'document_id',
          'lookup.version.column': 'rev',
          'entity.name': 'document',
          'destination.type': 'jdbc',
          'destination.name': customer,
          'destination.table': `${schema}.out`,
          'ledger.table': `${schema}.ledger`,
          'park.table': `${schema}.parked`,
          'redelivery.table': `${schema}.redelivery`,
          'redelivery.poll.interval.ms': '200',
        },
      },
      { timeoutMs: 60_000, what: 'the connector to be created' },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: input,
      acks: -1,
      messages: [1, 2, 3, 4, 5, 6, 7, 8].map((id) => ({
        key: JSON.stringify({ document_id: id }),
        value: JSON.stringify({ op: 'u' }),
        headers: { 'erpstream.version': String(100 + id) },
      })),
    });
    await producer.disconnect();
    const reconcileOn = async (w: WorkerProcess, body: Record<string, unknown> = {}) => {
      const r = await rest<ReconcileReport & { repair?: { totals?: Record<string, number> } }>(
        w.url,
        'POST',
        `/erpstream/v1/integrations/${customer}/reconcile`,
        body,
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    await eventually(async () => expect((await reconcileOn(a)).inSync).toBe(true), 90_000);

    await db.query(`DELETE FROM ${schema}.out WHERE document_id = 3`);
    await db.query(`UPDATE ${schema}.document SET rev = rev + 1000 WHERE document_id = 7`);
    const [fromA, fromB] = [await reconcileOn(a), await reconcileOn(b)];
    for (const r of [fromA, fromB]) {
      expect(r.counts).toEqual({ missing: 1, stale: 1, extra: 0, drift: 1 });
      expect(r.samples.missing.map((d) => d.entityId)).toEqual(['3']);
      expect(r.samples.stale.map((d) => d.entityId)).toEqual(['7']);
    }

    // Repaired through b, waiting for it; the tasks may run on either worker.
    const repaired = await reconcileOn(b, { repair: true, wait: true });
    expect(repaired.repair?.totals).toMatchObject({ pending: 0, failed: 0 });
    expect((await reconcileOn(a)).inSync).toBe(true);
    const row7 = await db.query(`SELECT erpstream_version::text AS v FROM ${schema}.out WHERE document_id = 7`);
    expect(row7.rows).toEqual([{ v: '1107' }]);

    // b dies; a still answers, with the same (in sync) report.
    await killWorker(b);
    workers.splice(workers.indexOf(b), 1);
    expect((await reconcileOn(a)).inSync).toBe(true);
  }, 240_000);
});
