/**
 * Reconcile benchmark (issue 16): one customer's LookupSink reconciled against its origin, its ledger and its
 * destination, at BENCH_RECONCILE_ENTITIES entities (default 100,000; the figure is 1,000,000):
 *
 *   eval "$(scripts/stack env)"
 *   npm run bench -- reconcile
 *   BENCH_RECONCILE_ENTITIES=1000000 npm run bench -- reconcile
 *   BENCH_RECONCILE_RUN=20000 …    # entries per sorted run (the memory bound; default 100,000)
 *   BENCH_RECONCILE_KAFKA=0 …      # skip the Kafka destination case
 *
 * Cases (PostgreSQL origin with a LEFT JOIN registration, the ledger in PostgreSQL):
 * - jdbc: the destination is a PostgreSQL table; 0.1 % of its rows are deleted, so the comparison has work to do;
 * - kafka: the destination is a topic holding every entity (0.1 % tombstoned), read to its end and de-duplicated
 *   per key through the external sort.
 * Prints entities/s (wall and per CPU second) and the peak RSS of the process during the reconcile. The data is
 * loaded before the clock starts; the reconcile runs through the plugin's capability, as the worker's REST call does.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { lookupSinkPlugin } from '../connectors/lookup-sink/index.js';
import type { ReconcileConnectorReport } from '../runtime/api/index.js';
import { KafkaPluginAccess, createKafka, createProducer, ensureTopics } from '../runtime/kafka/index.js';
import { type Bench, type BenchContext, BenchSetupError, type BenchResult, printResult, stackEnv } from './support.js';

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

/** Peak RSS while the reconcile runs (it awaits often: every slice, every sorted line). */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

async function timed(
  ctx: BenchContext,
  name: string,
  entities: number,
  run: () => Promise<ReconcileConnectorReport>,
  notes: string,
): Promise<BenchResult> {
  global.gc?.();
  const before = process.memoryUsage.rss();
  const sampler = rssSampler();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const report = await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const peak = sampler.stop();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  ctx.log(
    `# ${name}: counts ${JSON.stringify(report.counts)}, totals ${JSON.stringify(report.totals)}; RSS before ${mb(before)} MB`,
  );
  const expected = Math.floor(entities / 1000);
  if (report.counts.missing !== expected || report.counts.drift !== expected) {
    throw new Error(`${name}: expected ${expected} missing and drifted entities, got ${JSON.stringify(report.counts)}`);
  }
  return {
    bench: 'reconcile',
    case: name,
    records: entities,
    seconds,
    recordsPerSecond: entities / seconds,
    microsPerRecord: (seconds * 1e6) / entities,
    cpuSeconds,
    recordsPerCpuSecond: entities / cpuSeconds,
    loadAverage: loadavg()[0]!,
    rssMb: mb(peak),
    heapMb: mb(process.memoryUsage().heapUsed),
    target: null,
    notes: `${notes}; RSS before ${mb(before)} MB`,
  };
}

