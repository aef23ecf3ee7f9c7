import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { RetriableError, type SinkRecord } from '../../../../runtime/api/index.js';
import { TransformError } from '../../../../runtime/transforms/transform-error.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Reported, shapingContext, sinkRecord, testContext } from './harness.js';

// A delivery chain that re-keys what customers receive (a phone keyed by its person, so a person's records share a
// partition): deletes must reach the key the customer holds, not the phone's own id. That key outlives the task.
const sfx = uniqueSuffix();
const schema = `ls_shape_kafka_${sfx}`;
const pgUrl = requireEnv('PG_URL');
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'lookup-sink-it', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-it' });
let db: pg.Client;

const context = (dlq: Reported[]) => shapingContext({ kafka: access, dlq });

function props(topic: string, rekey: boolean): Record<string, string> {
  return {
    'lookup.connection.url': pgUrl,
    'lookup.table': `${schema}.phone`,
    'lookup.key.columns': 'phone_id',
    'entity.name': 'phone',
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '3600000',
    'destination.type': 'kafka',
    'destination.name': topic.replace(/\W/g, '_'),
    'destination.topic': topic,
    ...(rekey
      ? {
          'delivery.transforms': 'byPerson,personId',
          'delivery.transforms.byPerson.type': 'org.apache.kafka.connect.transforms.ValueToKey',
          'delivery.transforms.byPerson.fields': 'person_id',
          'delivery.transforms.personId.type': 'org.apache.kafka.connect.transforms.ExtractField$Key',
          'delivery.transforms.personId.field': 'person_id',
        }
      : {}),
  };
}

async function topicContents(topic: string): Promise<Array<{ key: string | null; value: string | null }>> {
  const out: Array<{ key: string | null; value: string | null }> = [];
  await access.readAll(topic, (key, value) => {
    out.push({ key: key === null ? null : key.toString(), value: value === null ? null : value.toString() });
  });
  return out;
}

async function withTask(
  dlq: Reported[],
  topic: string,
  rekey: boolean,
  use: (task: LookupSinkTask) => Promise<void>,
): Promise<void> {
  const task = new LookupSinkTask();
  task.initialize(context(dlq));
  await task.start(props(topic, rekey));
  try {
    await use(task);
    await task.flush();
  } finally {
    await task.stop();
  }
}

/** Delivers phone 1 (version 1) with one task, deletes it at the origin, and sends version 2 through a new task. */
async function deliverThenDelete(topic: string, rekey: boolean): Promise<void> {
  await db.query(`INSERT INTO ${schema}.phone VALUES (1, 100, '555-0100') ON CONFLICT (phone_id) DO NOTHING`);
  const dlq: Reported[] = [];
  await withTask(dlq, topic, rekey, async (task) => {
    await task.put([sinkRecord({ topic: 'phones', offset: 0n, key: 1, version: 1n })]);
  });
  await db.query(`DELETE FROM ${schema}.phone WHERE phone_id = 1`);
  // A new task: the delivered key comes from the durable ledger, not from the first task's memory.
  await withTask(dlq, topic, rekey, async (task) => {
    await task.put([sinkRecord({ topic: 'phones', offset: 1n, key: 1, version: 2n })]);
    await task.flush();
    expect(task.metrics()).toMatchObject({ deleted: 1 });
  });
  expect(dlq).toEqual([]);
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.phone (phone_id int PRIMARY KEY, person_id int NOT NULL, num text)`);
});

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('LookupSink delivery.transforms with the kafka destination', () => {
  it('deletes under the key the delivery chain chose (the person), also from a restarted task', async () => {
    const topic = `ls.shape.phones.${sfx}`;
    await deliverThenDelete(topic, true);
    const got = await topicContents(topic);
    expect(got).toEqual([
      { key: '100', value: '{"phone_id":1,"person_id":100,"num":"555-0100"}' },
      // Keyed by the phone id (1), the tombstone would delete nothing, or worse, person 1's record.
      { key: '100', value: null },
    ]);
  });

  it('without a delivery chain, deletes under the entity id as before', async () => {
    const topic = `ls.plain.phones.${sfx}`;
    await deliverThenDelete(topic, false);
    expect(await topicContents(topic)).toEqual([
      { key: '1', value: '{"phone_id":1,"person_id":100,"num":"555-0100"}' },
      { key: '1', value: null },
    ]);
  });

  it('hands a batch back (RetriableError) instead of dead-lettering it when the chain fails transiently', async () => {
    const topic = `ls.flaky.phones.${sfx}`;
    await db.query(`INSERT INTO ${schema}.phone VALUES (2, 200, '555-0200')`);
    const dlq: Reported[] = [];
    let reloading = true;
    const task = new LookupSinkTask();
    task.initialize({
      ...testContext({ kafka: access, dlq }),
      // A chain whose code tables are being reloaded, as TranslateCodes reports it: retriable.
      transforms: () =>
        Promise.resolve({
          aliases: ['codes'],
          apply: (r: SinkRecord) => {
            if (reloading) {
              const cause = new RetriableError('code tables are being reloaded');
              throw new TransformError('codes', 'erpstream.transforms.TranslateCodes', cause);
            }
            return r;
          },
          close: () => Promise.resolve(),
        }),
    });
    await task.start({ ...props(topic, false), 'delivery.transforms': 'codes' });
    try {
      const record = sinkRecord({ topic: 'phones', offset: 0n, key: 2, version: 1n });
      const err = await task.put([record]).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(RetriableError);
      expect(err?.message).toMatch(/Transform 'codes' .* failed: code tables are being reloaded/);
      expect(dlq).toEqual([]);
      // The worker hands the same batch over again once the tables are back.
      reloading = false;
      await task.put([record]);
      await task.flush();
      expect(task.metrics()).toMatchObject({ delivered: 1 });
      expect(dlq).toEqual([]);
    } finally {
      await task.stop();
    }
    expect(await topicContents(topic)).toEqual([
      { key: '2', value: '{"phone_id":2,"person_id":200,"num":"555-0200"}' },
    ]);
  });

  it('adds the delivered-key column to a ledger created by an older version, keeping its entries', async () => {
    const table = `${schema}.old_ledger`;
    await db.query(
      `CREATE TABLE ${table} (destination varchar(191) NOT NULL, entity varchar(191) NOT NULL, ` +
        `entity_id varchar(300) NOT NULL, version numeric(20,0) NOT NULL, target varchar(512) NULL, ` +
        `deleted boolean NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (destination, entity, entity_id))`,
    );
    await db.query(`INSERT INTO ${table} VALUES ('old', 'phone', '7', 5, 'old.topic', false, 0)`);
    const task = new LookupSinkTask();
    task.initialize(context([]));
    await task.start({ ...props(`ls.old.phones.${sfx}`, true), 'ledger.table': table });
    await task.stop();
    const cols = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'old_ledger'`,
      [schema],
    );
    expect(cols.rows.map((r: { column_name: string }) => r.column_name)).toContain('delivered_key');
    const kept = await db.query(`SELECT entity_id, version::int AS v, delivered_key FROM ${table}`);
    expect(kept.rows).toEqual([{ entity_id: '7', v: 5, delivered_key: null }]);
  });
});
