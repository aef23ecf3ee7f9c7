/**
 * LookupSink release latency under default settings (issue 13), run by the worker's own sink runner:
 * - registration → delivery: documents wait (registered to nobody); a registration is committed and its change
 *   record produced to the registration topic the connector follows; until the document is on the customer's topic;
 * - parent → child: phones wait for their person (a ledger dependency); a person is committed and its record
 *   produced; until the phone is on the phones topic (the persons connector delivers the person, which wakes it).
 * Arrival is the delivered record's Kafka timestamp (set when the sink produced it). Target: p99 ≤ 1 s.
 */
import { loadavg } from 'node:os';
import type pg from 'pg';
import { LookupSinkTask } from '../../connectors/lookup-sink/index.js';
import {
  type KafkaPluginAccess,
  createConsumer,
  type createKafka,
  createProducer,
  ensureTopics,
} from '../../runtime/kafka/index.js';
import { KafkaJsPort } from '../../runtime/worker/kafka-port.js';
import type { BenchResult } from '../support.js';
import { benchContext, workerRunner } from './lookup-sink.js';

type Kafka = ReturnType<typeof createKafka>;

const percentile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

/** Kafka timestamps of the first `count` records of `topic`, per key. */
async function arrivals(kafka: Kafka, topic: string, count: number, timeoutMs: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const consumer = createConsumer(kafka, { groupId: `bench-lat-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => resolve(), timeoutMs);
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages)
            if (!out.has(m.key!.toString())) out.set(m.key!.toString(), Number(m.timestamp));
          if (out.size >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function latencyResult(c: string, latencies: number[], total: number, seconds: number, notes: string): BenchResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  return {
    bench: 'sink',
    case: c,
    records: latencies.length,
    seconds,
    recordsPerSecond: latencies.length / seconds,
    microsPerRecord: p50 * 1000,
    cpuSeconds: 0,
    recordsPerCpuSecond: 0,
    loadAverage: loadavg()[0] ?? 0,
    rssMb: 0,
    heapMb: 0,
    target: null,
    notes:
      `p50 ${p50} ms, p99 ${p99} ms, max ${sorted.at(-1)} ms (target p99 ≤ 1000 ms); ` +
      `${latencies.length}/${total} arrived; ${notes}`,
  };
}

export async function latencyCases(o: {
  db: pg.Client;
  kafka: Kafka;
  access: KafkaPluginAccess;
  pgUrl: string;
  brokers: string;
  schema: string;
  sfx: string;
  count: number;
  spacingMs: number;
}): Promise<BenchResult[]> {
  const { db, kafka, access, schema, sfx, count } = o;
  const results: BenchResult[] = [];
  const port = new KafkaJsPort({ brokers: o.brokers.split(','), clientId: 'bench-sink-latency' });
  const producer = createProducer(kafka);
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  const topics = {
    doc: `bench.lat.doc.${sfx}`,
    reg: `bench.lat.reg.${sfx}`,
    person: `bench.lat.person.${sfx}`,
    phone: `bench.lat.phone.${sfx}`,
  };
  await ensureTopics(
    admin,
    Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })),
  );
  await admin.disconnect();
  const customer = `lat${sfx}`;
  await access.ensureTopics([
    { topic: `${customer}.docs`, partitions: 1 },
    { topic: `${customer}.persons`, partitions: 1 },
    { topic: `${customer}.phones`, partitions: 1 },
  ]);
  const state = {
    'lookup.connection.url': o.pgUrl,
    'ledger.table': `${schema}.lat_ledger`,
    'park.table': `${schema}.lat_parked`,
  };
  const runners = [];
  try {
    // Registration → delivery.
    await db.query(`CREATE TABLE ${schema}.lat_doc (document_id int PRIMARY KEY, title text)`);
    await db.query(`CREATE TABLE ${schema}.lat_reg (document_id int, domain text, PRIMARY KEY (document_id, domain))`);
    await db.query(`INSERT INTO ${schema}.lat_doc SELECT g, md5(g::text) FROM generate_series(1, ${count}) g`);
    const docs = new LookupSinkTask();
    docs.initialize(benchContext(access));
    const docRunner = await workerRunner(
      port,
      docs,
      {
        ...state,
        'lookup.query':
          `SELECT d.*, r.domain FROM ${schema}.lat_doc d LEFT JOIN ${schema}.lat_reg r ` +
          `ON r.document_id = d.document_id WHERE d.document_id IN (:ids)`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        dependencies: 'registered',
        'dependencies.registered.type': 'field',
        'dependencies.registered.field': 'domain',
        'dependencies.registered.topic': topics.reg,
        'dependencies.registered.topic.id.field': 'document_id',
        'destination.type': 'kafka',
        'destination.name': `lat_${sfx}`,
        'destination.topic': '${domain}.docs',
      },
      [topics.doc, topics.reg],
      `bench-lat-docs-${sfx}`,
    );
    runners.push(docRunner);
    await docRunner.start(false);
    await producer.send({
      topic: topics.doc,
      messages: Array.from({ length: count }, (_, i) => ({
        key: String(i + 1),
        value: '{}',
        headers: { 'erpstream.version': '1' },
      })),
    });
    await waitFor(() => docs.metrics().waiting + docs.metrics().parked >= count, 'the documents to wait');
    const registeredAt = new Map<string, number>();
    let started = performance.now();
    for (let i = 1; i <= count; i++) {
      await db.query(`INSERT INTO ${schema}.lat_reg VALUES ($1, $2)`, [i, customer]);
      registeredAt.set(String(i), Date.now());
      await producer.send({
        topic: topics.reg,
        messages: [{ key: `${i}|${customer}`, value: JSON.stringify({ document_id: i, domain: customer }) }],
      });
      await new Promise((r) => setTimeout(r, o.spacingMs));
    }
    const got = await arrivals(kafka, `${customer}.docs`, count, 60_000);
    results.push(
      latencyResult(
        'registration → delivery',
        [...got].map(([k, t]) => t - registeredAt.get(k)!),
        count,
        (performance.now() - started) / 1000,
        `one registration every ${o.spacingMs} ms; default park.* settings; worker sink runner`,
      ),
    );

    // Parent → child.
    await db.query(`CREATE TABLE ${schema}.lat_person (person_id int PRIMARY KEY, name text)`);
    await db.query(`CREATE TABLE ${schema}.lat_phone (phone_id int PRIMARY KEY, person_id int)`);
    await db.query(`INSERT INTO ${schema}.lat_phone SELECT g, g FROM generate_series(1, ${count}) g`);
    const common = { ...state, 'destination.type': 'kafka', 'destination.name': `lat_crm_${sfx}` };
    const persons = new LookupSinkTask();
    persons.initialize(benchContext(access));
    const phones = new LookupSinkTask();
    phones.initialize(benchContext(access));
    const personRunner = await workerRunner(
      port,
      persons,
      {
        ...common,
        'lookup.table': `${schema}.lat_person`,
        'lookup.key.columns': 'person_id',
        'entity.name': 'person',
        'destination.topic': `${customer}.persons`,
      },
      [topics.person],
      `bench-lat-persons-${sfx}`,
    );
    const phoneRunner = await workerRunner(
      port,
      phones,
      {
        ...common,
        'lookup.table': `${schema}.lat_phone`,
        'lookup.key.columns': 'phone_id',
        'entity.name': 'phone',
        dependencies: 'owner',
        'dependencies.owner.type': 'ledger',
        'dependencies.owner.entity': 'person',
        'dependencies.owner.id.field': 'person_id',
        'destination.topic': `${customer}.phones`,
      },
      [topics.phone],
      `bench-lat-phones-${sfx}`,
    );
    runners.push(personRunner, phoneRunner);
    await personRunner.start(false);
    await phoneRunner.start(false);
    await producer.send({
      topic: topics.phone,
      messages: Array.from({ length: count }, (_, i) => ({
        key: String(i + 1),
        value: '{}',
        headers: { 'erpstream.version': '1' },
      })),
    });
    await waitFor(() => phones.metrics().parked >= count, 'the phones to park');
    const personAt = new Map<string, number>();
    started = performance.now();
    for (let i = 1; i <= count; i++) {
      await db.query(`INSERT INTO ${schema}.lat_person VALUES ($1, 'p')`, [i]);
      personAt.set(String(i), Date.now());
      await producer.send({
        topic: topics.person,
        messages: [{ key: String(i), value: '{}', headers: { 'erpstream.version': '1' } }],
      });
      await new Promise((r) => setTimeout(r, o.spacingMs));
    }
    const phonesGot = await arrivals(kafka, `${customer}.phones`, count, 60_000);
    results.push(
      latencyResult(
        'parent → child',
        [...phonesGot].map(([k, t]) => t - personAt.get(k)!),
        count,
        (performance.now() - started) / 1000,
        `one person every ${o.spacingMs} ms; the persons connector's delivery wakes the phones (same process)`,
      ),
    );
  } finally {
    for (const r of runners) await r.stop(10_000).catch(() => {});
    await producer.disconnect();
    await port.close();
  }
  return results;
}