export const reconcileBench: Bench = {
  name: 'reconcile',
  description: 'one customer reconciled: origin vs ledger vs destination (jdbc table, Kafka topic), bounded memory',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const pgUrl = stackEnv('PG_URL');
    const entities = Number(ctx.env.BENCH_RECONCILE_ENTITIES ?? 100_000);
    const runEntries = Number(ctx.env.BENCH_RECONCILE_RUN ?? 100_000);
    if (!Number.isInteger(entities) || entities < 1000) throw new BenchSetupError('BENCH_RECONCILE_ENTITIES ≥ 1000');
    const sfx = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
    const schema = `bench_rc_${sfx}`;
    const customer = `benchrc_${sfx}`;
    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    const results: BenchResult[] = [];
    try {
      ctx.log(`# loading ${entities.toLocaleString('en-US')} entities into ${schema}`);
      await db.query(`CREATE SCHEMA ${schema}`);
      await db.query(`CREATE TABLE ${schema}.document (document_id bigint PRIMARY KEY, title text, rev bigint)`);
      await db.query(`CREATE TABLE ${schema}.document_domain (document_id bigint PRIMARY KEY, domain text)`);
      await db.query(
        `CREATE TABLE ${schema}.dest (document_id bigint PRIMARY KEY, title text, rev bigint, erpstream_version numeric(20,0))`,
      );
      await db.query(
        `CREATE TABLE ${schema}.ledger (destination varchar(191) NOT NULL, entity varchar(191) NOT NULL, entity_id varchar(300) NOT NULL, ` +
          `version numeric(20,0) NOT NULL, target varchar(512) NULL, deleted boolean NOT NULL, updated_at bigint NOT NULL, ` +
          `delivered_key text NULL, targets text NULL, PRIMARY KEY (destination, entity, entity_id))`,
      );
      await db.query(
        `INSERT INTO ${schema}.document SELECT g, 'document ' || g, 1000 + g FROM generate_series(1, $1) g`,
        [entities],
      );
      await db.query(`INSERT INTO ${schema}.document_domain SELECT g, $2 FROM generate_series(1, $1) g`, [
        entities,
        customer,
      ]);
      const ledgerRows = (destination: string, target: string) =>
        db.query(
          `INSERT INTO ${schema}.ledger SELECT $2::text, 'document', g::text, 1000 + g, $3::text, false, 0, NULL, ` +
            `'[["' || $3::text || '",null,"' || (1000 + g) || '"]]' FROM generate_series(1, $1) g`,
          [entities, destination, target],
        );
      await ledgerRows(`${customer}-jdbc`, `${schema}.dest`);
      await db.query(
        `INSERT INTO ${schema}.dest SELECT g, 'document ' || g, 1000 + g, 1000 + g FROM generate_series(1, $1) g WHERE g % 1000 <> 0`,
        [entities],
      );
      await db.query(`ANALYZE`);
      const base = {
        'connector.class': 'LookupSink',
        topics: 'unused',
        'lookup.connection.url': pgUrl,
        'lookup.query':
          `SELECT d.*, dd.domain FROM ${schema}.document d LEFT JOIN ${schema}.document_domain dd ` +
          `ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)`,
        'lookup.key.columns': 'document_id',
        'lookup.version.column': 'rev',
        'entity.name': 'document',
        dependencies: 'registered',
        'dependencies.registered.type': 'field',
        'dependencies.registered.field': 'domain',
        'ledger.table': `${schema}.ledger`,
      };
      const jdbc = await timed(
        ctx,
        'jdbc',
        entities,
        () =>
          lookupSinkPlugin.reconcile({
            connector: 'bench-jdbc',
            config: {
              ...base,
              'destination.type': 'jdbc',
              'destination.name': `${customer}-jdbc`,
              'destination.table': `${schema}.dest`,
            },
            sample: 10,
            runEntries,
          }),
        `run ${runEntries} entries`,
      );
      printResult(jdbc, ctx.log);
      results.push(jdbc);

      if ((ctx.env.BENCH_RECONCILE_KAFKA ?? '1') !== '0') {
        const brokers = stackEnv('KAFKA_BROKERS');
        const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench-reconcile', logLevel: 'nothing' });
        const topic = `${customer}.documents`;
        const admin = kafka.admin();
        await admin.connect();
        await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
        await admin.disconnect();
        ctx.log(`# producing ${entities.toLocaleString('en-US')} records to ${topic}`);
        const producer = createProducer(kafka);
        await producer.connect();
        const slice = 5000;
        for (let from = 1; from <= entities; from += slice) {
          const messages = [];
          for (let g = from; g < Math.min(from + slice, entities + 1); g++) {
            messages.push({
              key: String(g),
              value: JSON.stringify({ document_id: g, title: `document ${g}`, rev: 1000 + g }),
              headers: {
                'erpstream.version': String(1000 + g),
                'erpstream.entity': 'document',
                'erpstream.id': String(g),
              },
            });
          }
          await producer.send({ topic, acks: -1, messages });
        }
        // 0.1 % deleted at the destination: tombstones after the values.
        const tombstones = [];
        for (let g = 1000; g <= entities; g += 1000) {
          tombstones.push({
            key: String(g),
            value: null,
            headers: { 'erpstream.entity': 'document', 'erpstream.id': String(g) },
          });
        }
        await producer.send({ topic, acks: -1, messages: tombstones });
        await producer.disconnect();
        await ledgerRows(customer, topic);
        const access = new KafkaPluginAccess(kafka, { clientId: 'bench-reconcile' });
        const k = await timed(
          ctx,
          'kafka',
          entities,
          () =>
            lookupSinkPlugin.reconcile({
              connector: 'bench-kafka',
              config: {
                ...base,
                'destination.type': 'kafka',
                'destination.name': customer,
                'destination.topic': topic,
              },
              kafka: access,
              sample: 10,
              runEntries,
            }),
          `run ${runEntries} entries; ${entities + Math.floor(entities / 1000)} records on 3 partitions`,
        );
        printResult(k, ctx.log);
        results.push(k);
        const a2 = kafka.admin();
        await a2.connect();
        await a2.deleteTopics({ topics: [topic] }).catch(() => {});
        await a2.disconnect();
      }
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await db.end();
    }
    return results;
  },
};
