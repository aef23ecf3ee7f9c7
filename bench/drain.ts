/**
 * Worker memory during a drain (issue 18): a distributed worker process runs an ErpSource that snapshots N rows
 * (JSON converters without schemas) into Kafka; the worker's peak RSS (the kernel's VmHWM) and rows/s.
 * BENCH_DRAIN_CASE=stream drains N changes from the change table instead: the connector captures a warm-up change,
 * is stopped, N rows are inserted (the triggers write N change rows) and the connector is resumed; the figures are
 * the worker's peak RSS sampled every 100 ms from the resume until the topic holds all N, and its CPU per change
 * (BENCH_DRAIN_BATCH: max.batch.size, default the connector's own, as in the Debezium side-by-side bench).
 *
 *   npm run bench -- drain                       # BENCH_RECORDS rows (default 1,000,000)
 *   BENCH_RECORDS=200000 BENCH_DRAIN_ROUNDS=3 npx tsx bench/drain.ts
 *   BENCH_DRAIN_CASE=stream BENCH_DRAIN_VARIANTS=launcher BENCH_RECORDS=1000000 npm run bench -- drain
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
import type { Admin } from 'kafkajs';
import { erpSourceConfigDef } from '../connectors/erp-source/config.js';
import { changeTableDdl, changeTriggersDdl } from '../connectors/erp-source/setup-sql.js';
import { PRODUCER_THREAD_ENV, createKafka, ensureTopics } from '../runtime/kafka/index.js';
import { SEMI_SPACE_ENV } from '../runtime/worker/heap-settings.js';
import {
  clusterProps,
  rest,
  startWorker,
  stopWorker,
  waitFor,
  type WorkerProcess,
  writeProps,
} from '../test/integration/worker/distributed/cluster.js';
import { ConnectorHandle } from './debezium/connect.js';
import { rssPeak } from './debezium/process.js';
import { cpuMs, cpuMsByThreadName, rssMb } from './proc-stats.js';
import { type Bench, type BenchContext, BenchSetupError } from './support.js';
import { COLUMNS, ROW_SQL } from './erp-rows.js';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

async function run(ctx: BenchContext): Promise<[]> {
  const brokers = ctx.env.KAFKA_BROKERS?.trim();
  const pgUrl = ctx.env.PG_URL?.trim();
  if (!brokers || !pgUrl)
    throw new BenchSetupError('KAFKA_BROKERS and PG_URL must be set: eval "$(scripts/stack env)"');
  const n = ctx.records;
  if ((ctx.env.BENCH_DRAIN_CASE ?? 'snapshot') === 'stream') return runStream(ctx, brokers, pgUrl);
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
        const worker = await startVariant(await workerProps(dir, id, brokers, 10_000), variant);
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

const workerProps = (dir: string, id: string, brokers: string, flushIntervalMs: number) =>
  writeProps(
    path.join(dir, `worker-${id}.properties`),
    clusterProps(brokers, `bench-drain-${id}`, {
      'session.timeout.ms': '10000',
      'heartbeat.interval.ms': '3000',
      'offset.flush.interval.ms': String(flushIntervalMs),
      'log.level': 'WARN',
    }),
  );

/** Starts a worker for one variant (see the module comment); the variant's environment is the child's only. */
async function startVariant(props: string, variant: string): Promise<WorkerProcess> {
  // `launcher KEY=VALUE …`: as `erpstream worker start` runs, with these environment variables (its settings);
  // a head ending in `+thread` also runs the data-path producer on its own thread.
  const [first = '', ...assignments] = variant.split(/\s+/);
  const threaded = first.endsWith('+thread');
  const head = threaded ? first.slice(0, -'+thread'.length) : first;
  const launcher = head === 'launcher';
  const vars: Array<[string, string | undefined]> = launcher
    ? assignments.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)])
    : [[SEMI_SPACE_ENV, '0']];
  if (!launcher && head !== 'node-default')
    vars.push(['NODE_OPTIONS', `${process.env.NODE_OPTIONS ?? ''} ${head}`.trim()]);
  vars.push([PRODUCER_THREAD_ENV, threaded ? '1' : undefined]);
  const saved = vars.map(([key]) => [key, process.env[key]] as const);
  for (const [key, value] of vars) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return startWorker(props).finally(() => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
}

async function topicCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, o) => sum + Number(o.high), 0);
}

