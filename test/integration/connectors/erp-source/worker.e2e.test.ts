import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, type Struct } from '../../../../runtime/api/index.js';
import { AvroConverter } from '../../../../runtime/converters/index.js';
import { type Consumer, type Kafka, createConsumer, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DbFixture, pgFixture } from './harness.js';
import { type WorkerProcess, startWorkerProcess } from '../../../support/erpstream-cli.js';
import { killWorker, waitFor } from '../../../support/worker.js';

/**
 * The product path, end to end: a standalone worker *process* hosts the ErpSourceConnector on PostgreSQL,
 * converts with the AvroConverter against the real registry and writes to the real broker; the test reads the
 * topic back and decodes it. Then the worker is SIGKILLed mid-stream and restarted: nothing is lost, and the
 * only duplicates are replays of the same change (same event id, same version).
 */

type Worker = WorkerProcess;

function startWorker(args: string[]): Promise<Worker> {
  return startWorkerProcess([...args, '--standalone'], 60_000);
}

interface Got {
  key: Struct;
  value: Struct | null;
  headers: Record<string, string>;
}

describe('ErpSource in a standalone worker process → Avro → Kafka', () => {
  let db: DbFixture;
  let kafka: Kafka;
  let dir: string;
  let consumer: Consumer | null = null;
  const workers: Worker[] = [];
  const got: Got[] = [];
  const prefix = `erpw_${uniqueSuffix()}`;

  beforeAll(async () => {
    db = await pgFixture();
    kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'erp-worker-it', logLevel: 'nothing' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-erp-worker-'));
  });
  afterAll(async () => {
    for (const w of workers) await killWorker(w, 'SIGKILL').catch(() => {});
    await consumer?.disconnect().catch(() => {});
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [`${prefix}.${db.schema}.shipment`] }).catch(() => {});
    await admin.disconnect();
    await db?.close();
  });

  it('streams snapshot, inserts, updates and deletes with headers; a SIGKILL mid-stream loses nothing', async () => {
    const t = `"${db.schema}".shipment`;
    await db.createCaptured('shipment', 'id integer PRIMARY KEY, ref varchar(40) NOT NULL, amount numeric(12,2)');
    await db.exec(`INSERT INTO ${t} VALUES (1, 'existing', 10.50)`);
    const registry = requireEnv('SCHEMA_REGISTRY_URL');
    const workerProps = path.join(dir, 'worker.properties');
    await writeFile(
      workerProps,
      [
        `bootstrap.servers=${requireEnv('KAFKA_BROKERS')}`,
        'listeners=http://127.0.0.1:0',
        `offset.storage.file.filename=${path.join(dir, 'offsets.json')}`,
        'offset.flush.interval.ms=300',
        'key.converter=io.confluent.connect.avro.AvroConverter',
        `key.converter.schema.registry.url=${registry}`,
        'value.converter=io.confluent.connect.avro.AvroConverter',
        `value.converter.schema.registry.url=${registry}`,
      ].join('\n'),
    );
    const connectorProps = path.join(dir, 'erp.properties');
    await writeFile(
      connectorProps,
      [
        'name=erp-src',
        'connector.class=ErpSource',
        `connection.url=${db.url}`,
        `change.table=${db.schema}.change_log`,
        `topic.prefix=${prefix}`,
        `table.include.list=${db.schema}\\\\.shipment`,
        'poll.interval.ms=100',
        'max.batch.size=50',
      ].join('\n'),
    );
    const topic = `${prefix}.${db.schema}.shipment`;
    workers.push(await startWorker([workerProps, connectorProps]));

    // Read the topic as a consumer would (the worker creates it on its first write).
    await waitFor(
      async () => {
        const admin = kafka.admin();
        await admin.connect();
        const topics = await admin.listTopics();
        await admin.disconnect();
        return topics.includes(topic);
      },
      60_000,
      `topic ${topic}`,
    );
    const keyConv = new AvroConverter();
    keyConv.configure({ 'schema.registry.url': registry }, true);
    const valueConv = new AvroConverter();
    valueConv.configure({ 'schema.registry.url': registry }, false);
    consumer = createConsumer(kafka, { groupId: `erp-worker-it-${uniqueSuffix()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          key: (await keyConv.toConnectData(topic, [], message.key)).value as Struct,
          value: (await valueConv.toConnectData(topic, [], message.value)).value as Struct | null,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    await waitFor(() => got.length >= 1, 60_000, 'the snapshot event');

    await db.exec(`INSERT INTO ${t} VALUES (2, 'new', 1.25)`);
    await waitFor(() => got.length >= 2, 30_000, 'the insert event');
    await db.exec(`UPDATE ${t} SET ref = 'changed', amount = 99999999.99 WHERE id = 2`);
    await waitFor(() => got.length >= 3, 30_000, 'the update event');
    await db.exec(`DELETE FROM ${t} WHERE id = 1`);
    await waitFor(() => got.length >= 5, 30_000, 'the delete event and its tombstone');

    const ops = got.slice(0, 5).map((g) => (g.value ? String(g.value.get('op')) : 'tombstone'));
    expect(ops).toEqual(['r', 'c', 'u', 'd', 'tombstone']);
    const update = got[2]!;
    expect(update.key.get('id')).toBe(2);
    const after = update.value!.get('after') as Struct;
    expect(after.get('ref')).toBe('changed');
    expect((after.get('amount') as Decimal).equals(Decimal.parse('99999999.99'))).toBe(true);
    for (const g of got.slice(1, 4)) {
      expect(g.headers['erpstream.version']).toMatch(/^\d+$/);
      expect(g.headers['erpstream.event.id']).toBe(
        `${String((g.value!.get('source') as Struct).get('db'))}:${db.schema}.shipment:${g.headers['erpstream.version']}`,
      );
    }
    expect(Number(got[3]!.headers['erpstream.version'])).toBeGreaterThan(Number(got[2]!.headers['erpstream.version']));
    expect(got[4]!.key.get('id')).toBe(1);

    // ---- SIGKILL mid-stream, restart, nothing lost ----
    const total = 400;
    let writing = true;
    const writer = (async () => {
      const s = await db.session();
      try {
        for (let i = 0; i < total && writing; i++) {
          await s.exec(`INSERT INTO ${t} VALUES ($1, $2, $3)`, [1000 + i, `w${i}`, '0.01']);
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await s.close();
      }
    })();
    const ids = () =>
      new Set(got.filter((g) => g.value && Number(g.key.get('id')) >= 1000).map((g) => Number(g.key.get('id'))));
    await waitFor(() => ids().size >= 60, 60_000, 'the stream to be under way');
    await killWorker(workers[0]!, 'SIGKILL');
    const atKill = ids().size;
    expect(atKill).toBeLessThan(total); // killed mid-stream
    await writer;
    writing = false;
    // Restart with the worker config only: the connector comes back from the stored config and offsets.
    workers.push(await startWorker([workerProps]));
    await waitFor(() => ids().size === total, 120_000, `all ${total} inserted rows in Kafka`);
    await new Promise((r) => setTimeout(r, 1000));

    const stream = got.filter((g) => g.value && Number(g.key.get('id')) >= 1000);
    const byEventId = new Map<string, Got[]>();
    for (const g of stream) {
      const id = g.headers['erpstream.event.id']!;
      byEventId.set(id, [...(byEventId.get(id) ?? []), g]);
    }
    // Every duplicate is a replay of the same change: same key, same version.
    for (const copies of byEventId.values()) {
      expect(new Set(copies.map((c) => c.headers['erpstream.version'])).size).toBe(1);
      expect(new Set(copies.map((c) => Number(c.key.get('id')))).size).toBe(1);
    }
    expect([...ids()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => 1000 + i));
  }, 300_000);
});
