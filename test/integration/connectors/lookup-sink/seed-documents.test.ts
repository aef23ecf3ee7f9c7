import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { createKafka } from '../../../../runtime/kafka/index.js';
import { KafkaPluginAccess } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Reported, sinkRecord, testContext } from './harness.js';

// The seeds' problem: a document changes before it is registered to a customer domain. The sink parks it,
// and once registered the latest state reaches that customer's topic, once per version, nothing lost.
const sfx = uniqueSuffix();
const schema = `ls_seed_${sfx}`;
const acme = `acme_${sfx}`;
const globex = `globex_${sfx}`;
const topic = `erp.${schema}.document`;
let db: pg.Client;
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'lookup-sink-it', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-it' });

function props(): Record<string, string> {
  return {
    'connector.class': 'LookupSink',
    topics: topic,
    'lookup.connection.url': requireEnv('PG_URL'),
    'lookup.query':
      `SELECT d.document_id, d.title, d.amount, d.rev, dd.domain FROM ${schema}.document d ` +
      `LEFT JOIN ${schema}.document_domain dd ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)`,
    'lookup.key.columns': 'document_id',
    'entity.name': 'document',
    dependencies: 'registered',
    'dependencies.registered.type': 'field',
    'dependencies.registered.field': 'domain',
    'destination.type': 'kafka',
    'destination.name': `seed_${sfx}`,
    'destination.topic': '${domain}.documents',
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '3600000',
    // Re-check parked records as soon as asked (the test drives the checks itself).
    'park.retry.initial.ms': '1',
    'park.retry.max.ms': '1',
  };
}

async function topicContents(t: string): Promise<Array<{ key: string; value: Record<string, unknown> | null }>> {
  const out: Array<{ key: string; value: Record<string, unknown> | null }> = [];
  await access.readAll(t, (key, value) => {
    out.push({
      key: key!.toString(),
      value: value === null ? null : (JSON.parse(value.toString()) as Record<string, unknown>),
    });
  });
  return out;
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(
    `CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL, amount numeric(14,2), rev bigint NOT NULL)`,
  );
  await db.query(`CREATE TABLE ${schema}.document_domain (document_id int PRIMARY KEY, domain text NOT NULL)`);
});

afterAll(async () => {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('LookupSink seed scenario: documents before their domain registration (PostgreSQL → Kafka)', () => {
  it('parks unregistered documents, then delivers the latest state to the customer topic once per version', async () => {
    const dlq: Reported[] = [];
    const task = new LookupSinkTask();
    task.initialize(testContext({ kafka: access, dlq }));
    await task.start(props());
    let offset = 0n;
    const change = async (id: number, title: string, amount: string) => {
      const rev = BigInt(Date.now()) * 1000n + offset;
      await db.query(
        `INSERT INTO ${schema}.document VALUES ($1, $2, $3, $4)
         ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title, amount = EXCLUDED.amount, rev = EXCLUDED.rev`,
        [id, title, amount, rev.toString()],
      );
      return sinkRecord({ topic, offset: offset++, key: { document_id: id }, version: rev });
    };
    try {
      // Document 1 is created and changed twice before anyone registers it; document 2 is registered at once.
      const d1v1 = await change(1, 'draft', '10.00');
      await db.query(`INSERT INTO ${schema}.document_domain VALUES (2, $1)`, [globex]);
      const d2v1 = await change(2, 'other', '99999999999.99');
      await task.put([d1v1, d2v1]);
      const d1v2 = await change(1, 'final', '12345678901.23');
      await task.put([d1v2]);
      // put() returns while a Kafka batch is still being sent; flush() waits for it.
      await task.flush();
      expect(task.metrics()).toMatchObject({ parked: 1, delivered: 1, superseded: 1 });

      // Offsets of parked records are safe to commit: they are in the park table.
      const tp = { topic, partition: 0 };
      const committed = await task.preCommit(new Map([[tp, offset]]));
      expect(committed.get(tp)).toBe(offset);

      await db.query(`INSERT INTO ${schema}.document_domain VALUES (1, $1)`, [acme]);
      await new Promise((r) => setTimeout(r, 5));
      await task.checkParked();
      expect(task.metrics()).toMatchObject({ parked: 0, released: 1, delivered: 2 });

      // A replay of the old versions changes nothing; a new change goes through.
      await task.put([d1v1, d1v2]);
      const d1v3 = await change(1, 'final-2', '1.00');
      await task.put([d1v3]);
      await db.query(`DELETE FROM ${schema}.document WHERE document_id = 2`);
      await task.put([
        sinkRecord({ topic, offset: offset++, key: { document_id: 2 }, version: BigInt(Date.now()) * 1000n + offset }),
      ]);

      const acmeDocs = await topicContents(`${acme}.documents`);
      expect(acmeDocs.map((m) => m.value?.title)).toEqual(['final', 'final-2']);
      // Exact decimals and int64 survive (no float in between).
      expect(acmeDocs[0]!.value).toMatchObject({ document_id: 1, amount: '12345678901.23', domain: acme });
      expect(acmeDocs.map((m) => BigInt(m.value!.rev as number))).toEqual([
        BigInt(d1v2.headers[0]!.value as string),
        BigInt(d1v3.headers[0]!.value as string),
      ]);
      const globexDocs = await topicContents(`${globex}.documents`);
      expect(globexDocs).toEqual([
        { key: '2', value: expect.objectContaining({ title: 'other', amount: '99999999999.99' }) },
        { key: '2', value: null },
      ]);
      // The replayed v1 is superseded by v2 in the same batch, v2 is stale: the ledger already has it.
      await task.flush();
      expect(task.metrics()).toMatchObject({ staleDropped: 1, superseded: 2, deleted: 1, parked: 0 });
      expect(dlq).toEqual([]);
    } finally {
      await task.stop();
    }
  });

  it('with a transactional id writes each batch in one transaction, and parks reads older than the event', async () => {
    const task = new LookupSinkTask();
    task.initialize(testContext({ kafka: access, dlq: [] }));
    await task.start({
      ...props(),
      'destination.name': `seed_tx_${sfx}`,
      'destination.topic': '${domain}.tx-documents',
      'destination.kafka.transactional.id': `seed-tx-${sfx}`,
      'lookup.version.column': 'rev',
    });
    try {
      await db.query(`INSERT INTO ${schema}.document VALUES (20, 'a', 1, 100), (21, 'b', 2, 100)`);
      await db.query(`INSERT INTO ${schema}.document_domain VALUES (20, $1), (21, $1)`, [acme]);
      // Document 21's event says version 105, but the read returns version 100: the read is behind, so it waits.
      await task.put([
        sinkRecord({ topic, offset: 100n, key: 20, version: 100n }),
        sinkRecord({ topic, offset: 101n, key: 21, version: 105n }),
      ]);
      await task.flush();
      expect(task.metrics()).toMatchObject({ delivered: 1, parked: 1 });
      await db.query(`UPDATE ${schema}.document SET title = 'b2', rev = 105 WHERE document_id = 21`);
      await new Promise((r) => setTimeout(r, 5));
      await task.checkParked();
      expect(task.metrics()).toMatchObject({ delivered: 2, parked: 0, released: 1 });
      const docs = await topicContents(`${acme}.tx-documents`);
      expect(docs.map((d) => [d.key, d.value?.title, d.value?.rev])).toEqual([
        ['20', 'a', 100],
        ['21', 'b2', 105],
      ]);
    } finally {
      await task.stop();
    }
  });
});