/** BENCH_DRAIN_CASE=stream: N changes drained from the change table by a resumed connector. */
async function runStream(ctx: BenchContext, brokers: string, pgUrl: string): Promise<[]> {
  const n = ctx.records;
  const variants = (ctx.env.BENCH_DRAIN_VARIANTS ?? 'launcher')
    .split(';')
    .map((v) => v.trim())
    .filter(Boolean);
  const rounds = Number(ctx.env.BENCH_DRAIN_ROUNDS ?? 1);
  const batch = ctx.env.BENCH_DRAIN_BATCH ?? String(erpSourceConfigDef.key('max.batch.size')!.defaultValue);
  const suffix = Date.now().toString(36);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-bench-drain-'));
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  const kafka = createKafka({ brokers, clientId: 'bench-drain', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const created: string[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [v, variant] of variants.entries()) {
        const id = `${suffix}-${round}-${v}`;
        const schema = `bench_drain_${suffix}_${round}_${v}`;
        const prefix = `bench-drain-${id}`;
        const topic = `${prefix}.${schema}.orders`;
        await db.query(`CREATE SCHEMA ${schema}`);
        const changeTable = `${schema}.change_log`;
        for (const ddl of changeTableDdl('postgresql', { changeTable, keyColumns: ['record_id'] })) await db.query(ddl);
        await db.query(`CREATE TABLE ${schema}.orders (${COLUMNS})`);
        for (const ddl of changeTriggersDdl('postgresql', {
          changeTable,
          keyColumns: ['record_id'],
          table: `${schema}.orders`,
          baseKeyColumns: ['id'],
        })) {
          await db.query(ddl);
        }
        await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
        created.push(topic);
        const worker = await startVariant(await workerProps(dir, id, brokers, 500), variant);
        const pid = worker.proc.pid!;
        const connector = new ConnectorHandle(worker.url, 'drain');
        try {
          const config = {
            'connector.class': 'ErpSource',
            'tasks.max': '1',
            'connection.url': pgUrl,
            'change.table': changeTable,
            'topic.prefix': prefix,
            'table.include.list': `${schema}\\.orders`,
            'max.batch.size': batch,
            'key.converter': JSON_CONVERTER,
            'key.converter.schemas.enable': 'false',
            'value.converter': JSON_CONVERTER,
            'value.converter.schemas.enable': 'false',
          };
          // 409 while the new worker's group settles: asked again.
          await waitFor(() => connector.create(config).then(() => true), 60_000, 'the worker to accept the connector');
          await connector.waitFor('RUNNING');
          // A warm-up change: the connector then has a committed stream position before the backlog.
          await db.query(`INSERT INTO ${schema}.orders ${ROW_SQL(0, 0)}`);
          await waitFor(async () => ((await topicCount(admin, topic)) >= 1 ? true : null), 120_000, 'the warm-up');
          await new Promise((r) => setTimeout(r, 1500)); // an offset flush (offset.flush.interval.ms=500)
          await connector.stop();
          ctx.log(`drain/stream: committing ${n} changes…`);
          for (let from = 1; from <= n; from += 100_000) {
            await db.query(`INSERT INTO ${schema}.orders ${ROW_SQL(from, Math.min(n, from + 99_999))}`);
          }
          const before = await topicCount(admin, topic);
          const startRss = (await rssMb(pid)).rss;
          const rss = rssPeak(pid);
          const cpu0 = await cpuMs(pid);
          const t0 = performance.now();
          await connector.resume();
          for (;;) {
            const count = (await topicCount(admin, topic)) - before;
            if (count >= n) break;
            if (worker.proc.exitCode !== null)
              throw new Error(`the worker exited: ${worker.stderr.slice(-5).join('\n')}`);
            if (performance.now() - t0 > 30 * 60_000) throw new Error(`only ${count} of ${n} changes after 30 minutes`);
            await new Promise((r) => setTimeout(r, 100));
          }
          const seconds = (performance.now() - t0) / 1000;
          const cpu = ((await cpuMs(pid)) - cpu0) / 1000;
          const peak = Math.round(rss.stop());
          const row = {
            bench: 'drain',
            case: 'stream',
            round,
            changes: n,
            max_batch_size: Number(batch),
            variant,
            events_per_s: Math.round(n / seconds),
            seconds: Math.round(seconds * 100) / 100,
            worker_cpu_s: Math.round(cpu * 100) / 100,
            worker_cpu_us_per_event: Math.round((cpu * 1e7) / n) / 10,
            start_rss_mb: startRss,
            peak_rss_mb: peak,
            vm_hwm_mb: (await rssMb(pid)).peak,
            target_peak_rss_mb: 300,
            load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
            node: process.version,
          };
          ctx.log(JSON.stringify(row));
          ctx.log(
            `drain/stream (round ${round}, ${variant}): ${n} changes at ${row.events_per_s} events/s, ` +
              `${row.worker_cpu_us_per_event} µs worker CPU per event, worker RSS ${startRss} → peak ${peak} MB ` +
              `(target ≤ 300 MB: ${peak <= 300 ? 'met' : 'missed'}); load ${row.load_average.join(' ')}`,
          );
        } finally {
          await connector.delete();
          await stopWorker(worker);
          await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
        }
      }
    }
  } finally {
    await admin.deleteTopics({ topics: created }).catch(() => {});
    await admin.disconnect().catch(() => {});
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
