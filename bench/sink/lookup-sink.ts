/**
 * LookupSink benchmark (issue 6): Kafka topic of ids+versions → LookupSink task (PostgreSQL origin, batched
 * lookups) → per-customer Kafka topics.
 *
 *   eval "$(scripts/stack env)"
 *   npx tsx bench/sink/lookup-sink.ts                        # 200,000 records over 10,000 keys, 1,000,000 parked
 *   BENCH_RECORDS=50000 BENCH_PARKED=100000 npx tsx bench/sink/lookup-sink.ts
 *   BENCH_PUT_BATCH=500 …                                    # split each fetch into put()s of 500 (Connect's
 *                                                            # max.poll.records); default: one put() per fetch
 *
 * Cases:
 * - consumer: a bare kafkajs consumer reading the input topic (the baseline);
 * - consume+produce: the same consumer sending one record of the delivered shape per input record through the
 *   plugin writer (the worker's producer), one send per batch: the ceiling of any sink on this consumer and
 *   producer, with no lookup, ledger or park at all;
 * - deliver: the same topic consumed the way the worker does (each fetched batch → SinkRecords → one put()), every
 *   record looked up and delivered (or collapsed into a newer version of its key in the same batch); records/s, the ratio to the baseline (target ≥ 0.5) and lookup queries per
 *   record (target ≤ 0.02 at batch 500);
 * - deliver (worker): the same, run by the worker's own sink runner (WorkerSinkTask on the worker's Kafka port:
 *   StringConverter keys, schemaless JsonConverter values, SimpleHeaderConverter headers, offset commits), as a
 *   deployed connector runs; until every record is put and flushed;
 * - fan-out (3 customers): the deliver case with every document registered to three customers (LEFT JOIN on the
 *   registrations, ${customer}.docs): three deliveries per delivered version; the ratio to deliver;
 * - registration → delivery and parent → child: release latency p50/p99 under default settings (latency.ts;
 *   BENCH_LATENCY_N events, one every BENCH_LATENCY_SPACING_MS);
 * - park (run first, in a fresh process state): BENCH_PARKED records whose parent never arrives (a ledger dependency, so the in-memory wake index holds
 *   every key); put rate and peak RSS (target ≤ 500 MB: parked records live in the park table, not in memory).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { LookupSinkTask } from '../../connectors/lookup-sink/index.js';
import { Headers, type SinkRecord, silentLogger, type SinkTaskContext } from '../../runtime/api/index.js';
import { createConsumer, createKafka, createProducer, ensureTopics } from '../../runtime/kafka/index.js';
import { KafkaPluginAccess } from '../../runtime/kafka/index.js';
import { ErrorReporter } from '../../runtime/errors/reporter.js';
import { converterSettings, errorHandlingSettings } from '../../runtime/worker/connector-settings.js';
import { TransformChain } from '../../runtime/transforms/index.js';
import { KafkaJsPort } from '../../runtime/worker/kafka-port.js';
import { builtinRegistry } from '../../bundle/builtin.js';
import { WorkerSinkTask } from '../../runtime/worker/sink-task.js';
import { createConverters } from '../../runtime/worker/task-context.js';
import { latencyCases } from './latency.js';
import {
  type Bench,
  type BenchContext,
  type BenchResult,
  benchSinkContext,
  printResult,
  stackEnv,
} from '../support.js';

const KEYS = 10_000;
/**
 * Records per put(): by default what one fetch returned, as the worker hands it over (lookups stay at
 * lookup.batch.size=500 ids per query); BENCH_PUT_BATCH=500 mimics Connect's max.poll.records.
 */
const PUT_BATCH = process.env.BENCH_PUT_BATCH ? Number(process.env.BENCH_PUT_BATCH) : Number.POSITIVE_INFINITY;
const PARK_PUT_BATCH = 500;
const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

const context = (kafka?: KafkaPluginAccess): SinkTaskContext => benchSinkContext('bench-lookup-sink', kafka);

