import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, type SourceRecord, type Struct } from '../../../../runtime/api/index.js';
import { AvroConverter } from '../../../../runtime/converters/index.js';
import {
  createConsumer,
  createKafka,
  createProducer,
  ensureTopics,
  type Kafka,
} from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DbFixture, TaskHarness, events, pgFixture, sourceProps } from './harness.js';

/**
 * PostgreSQL → ErpSource task → Avro (real registry) → Kafka, committing offsets only after Kafka acknowledged
 * the batch, then reading the topic back. The worker will own this loop; here the test plays its part.
 */
describe('ErpSource to Kafka with Avro (real broker and registry)', () => {
  let db: DbFixture;
  let kafka: Kafka;
  const prefix = `erp_${uniqueSuffix()}`;

  beforeAll(async () => {
    db = await pgFixture();
    kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'erp-source-it', logLevel: 'nothing' });
  });
  const topics: string[] = [];
  afterAll(async () => {
    if (topics.length > 0) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.disconnect();
    }
    await db?.close();
  });

  it('delivers snapshot and streamed events keyed by primary key, exact decimals, tombstones, headers', async () => {
    await db.createCaptured('invoice', 'id bigint PRIMARY KEY, amount numeric(19,4) NOT NULL, issued timestamp(6)');
    await db.exec(
      `INSERT INTO "${db.schema}".invoice VALUES (9007199254740993, 12345678901234.5678, '2024-02-29 23:59:59.123456')`,
    );
    const topic = `${prefix}.${db.schema}.invoice`;
    topics.push(topic);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
    await admin.disconnect();

    const registry = { 'schema.registry.url': requireEnv('SCHEMA_REGISTRY_URL') };
    const keyConv = new AvroConverter();
    keyConv.configure(registry, true);
    const valueConv = new AvroConverter();
    valueConv.configure(registry, false);
    const producer = createProducer(kafka);
    await producer.connect();
    const h = new TaskHarness(
      sourceProps(db, { 'topic.prefix': prefix, 'table.include.list': `${db.schema}\\.invoice` }),
    );
    await h.start();
    const send = async (batch: SourceRecord[]) => {
      if (batch.length === 0) return;
      const messages = await Promise.all(
        batch.map(async (r) => ({
          key: await keyConv.fromConnectData(r.topic, r.headers, r.keySchema, r.key),
          value: await valueConv.fromConnectData(r.topic, r.headers, r.valueSchema, r.value),
          headers: Object.fromEntries(r.headers.map((x) => [x.key, String(x.value)])),
        })),
      );
      await producer.send({ topic, acks: -1, messages });
      h.store.commit(batch); // commit after ack
    };
    try {
      let sent = 0;
      while (sent < 1) {
        const b = await h.poll();
        await send(b);
        sent += events(b).length;
      }
      await db.exec(`UPDATE "${db.schema}".invoice SET amount = 0.0001 WHERE id = 9007199254740993`);
      await db.exec(`DELETE FROM "${db.schema}".invoice WHERE id = 9007199254740993`);
      let streamed = 0;
      const deadline = Date.now() + 15_000;
      while (streamed < 2 && Date.now() < deadline) {
        const b = await h.poll();
        await send(b);
        streamed += b.length;
      }
    } finally {
      await h.stop();
      await producer.disconnect();
    }

    const consumer = createConsumer(kafka, { groupId: `erp-it-${uniqueSuffix()}` });
    const got: Array<{ key: unknown; value: unknown; headers: Record<string, string> }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        got.push({
          key: (await keyConv.toConnectData(topic, [], message.key)).value,
          value: (await valueConv.toConnectData(topic, [], message.value)).value,
          headers,
        });
      },
    });
    const deadline = Date.now() + 20_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();

    expect(got).toHaveLength(3);
    const [snap, del, tomb] = got as [(typeof got)[0], (typeof got)[0], (typeof got)[0]];
    expect((snap.key as Struct).get('id')).toBe(9007199254740993n);
    const snapAfter = (snap.value as Struct).get('after') as Struct;
    expect((snapAfter.get('amount') as Decimal).equals(Decimal.parse('12345678901234.5678'))).toBe(true);
    expect(snapAfter.get('issued')).toBe(1709251199123456n);
    expect((snap.value as Struct).get('op')).toBe('r');
    // update then delete in one batch coalesce into the delete (row gone), then the tombstone
    expect((del.value as Struct).get('op')).toBe('d');
    expect(del.headers['erpstream.version']).toMatch(/^\d+$/);
    expect(del.headers['erpstream.event.id']).toContain(`${db.schema}.invoice:`);
    expect(tomb.value).toBeNull();
  });
});
