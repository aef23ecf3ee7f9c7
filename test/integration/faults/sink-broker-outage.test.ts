import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPluginAccess, createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../test-worker.js';
import { waitFor } from '../../support/worker.js';
import { type PrivateService, privateKafka } from './private-stack.js';
import { seededRandom, sendDocumentEvents, watchForFailures } from './sink-fault-support.js';

/**
 * The LookupSink with a kafka destination across a broker outage: a PRIVATE broker carries both the sink's input
 * and the customer's topic it delivers to (through the worker's producer), and is SIGKILLed for
 * ERPSTREAM_FAULT_DOWN_MS (60 s by default) while writers keep changing documents in PostgreSQL and sending their
 * events. Asserted: no task or connector FAILED at any status poll, every document's newest version reaches the
 * customer's topic with the origin's state, and no document's version ever goes back on that topic. A copy of a
 * version already delivered (the same `erpstream.version`, which docs/lookup-sink.md allows for kafka after a
 * failure) is counted and printed, not failed.
 */

// 60 s by default, not the other fault tests' 20 s: the worker's producer rides out about 30 s of outage by itself,
// and a longer one is what used to leave a task FAILED.
const DOWN_MS = Number(process.env.ERPSTREAM_FAULT_DOWN_MS ?? 60_000);
const DOCS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LookupSink (kafka destination) across a broker outage (private broker)', () => {
  const sfx = uniqueSuffix();
  const schema = `ls_broker_outage_${sfx}`;
  const input = `it-sink-broker-outage-${sfx}`;
  const customer = `acme_${sfx}`;
  const output = `${customer}.documents`;
  let dir: string;
  let kafkaService: PrivateService;
  let db: pg.Client;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-sink-broker-outage-'));
    kafkaService = await privateKafka(dir);
    db = new pg.Client({ connectionString: requireEnv('PG_URL') });
    await db.connect();
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL, rev bigint)`);
    await db.query(`CREATE TABLE ${schema}.document_domain (document_id int PRIMARY KEY, domain text NOT NULL)`);
    for (let id = 1; id <= DOCS; id++) {
      await db.query(`INSERT INTO ${schema}.document VALUES ($1, $2, 1)`, [id, `doc ${id} rev 1`]);
      await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, $2)`, [id, customer]);
    }
    const kafka = createKafka({ brokers: kafkaService.url, clientId: 'it-sink-broker-outage', logLevel: 'nothing' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [
      { topic: input, numPartitions: 3 },
      { topic: output, numPartitions: 1 },
    ]);
    await admin.disconnect();
    ({ worker } = await startTestWorker('sink-broker-outage', {
      ...SCHEMALESS_JSON,
      'bootstrap.servers': kafkaService.url,
    }));
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await kafkaService?.destroy();
    await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db?.end();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('delivers every document at its newest version, never goes back, and never fails a task', async () => {
    const kafka = createKafka({ brokers: kafkaService.url, clientId: 'it-sink-broker-outage', logLevel: 'nothing' });
    const producer = createProducer(kafka);
    await producer.connect();
    // A send waits the outage out: the writer stalls like a source would.
    const send = (events: Array<{ id: number; version: bigint }>) =>
      sendDocumentEvents(producer, input, events, DOWN_MS + 120_000);
    const name = `sink-broker-outage-${sfx}`;
    const res = await fetch(`${worker!.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        config: {
          'connector.class': 'LookupSink',
          topics: input,
          'tasks.max': '2',
          'lookup.connection.url': requireEnv('PG_URL'),
          'lookup.query':
            `SELECT d.document_id, d.title, d.rev, dd.domain FROM ${schema}.document d ` +
            `LEFT JOIN ${schema}.document_domain dd ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)`,
          'lookup.key.columns': 'document_id',
          'entity.name': 'document',
          dependencies: 'registered',
          'dependencies.registered.type': 'field',
          'dependencies.registered.field': 'domain',
          'destination.type': 'kafka',
          'destination.name': `outage_${sfx}`,
          'destination.topic': '${domain}.documents',
          'ledger.table': `${schema}.ledger`,
          'park.table': `${schema}.parked`,
          'park.check.interval.ms': '200',
        },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);

    // Status every 250 ms for the whole run: a FAILED state at any moment fails the test.
    const watcher = watchForFailures(worker!.url, name);

    const sentVersion = new Map<number, bigint>();
    for (let id = 1; id <= DOCS; id++) sentVersion.set(id, 1n);
    await send([...sentVersion].map(([id, version]) => ({ id, version })));
    let writing = true;
    let commits = 0;
    const writer = async (seed: number) => {
      const next = seededRandom(seed);
      while (writing) {
        const id = 1 + (next() % DOCS);
        const { rows } = await db.query<{ rev: string }>(
          `UPDATE ${schema}.document SET rev = rev + 1, title = 'doc ' || document_id || ' rev ' || (rev + 1)
             WHERE document_id = $1 RETURNING rev::text`,
          [id],
        );
        commits++;
        const version = BigInt(rows[0]!.rev);
        if (version > sentVersion.get(id)!) sentVersion.set(id, version);
        await send([{ id, version }]);
        await sleep(next() % 20);
      }
    };
    const writers = [writer(5), writer(17)];
    await sleep(4_000);
    await kafkaService.kill();
    const downAt = Date.now();
    await sleep(DOWN_MS);
    await kafkaService.start();
    const upAfterMs = Date.now() - downAt;
    await sleep(5_000);
    writing = false;
    await Promise.all(writers);
    expect(commits).toBeGreaterThan(50);

    const origin = new Map(
      (
        await db.query<{ document_id: number; title: string }>(`SELECT document_id, title FROM ${schema}.document`)
      ).rows.map((r) => [r.document_id, r.title]),
    );
    const access = new KafkaPluginAccess(kafka, { clientId: 'it-sink-broker-outage' });
    let delivered: Array<{ id: number; version: bigint; title: string }> = [];
    const newest = () => {
      const top = new Map<number, { version: bigint; title: string }>();
      for (const d of delivered) if ((top.get(d.id)?.version ?? -1n) < d.version) top.set(d.id, d);
      return top;
    };
    await waitFor(
      async () => {
        const read: typeof delivered = [];
        await access.readAll(output, (key, value, _p, meta) => {
          if (value === null) return;
          read.push({
            id: Number(key!.toString()),
            version: BigInt(meta.headers['erpstream.version']!.toString()),
            title: (JSON.parse(value.toString()) as { title: string }).title,
          });
        });
        delivered = read;
        const top = newest();
        return [...sentVersion].every(([id, v]) => top.get(id)?.version === v);
      },
      180_000,
      'every document at its newest version on the customer topic',
    ).catch(() => null);
    const failures = await watcher.stop();
    await producer.disconnect();

    const top = newest();
    const behind = [...sentVersion]
      .filter(([id, v]) => top.get(id)?.version !== v)
      .map(([id, v]) => `${id}: v${top.get(id)?.version ?? 'none'} of v${v}`);
    expect(behind, `outage of ${upAfterMs} ms`).toEqual([]);
    expect([...top].filter(([id, d]) => d.title !== origin.get(id)).map(([id]) => id)).toEqual([]);
    const last = new Map<number, bigint>();
    const backwards: string[] = [];
    let copies = 0;
    for (const d of delivered) {
      const before = last.get(d.id);
      if (before !== undefined && d.version < before) backwards.push(`${d.id}: v${before} → v${d.version}`);
      if (before === d.version) copies++;
      if (before === undefined || d.version > before) last.set(d.id, d.version);
    }
    process.stdout.write(
      `sink broker outage: ${commits} changes, ${delivered.length} deliveries, ${copies} copies of a version just delivered, outage ${upAfterMs} ms\n`,
    );
    expect(backwards).toEqual([]);
    expect(failures).toEqual([]);
  }, 600_000);
});
