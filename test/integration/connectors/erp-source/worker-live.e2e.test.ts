import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxTableDdl } from '../../../../connectors/erp-source/setup-sql.js';
import { type Consumer, type Kafka, createConsumer, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DbFixture, pgFixture } from './harness.js';
import { type WorkerProcess, startWorkerProcess } from '../../../support/erpstream-cli.js';
import { killWorker, waitFor } from '../../../support/worker.js';

/**
 * What only the real worker can show: outbox.delete.processed driven by the worker's own commit() calls (rows are
 * deleted once their events are in Kafka and their offsets flushed, a SIGKILL loses nothing), and a table created
 * while the connector runs reaching Kafka through the worker's task reconfiguration, without a restart.
 */

describe('ErpSource live changes in a standalone worker process', () => {
  let db: DbFixture;
  let kafka: Kafka;
  let dir: string;
  const consumers: Consumer[] = [];
  const workers: WorkerProcess[] = [];
  const topics: string[] = [];
  const suffix = uniqueSuffix();

  beforeAll(async () => {
    db = await pgFixture();
    kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'erp-live-it', logLevel: 'nothing' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-erp-live-'));
  });
  afterAll(async () => {
    for (const w of workers) await killWorker(w).catch(() => {});
    for (const c of consumers) await c.disconnect().catch(() => {});
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    await db?.close();
  });

  const workerProps = async (): Promise<string> => {
    const file = path.join(dir, 'worker.properties');
    await writeFile(
      file,
      [
        `bootstrap.servers=${requireEnv('KAFKA_BROKERS')}`,
        'listeners=http://127.0.0.1:0',
        `offset.storage.file.filename=${path.join(dir, 'offsets.json')}`,
        'offset.flush.interval.ms=300',
        'key.converter=org.apache.kafka.connect.json.JsonConverter',
        'key.converter.schemas.enable=false',
        'value.converter=org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable=false',
      ].join('\n'),
    );
    return file;
  };

  /** Collects the messages of `topic` (waiting for the worker to create it) as [key, value] JSON. */
  const collect = async (topic: string): Promise<Array<{ key: unknown; value: unknown }>> => {
    topics.push(topic);
    await waitFor(
      async () => {
        const admin = kafka.admin();
        await admin.connect();
        const list = await admin.listTopics();
        await admin.disconnect();
        return list.includes(topic);
      },
      60_000,
      `topic ${topic}`,
    );
    const got: Array<{ key: unknown; value: unknown }> = [];
    const c = createConsumer(kafka, { groupId: `erp-live-it-${uniqueSuffix()}` });
    consumers.push(c);
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) => {
        const parse = (b: Buffer | null) => (b === null ? null : (JSON.parse(b.toString('utf8')) as unknown));
        got.push({ key: parse(message.key), value: parse(message.value) });
      },
    });
    return got;
  };

  it('outbox.delete.processed: every event reaches Kafka, processed rows are deleted, a SIGKILL loses nothing', async () => {
    const table = `${db.schema}.outbox`;
    for (const ddl of outboxTableDdl('postgresql', table)) await db.exec(ddl);
    const type = `Ord_${suffix}`;
    const insert = (n: number) =>
      db.exec(
        `INSERT INTO "${db.schema}".outbox (id, aggregatetype, aggregateid, type, payload)
         VALUES ($1, $2, $3, 'E', $4::jsonb)`,
        [`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, type, `o-${n}`, JSON.stringify({ n })],
      );
    const count = async () => Number((await db.exec(`SELECT count(*) AS n FROM "${db.schema}".outbox`))[0]!.n);
    for (let n = 1; n <= 20; n++) await insert(n);
    const connectorProps = path.join(dir, 'outbox.properties');
    await writeFile(
      connectorProps,
      [
        'name=erp-outbox',
        'connector.class=ErpSource',
        `connection.url=${db.url}`,
        'capture.mode=outbox',
        `outbox.table=${table}`,
        'outbox.delete.processed=true',
        `topic.prefix=erpo_${suffix}`,
        'poll.interval.ms=100',
        'max.batch.size=25',
      ].join('\n'),
    );
    const props = await workerProps();
    workers.push(await startWorkerProcess([props, connectorProps, '--standalone'], 60_000));
    const got = await collect(`outbox.event.${type}`);
    // The payload column is io.debezium.data.Json: a JSON string holding the document.
    const delivered = () => new Set(got.map((g) => (JSON.parse(g.value as string) as { n: number }).n));
    await waitFor(() => delivered().size >= 20, 60_000, 'the pending outbox rows in Kafka');
    await waitFor(async () => (await count()) === 0, 30_000, 'the processed rows to be deleted');

    let writing = true;
    const total = 300;
    const writer = (async () => {
      for (let n = 21; n <= total && writing; n++) {
        await insert(n);
        if (n % 10 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor(() => delivered().size >= 80, 60_000, 'the stream to be under way');
    await killWorker(workers[0]!);
    expect(delivered().size).toBeLessThan(total); // killed mid-stream
    await writer;
    writing = false;
    workers.push(await startWorkerProcess([props, '--standalone'], 60_000));
    await waitFor(() => delivered().size === total, 120_000, `all ${total} outbox events in Kafka`);
    await waitFor(async () => (await count()) === 0, 30_000, 'every processed row to be deleted');
    expect([...delivered()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    await killWorker(workers[1]!);
  }, 300_000);

  it('captures a table created while the connector runs, without a restart', async () => {
    const prefix = `erpn_${suffix}`;
    await db.createCaptured('alpha', 'id integer PRIMARY KEY, v text');
    await db.exec(`INSERT INTO "${db.schema}".alpha VALUES (1, 'a')`);
    const connectorProps = path.join(dir, 'tables.properties');
    await writeFile(
      connectorProps,
      [
        'name=erp-tables',
        'connector.class=ErpSource',
        `connection.url=${db.url}`,
        `change.table=${db.schema}.change_log`,
        `topic.prefix=${prefix}`,
        `table.include.list=${db.schema}\\\\.(alpha|beta)`,
        'table.poll.interval.ms=300',
        'poll.interval.ms=100',
      ].join('\n'),
    );
    workers.push(await startWorkerProcess([await workerProps(), connectorProps, '--standalone'], 60_000));
    const alpha = await collect(`${prefix}.${db.schema}.alpha`);
    await waitFor(() => alpha.length >= 1, 60_000, 'the alpha snapshot');

    await db.createCaptured('beta', 'id integer PRIMARY KEY, v text');
    await db.exec(`INSERT INTO "${db.schema}".beta VALUES (1, 'existing')`);
    const beta = await collect(`${prefix}.${db.schema}.beta`);
    await waitFor(() => beta.length >= 1, 60_000, 'the beta snapshot');
    await db.exec(`INSERT INTO "${db.schema}".beta VALUES (2, 'streamed')`);
    await db.exec(`UPDATE "${db.schema}".alpha SET v = 'b' WHERE id = 1`);
    await waitFor(() => beta.length >= 2 && alpha.length >= 2, 60_000, 'streamed changes of both tables');
    const ops = (msgs: Array<{ value: unknown }>) => msgs.map((m) => (m.value as { op: string }).op);
    expect(ops(beta).slice(0, 2)).toEqual(['r', 'c']);
    expect(ops(alpha).slice(0, 2)).toEqual(['r', 'u']); // alpha resumed, not snapshotted again
  }, 300_000);
});