function result(
  c: string,
  records: number,
  startedAt: number,
  cpu: NodeJS.CpuUsage,
  peakRss: number,
  target: number | null,
  notes?: string,
): BenchResult {
  const seconds = (performance.now() - startedAt) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return {
    bench: 'sink',
    case: c,
    records,
    seconds,
    recordsPerSecond: records / seconds,
    microsPerRecord: (seconds * 1e6) / records,
    cpuSeconds,
    recordsPerCpuSecond: records / cpuSeconds,
    loadAverage: loadavg()[0] ?? 0,
    rssMb: mb(peakRss),
    heapMb: mb(process.memoryUsage().heapUsed),
    target,
    ...(notes ? { notes } : {}),
  };
}

function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** A fetched message as the worker hands it to put(): the id as the key, the version header. */
function sinkRecordOf(
  topic: string,
  partition: number,
  m: { key: Buffer | null; headers: Record<string, unknown>; offset: string },
): SinkRecord {
  return {
    topic,
    kafkaPartition: partition,
    kafkaOffset: BigInt(m.offset),
    keySchema: null,
    key: Number(m.key!.toString()),
    valueSchema: null,
    value: {},
    timestamp: Date.now(),
    timestampType: 'CreateTime',
    headers: Headers.of({ 'erpstream.version': m.headers['erpstream.version'] }),
    originalTopic: topic,
    originalKafkaPartition: partition,
    originalKafkaOffset: BigInt(m.offset),
  };
}

