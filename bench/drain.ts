/**
 * Worker memory during a drain (issue 18): a distributed worker process runs an ErpSource that snapshots N rows
 * (JSON converters without schemas) into Kafka; the worker's peak RSS (the kernel's VmHWM) and rows/s.
 *
 *   npm run bench -- drain                       # BENCH_RECORDS rows (default 1,000,000)
 *   BENCH_RECORDS=200000 BENCH_DRAIN_ROUNDS=3 npx tsx bench/drain.ts
 *
 * Needs KAFKA_BROKERS and PG_URL (`eval "$(scripts/stack env)"`). BENCH_DRAIN_VARIANTS lists the worker processes to
 * compare, `;`-separated, each a fresh worker: `launcher` (as `erpstream worker start` runs it), `node-default`
 * (Node's own heap settings: ERPSTREAM_WORKER_SEMI_SPACE_MB=0), or V8/Node flags for NODE_OPTIONS (e.g.
 * `--max-semi-space-size=8`); default `node-default;launcher`. A variant ending in `+thread` runs with the data-path
 * producer on its own thread (ERPSTREAM_PRODUCER_THREAD=1), e.g. `launcher;launcher+thread`. Rounds interleave them
 * (BENCH_DRAIN_ROUNDS, default 1). Besides the worker's CPU per row (all threads), the main thread's is reported.
 * Target: peak RSS ≤ 300 MB.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { changeTableDdl } from '../connectors/erp-source/setup-sql.js';
import { PRODUCER_THREAD_ENV, createKafka, ensureTopics } from '../runtime/kafka/index.js';
import { SEMI_SPACE_ENV } from '../runtime/worker/heap-settings.js';
import {
  clusterProps,
  rest,
  startWorker,
  stopWorker,
  waitFor,
  writeProps,
} from '../test/integration/worker/distributed/cluster.js';
import { cpuMs, cpuMsByThreadName, rssMb } from './proc-stats.js';
import { type Bench, type BenchContext, BenchSetupError } from './support.js';

const COLUMNS = `id bigint PRIMARY KEY, ref varchar(40) NOT NULL, customer_id integer, amount numeric(19,4),
  weight numeric(12,3), qty integer, status varchar(20), note text, created_at timestamp(6), updated_at timestamptz,
  due date, priority smallint, active boolean, tracking uuid, payload jsonb`;
const ROW_SQL = (from: number, to: number) => `SELECT g, 'REF-' || g, g % 1000, (g * 1.2345)::numeric(19,4), g % 500,
  g % 7, 'st' || (g % 5), md5(g::text), clock_timestamp(), clock_timestamp(), current_date, (g % 3)::smallint,
  g % 2 = 0, gen_random_uuid(), jsonb_build_object('g', g) FROM generate_series(${from}, ${to}) g`;
const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

async function run(ctx: BenchContext): Promise<[]> {
  const brokers = ctx.env.KAFKA_BROKERS?.trim();
  const pgUrl = ctx.env.PG_URL?.trim();
  if (!brokers || !pgUrl)
    throw new BenchSetupError('KAFKA_BROKERS and PG_URL must be set: eval "$(scripts/stack env)"');
  const n = ctx.records;
  const variants = (ctx.env.BENCH_DRAIN_VARIANTS ?? 'node-default;launcher')
    .split(';')
    .map((v) => v.trim())
    .filter(Boolean);
  const rounds = Number(ctx.env.BENCH_DRAIN_ROUNDS ?? 1);
  const suffix = Date.now().toString(36);
  const schema = `bench_drain_${suffix}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-bench-drain-'));
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  const kafka = createKafka({ brokers, clientId: 'bench-drain', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const created: string[] = [];
  const rows: Array<Record<string, unknown>> = [];
  try {
    await db.query(`CREATE SCHEMA ${schema}`);
    for (const ddl of changeTableDdl('postgresql', {
      changeTable: `${schema}.change_log`,
      keyColumns: ['record_id'],
    })) {
      await db.query(ddl);
    }
    await db.query(`CREATE TABLE ${schema}.snap (${COLUMNS})`);
    ctx.log(`drain: loading ${n} rows…`);
    for (let from = 1; from <= n; from += 100_000) {
      await db.query(`INSERT INTO ${schema}.snap ${ROW_SQL(from, Math.min(n, from + 99_999))}`);
    }
    await db.query(`ANALYZE ${schema}.snap`);
    for (let round = 1; round <= rounds; round++) {
      for (const [v, variant] of variants.entries()) {
        const id = `${suffix}-${round}-${v}`;
        const prefix = `bench-drain-${id}`;
        const topic = `${prefix}.${schema}.snap`;
        await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
        created.push(topic);
        const props = await writeProps(
          path.join(dir, `worker-${id}.properties`),
          clusterProps(brokers, `bench-drain-${id}`, {
            'session.timeout.ms': '10000',
            'heartbeat.interval.ms': '3000',
            'offset.flush.interval.ms': '10000',
            'log.level': 'WARN',
          }),
        );
        // The child inherits this environment at spawn time.
        const saved = {
          semi: process.env[SEMI_SPACE_ENV],
          options: process.env.NODE_OPTIONS,
          thread: process.env[PRODUCER_THREAD_ENV],
        };
        const threaded = variant.endsWith('+thread');
        const base = threaded ? variant.slice(0, -'+thread'.length) : variant;
        if (threaded) process.env[PRODUCER_THREAD_ENV] = '1';
        else delete process.env[PRODUCER_THREAD_ENV];
        if (base !== 'launcher') process.env[SEMI_SPACE_ENV] = '0';
        if (base !== 'launcher' && base !== 'node-default') {
          process.env.NODE_OPTIONS = `${saved.options ?? ''} ${base}`.trim();
        }
        const worker = await startWorker(props).finally(() => {
          for (const [key, value] of [
            [SEMI_SPACE_ENV, saved.semi],
            ['NODE_OPTIONS', saved.options],
            [PRODUCER_THREAD_ENV, saved.thread],
          ] as const) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
          }
        });
        const pid = worker.proc.pid!;
        try {
          const startRss = (await rssMb(pid)).rss;
          const cpu0 = await cpuMs(pid);
          const mainCpu0 = await cpuMs(pid, pid);
          const threads0 = await cpuMsByThreadName(pid);
          const t0 = performance.now();
          await waitFor(
            async () => {
              const r = await rest(worker.url, 'PUT', '/connectors/drain/config', {
                'connector.class': 'ErpSource',
                'connection.url': pgUrl,
                'change.table': `${schema}.change_log`,
                'topic.prefix': prefix,
                'table.include.list': `${schema}\\.snap`,
                'key.converter': JSON_CONVERTER,
                'key.converter.schemas.enable': 'false',
                'value.converter': JSON_CONVERTER,
                'value.converter.schemas.enable': 'false',
              });
              if (r.status >= 400 && r.status !== 409) throw new Error(JSON.stringify(r.body));
              return r.status === 409 ? null : r;
            },
            60_000,
            'the worker to accept the connector',
          );
          let first = 0;
          let last = 0;
          for (;;) {
            const offsets = await admin.fetchTopicOffsets(topic);
            const count = offsets.reduce((sum, o) => sum + Number(o.high), 0);
            if (count > 0 && first === 0) first = performance.now();
            if (count >= n) {
              last = performance.now();
              break;
            }
            if (worker.proc.exitCode !== null)
              throw new Error(`the worker exited: ${worker.stderr.slice(-5).join('\n')}`);
            if (performance.now() - t0 > 30 * 60_000) throw new Error(`only ${count} of ${n} rows after 30 minutes`);
            await new Promise((r) => setTimeout(r, 250));
          }
          const cpu = ((await cpuMs(pid)) - cpu0) / 1000;
          const mainCpu = ((await cpuMs(pid, pid)) - mainCpu0) / 1000;
          // Where the CPU went besides the main thread: the producer's thread, V8's GC helpers, libuv's pool.
          const byThread: Record<string, number> = {};
          for (const [name, ms] of await cpuMsByThreadName(pid)) {
            byThread[name] = Math.round(((ms - (threads0.get(name) ?? 0)) * 1000) / n);
          }
          const { peak } = await rssMb(pid);
          const seconds = (last - first) / 1000;
          const row = {
            bench: 'drain',
            case: 'snapshot',
            round,
            rows: n,
            variant,
            rows_per_s: Math.round(n / seconds),
            seconds: Math.round(seconds * 100) / 100,
            worker_cpu_s: Math.round(cpu * 100) / 100,
            worker_cpu_us_per_row: Math.round((cpu * 1e6) / n),
            main_thread_cpu_us_per_row: Math.round((mainCpu * 1e6) / n),
            cpu_us_per_row_by_thread_name: byThread,
            start_rss_mb: startRss,
            peak_rss_mb: peak,
            target_peak_rss_mb: 300,
            load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
            node: process.version,
          };
          rows.push(row);
          ctx.log(JSON.stringify(row));
          ctx.log(
            `drain/snapshot (round ${round}, ${variant}): ${n} rows at ${row.rows_per_s} rows/s, ` +
              `${row.worker_cpu_us_per_row} µs worker CPU per row (main thread ${row.main_thread_cpu_us_per_row}), worker RSS ${startRss} → peak ${peak} MB ` +
              `(target ≤ 300 MB: ${peak <= 300 ? 'met' : 'missed'}); load ${row.load_average.join(' ')}`,
          );
        } finally {
          await rest(worker.url, 'DELETE', '/connectors/drain').catch(() => {});
          await stopWorker(worker);
        }
      }
    }
  } finally {
    await admin.deleteTopics({ topics: created }).catch(() => {});
    await admin.disconnect().catch(() => {});
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db.end();
  }
  return [];
}

export const drainBench: Bench = {
  name: 'drain',
  description: 'worker process: peak RSS and rows/s while an ErpSource snapshots N rows (JSON converters)',
  run,
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run({
    env: process.env,
    records: Number(process.env.BENCH_RECORDS ?? 1_000_000),
    log: (l) => process.stdout.write(`${l}\n`),
  });
}