/** Reads `count` records of `topic` with a fresh group; `onBatch` sees each kafkajs batch (awaited). */
async function consume(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  count: number,
  onBatch: (
    messages: Array<{ key: Buffer | null; headers: Record<string, unknown>; offset: string }>,
    partition: number,
  ) => Promise<void>,
): Promise<void> {
  const consumer = createConsumer(kafka, { groupId: `bench-sink-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          await onBatch(
            batch.messages.map((m) => ({
              key: m.key,
              headers: (m.headers ?? {}) as Record<string, unknown>,
              offset: m.offset,
            })),
            batch.partition,
          );
          seen += batch.messages.length;
          if (seen >= count) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

/**
 * A task run by the worker's own sink runner (WorkerSinkTask on the worker's Kafka port), with the converters a
 * connector config gets (StringConverter keys, schemaless JsonConverter values, SimpleHeaderConverter headers) and
 * the worker's default consumer settings. Call start(false) on it.
 */
export async function workerRunner(
  port: KafkaJsPort,
  task: LookupSinkTask,
  props: Record<string, string>,
  topics: string[],
  group: string,
): Promise<WorkerSinkTask> {
  const logger = silentLogger;
  const converters = await createConverters(
    builtinRegistry(),
    converterSettings({
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
    }),
    {},
    {
      key: 'org.apache.kafka.connect.json.JsonConverter',
      value: 'org.apache.kafka.connect.json.JsonConverter',
      header: 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
    },
  );
  const errors = errorHandlingSettings({});
  return new WorkerSinkTask({
    connector: group,
    taskId: 0,
    task,
    taskClass: 'erpstream.LookupSinkConnector',
    props,
    subscription: { topics },
    chain: TransformChain.empty<SinkRecord>(),
    converters,
    consumer: await port.consumer(group, group),
    errors,
    reporter: new ErrorReporter({ connector: 'bench', task: 0 }, errors, logger, null),
    logger,
    listener: { onState() {} },
    onTopic() {},
  });
}

export function benchContext(kafka?: KafkaPluginAccess): SinkTaskContext {
  return context(kafka);
}

export const sinkBench: Bench = {
  name: 'sink',
  description: 'LookupSink: ids+versions → batched PostgreSQL lookups → per-customer Kafka topics; parked memory',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const records = Number(ctx.env.BENCH_RECORDS ?? 200_000);
    const parkedCount = Number(ctx.env.BENCH_PARKED ?? 1_000_000);
    const pgUrl = stackEnv('PG_URL');
    const brokers = stackEnv('KAFKA_BROKERS');
    const sfx = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const schema = `bench_sink_${sfx}`;
    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    const kafka = createKafka({ brokers, clientId: 'bench-sink', logLevel: 'nothing' });
    const access = new KafkaPluginAccess(kafka, { clientId: 'bench-sink' });
    const results: BenchResult[] = [];
    const input = `bench.sink.in.${sfx}`;
    try {
      await db.query(`CREATE SCHEMA ${schema}`);
      await db.query(
        `CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, domain text, title text, amount numeric(14,2), rev bigint)`,
      );
      await db.query(
        `INSERT INTO ${schema}.document SELECT g, 'b${sfx}_' || (g % 10), md5(g::text), (g * 1.25)::numeric(14,2), g FROM generate_series(0, ${KEYS - 1}) g`,
      );
      await db.query(`CREATE TABLE ${schema}.phone (phone_id int PRIMARY KEY, person_id int)`);
      await db.query(`INSERT INTO ${schema}.phone SELECT g, g FROM generate_series(0, ${parkedCount - 1}) g`);

      // The input: ids and versions, keyed by id, as the source connector writes them.
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [{ topic: input, numPartitions: 4 }]);
      await admin.disconnect();
      const producer = createProducer(kafka);
      await producer.connect();
      for (let i = 0; i < records; i += 5000) {
        const messages = [];
        for (let j = i; j < Math.min(records, i + 5000); j++) {
          messages.push({ key: String(j % KEYS), value: '{}', headers: { 'erpstream.version': String(j + 1) } });
        }
        await producer.send({ topic: input, messages, acks: -1 });
      }
      await producer.disconnect();

      // Parking first, in a fresh process state, so its peak RSS is the parked keys' and not the other cases' heap:
      // children whose parent never arrives.
      const parker = new LookupSinkTask();
      parker.initialize(context());
      await parker.start({
        'lookup.connection.url': pgUrl,
        'lookup.table': `${schema}.phone`,
        'lookup.key.columns': 'phone_id',
        'entity.name': 'phone',
        dependencies: 'owner',
        'dependencies.owner.type': 'ledger',
        'dependencies.owner.entity': 'person',
        'dependencies.owner.id.field': 'person_id',
        'destination.type': 'jdbc',
        'destination.table': `${schema}.phone`,
        'destination.name': `bench_${sfx}`,
        'ledger.table': `${schema}.ledger`,
        'park.table': `${schema}.parked`,
        'park.check.interval.ms': '3600000',
      });
      const rssBefore = process.memoryUsage.rss();
      let cpu = process.cpuUsage();
      let rss = rssSampler();
      let t0 = performance.now();
      for (let i = 0; i < parkedCount; i += PARK_PUT_BATCH) {
        const batch: SinkRecord[] = [];
        for (let j = i; j < Math.min(parkedCount, i + PARK_PUT_BATCH); j++) {
          batch.push({
            topic: 'phones',
            kafkaPartition: 0,
            kafkaOffset: BigInt(j),
            keySchema: null,
            key: j,
            valueSchema: null,
            value: { op: 'c' },
            timestamp: Date.now(),
            timestampType: 'CreateTime',
            headers: Headers.of({ 'erpstream.version': '1' }),
            originalTopic: 'phones',
            originalKafkaPartition: 0,
            originalKafkaOffset: BigInt(j),
          });
        }
        await parker.put(batch);
      }
      const peak = rss.stop();
      results.push(
        result(
          'park',
          parkedCount,
          t0,
          cpu,
          peak,
          null,
          `${parker.metrics().parked} parked; RSS grew ${mb(peak - rssBefore)} MB (target ≤ 500 MB total)`,
        ),
      );
      await parker.stop();

      // Baseline: a bare consumer.
      cpu = process.cpuUsage();
      rss = rssSampler();
      t0 = performance.now();
      await consume(kafka, input, records, async () => {});
      const baseline = result('consumer', records, t0, cpu, rss.stop(), null, 'bare kafkajs consumer, same topic');
      results.push(baseline);

      // The ceiling for any sink on this consumer and producer: consume, and send one record of the delivered shape
      // per input record through the same plugin writer, one send per batch, nothing looked up.
      const ceilingTopic = `bench.sink.ceiling.${sfx}`;
      await access.ensureTopics([{ topic: ceilingTopic, partitions: 1 }]);
      const writer = await access.writer({ clientId: 'bench-sink-ceiling' });
      cpu = process.cpuUsage();
      rss = rssSampler();
      t0 = performance.now();
      await consume(kafka, input, records, async (messages) => {
        for (let i = 0; i < messages.length; i += PUT_BATCH) {
          await writer.send(
            messages.slice(i, i + PUT_BATCH).map((m) => {
              const id = m.key!.toString();
              return {
                topic: ceilingTopic,
                key: Buffer.from(id),
                value: Buffer.from(
                  `{"document_id":${id},"domain":"b${sfx}_${Number(id) % 10}","title":"0123456789abcdef0123456789abcdef","amount":"1.25","rev":${id}}`,
                ),
                headers: { 'erpstream.version': String(m.offset), 'erpstream.entity': 'document', 'erpstream.id': id },
              };
            }),
          );
        }
      });
      await writer.close();
      const ceiling = result(
        'consume+produce',
        records,
        t0,
        cpu,
        rss.stop(),
        null,
        `bare consumer + one plugin-writer send per ${Number.isFinite(PUT_BATCH) ? PUT_BATCH : 'fetch'} records; ratio to bare consumer ` +
          `${(baseline.seconds / ((performance.now() - t0) / 1000)).toFixed(2)}`,
      );
      results.push(ceiling);

      // The sink, fed as the worker feeds it. Its ten customer topics exist already, as in steady state (and as the
      // ceiling's topic does): creating topics is a one-time cost of the first deliveries, not throughput.
      await access.ensureTopics(Array.from({ length: 10 }, (_, d) => ({ topic: `b${sfx}_${d}.docs`, partitions: 1 })));
      const task = new LookupSinkTask();
      task.initialize(context(access));
      // Each run its own destination and state tables: the worker run must not find the first run's ledger.
      const deliverProps = (run: string) => ({
        'lookup.connection.url': pgUrl,
        'lookup.table': `${schema}.document`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        'destination.type': 'kafka',
        'destination.name': `bench_${run}_${sfx}`,
        'destination.topic': '${domain}.docs',
        'ledger.table': `${schema}.ledger_${run}`,
        'park.table': `${schema}.parked_${run}`,
        'lookup.batch.size': '500',
      });
      await task.start(deliverProps('task'));
      cpu = process.cpuUsage();
      rss = rssSampler();
      t0 = performance.now();
      await consume(kafka, input, records, async (messages, partition) => {
        for (let i = 0; i < messages.length; i += PUT_BATCH) {
          await task.put(messages.slice(i, i + PUT_BATCH).map((m) => sinkRecordOf(input, partition, m)));
        }
      });
      // Until the last batch is delivered and recorded, not just handed to put().
      await task.flush();
      const m = task.metrics();
      const deliver = result(
        'deliver',
        records,
        t0,
        cpu,
        rss.stop(),
        null,
        `ratio to bare consumer ${(baseline.seconds / ((performance.now() - t0) / 1000)).toFixed(2)} (target ≥ 0.5), ` +
          `to consume+produce ${(ceiling.seconds / ((performance.now() - t0) / 1000)).toFixed(2)}; ` +
          `lookup queries/record ${(m.lookupQueries / records).toFixed(4)} (target ≤ 0.02); delivered ${m.delivered}, ` +
          `stale ${m.staleDropped}, superseded ${m.superseded}`,
      );
      results.push(deliver);
      await task.stop();

      // Fan-out: the same records, each document registered to three customers (a LEFT JOIN on the registrations,
      // the documented config): three deliveries per delivered version, one ledger entry per document.
      await db.query(
        `CREATE TABLE ${schema}.document_domain (document_id int, domain text, PRIMARY KEY (document_id, domain))`,
      );
      await db.query(
        `INSERT INTO ${schema}.document_domain SELECT g, 'f${sfx}_' || c FROM generate_series(0, ${KEYS - 1}) g, generate_series(0, 2) c`,
      );
      await access.ensureTopics([0, 1, 2].map((c) => ({ topic: `f${sfx}_${c}.docs`, partitions: 1 })));
      const fan = new LookupSinkTask();
      fan.initialize(context(access));
      const { 'lookup.table': _table, ...fanProps } = deliverProps('fan');
      await fan.start({
        ...fanProps,
        'lookup.query':
          `SELECT d.*, dd.domain AS customer FROM ${schema}.document d LEFT JOIN ${schema}.document_domain dd ` +
          `ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)`,
        dependencies: 'registered',
        'dependencies.registered.type': 'field',
        'dependencies.registered.field': 'customer',
        'destination.topic': '${customer}.docs',
      });
      cpu = process.cpuUsage();
      rss = rssSampler();
      t0 = performance.now();
      await consume(kafka, input, records, async (messages, partition) => {
        for (let i = 0; i < messages.length; i += PUT_BATCH) {
          await fan.put(messages.slice(i, i + PUT_BATCH).map((m) => sinkRecordOf(input, partition, m)));
        }
      });
      await fan.flush();
      const fm = fan.metrics();
      results.push(
        result(
          'fan-out (3 customers)',
          records,
          t0,
          cpu,
          rss.stop(),
          null,
          `ratio to deliver ${(deliver.seconds / ((performance.now() - t0) / 1000)).toFixed(2)}; ` +
            `delivered ${fm.delivered} (${(fm.delivered / Math.max(1, m.delivered)).toFixed(2)}× deliver's), ` +
            `superseded ${fm.superseded}, lookup queries/record ${(fm.lookupQueries / records).toFixed(4)}`,
        ),
      );
      await fan.stop();

      // The same, run by the worker's sink runner: converters, the transform chain, offsets and commits included.
      const port = new KafkaJsPort({ brokers: brokers.split(','), clientId: 'bench-sink-worker' });
      const workerTask = new LookupSinkTask();
      workerTask.initialize(context(access));
      const runner = await workerRunner(port, workerTask, deliverProps('worker'), [input], `bench-sink-w-${sfx}`);
      cpu = process.cpuUsage();
      rss = rssSampler();
      t0 = performance.now();
      await runner.start(false);
      while (workerTask.metrics().records < records) await new Promise((r) => setTimeout(r, 2));
      await workerTask.flush();
      const wm = workerTask.metrics();
      const viaWorker = result(
        'deliver (worker)',
        records,
        t0,
        cpu,
        rss.stop(),
        null,
        `ratio to bare consumer ${(baseline.seconds / ((performance.now() - t0) / 1000)).toFixed(2)} (target ≥ 0.5); ` +
          `delivered ${wm.delivered}, superseded ${wm.superseded}, stale ${wm.staleDropped}`,
      );
      results.push(viaWorker);
      await runner.stop(10_000);
      await port.close();

      results.push(
        ...(await latencyCases({
          db,
          kafka,
          access,
          pgUrl,
          brokers,
          schema,
          sfx,
          count: Number(ctx.env.BENCH_LATENCY_N ?? 200),
          spacingMs: Number(ctx.env.BENCH_LATENCY_SPACING_MS ?? 20),
        })),
      );
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await db.end();
    }
    for (const r of results) printResult(r, ctx.log);
    return results;
  },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  await sinkBench.run({ env: process.env, records: 0, log: (l) => process.stdout.write(`${l}\n`) });
}
