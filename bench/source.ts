/**
 * ErpSource benchmark (issue 4): PostgreSQL change tables → ErpSource task → Avro (registry) → Kafka.
 *
 *   npx tsx bench/source.ts            # BENCH_RECORDS changes (default 1,000,000) over 2 tables of 15 columns
 *   BENCH_RECORDS=100000 BENCH_LATENCY_SECONDS=10 npx tsx bench/source.ts
 *
 * Needs PG_URL, KAFKA_BROKERS and SCHEMA_REGISTRY_URL (`eval "$(scripts/stack env)"`). Cases:
 * - stream: drain N committed changes; rows/s, and the ratio to a raw producer sending the same serialized
 *   messages (the first 200,000) in the same batches in the same run (target ≥ 0.6); loop_s splits the loop's
 *   wall time into waiting for poll(), converting, and waiting for the previous send;
 * - latency: a steady 1,000 changes/s with poll.interval.ms=100; commit (INSERT returned) → Kafka ack, p50/p99
 *   (target p99 ≤ 300 ms);
 * - snapshot (run first, in a fresh process state): N rows; rows/s and peak RSS (target ≤ 300 MB).
 * The loop is the worker's: poll, convert, send (acks=all), commit offsets after the ack — one batch in flight,
 * so memory is bounded by max.batch.size.
 * BENCH_CASES=stream (any of snapshot, stream, latency) runs only those cases; BENCH_MAX_BATCH sets the streaming
 * case's max.batch.size (default 2048, the connector's default).
 */
import pg from 'pg';
import { loadavg } from 'node:os';
import { ErpSourceTask } from '../connectors/erp-source/task.js';
import { changeTableDdl, changeTriggersDdl } from '../connectors/erp-source/setup-sql.js';
import { type SourceRecord, silentLogger } from '../runtime/api/index.js';
import { AvroConverter } from '../runtime/converters/index.js';
import { type Producer, createKafka, createProducer, ensureTopics } from '../runtime/kafka/index.js';
import { MemoryOffsetStore } from '../test/integration/connectors/erp-source/harness.js';
import { type Bench, type BenchContext, BenchSetupError } from './support.js';

type Message = { key: Buffer | null; value: Buffer | null; headers: Record<string, string> };

const COLUMNS = `id bigint PRIMARY KEY, ref varchar(40) NOT NULL, customer_id integer, amount numeric(19,4),
  weight numeric(12,3), qty integer, status varchar(20), note text, created_at timestamp(6), updated_at timestamptz,
  due date, priority smallint, active boolean, tracking uuid, payload jsonb`;
const ROW_SQL = (from: string, to: string) => `SELECT g, 'REF-' || g, g % 1000, (g * 1.2345)::numeric(19,4), g % 500,
  g % 7, 'st' || (g % 5), md5(g::text), clock_timestamp(), clock_timestamp(), current_date, (g % 3)::smallint,
  g % 2 = 0, gen_random_uuid(), jsonb_build_object('g', g) FROM generate_series(${from}, ${to}) g`;

function env(name: string): string {
  const v = process.env[name]?.trim();
  if (!v) throw new BenchSetupError(`${name} is not set: eval "$(scripts/stack env)"`);
  return v;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

class Pipeline {
  readonly store = new MemoryOffsetStore();
  readonly keyConv = new AvroConverter();
  readonly valueConv = new AvroConverter();
  task = new ErpSourceTask();
  peakRss = process.memoryUsage.rss();
  captured: Message[][] | null = null;
  /**
   * At most this many messages are kept for the raw-producer comparison: keeping all of them (1.4 GB at 1M)
   * made the pipeline under test pay for the comparison's memory in GC time.
   */
  captureLimit = 200_000;
  private capturedCount = 0;
  onAck: ((records: SourceRecord[], at: number) => void) | null = null;

  constructor(
    private readonly producer: Producer,
    registryUrl: string,
  ) {
    this.keyConv.configure({ 'schema.registry.url': registryUrl }, true);
    this.valueConv.configure({ 'schema.registry.url': registryUrl }, false);
  }

  async start(props: Record<string, string>): Promise<void> {
    this.task = new ErpSourceTask();
    this.task.initialize({
      taskId: 0,
      connectorName: 'bench',
      offsetStorageReader: this.store,
      logger: silentLogger,
      status: { progress: () => {} },
    });
    await this.task.start(props);
  }

  private inflight: Promise<void> | null = null;

  /**
   * One round: poll and convert the next batch while the previous one is still being sent (at most one batch
   * in flight, so memory stays bounded), then send it; offsets are committed when its ack arrives, in order.
   * Returns the change events polled.
   */
  /** Where the loop's wall time goes (seconds): waiting for poll(), converting, waiting for the previous send. */
  readonly timing = { poll_s: 0, convert_s: 0, send_wait_s: 0 };

  async step(): Promise<number> {
    const tp = performance.now();
    const records = (await this.task.poll()) ?? [];
    const tc = performance.now();
    this.timing.poll_s += (tc - tp) / 1000;
    if (records.length === 0) {
      await this.flush();
      return 0;
    }
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const m: Message = {
        key: await this.keyConv.fromConnectData(r.topic, r.headers, r.keySchema, r.key),
        value: await this.valueConv.fromConnectData(r.topic, r.headers, r.valueSchema, r.value),
        headers: Object.fromEntries(r.headers.map((h) => [h.key, String(h.value)])),
      };
      const list = byTopic.get(r.topic);
      if (list) list.push(m);
      else byTopic.set(r.topic, [m]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const tf = performance.now();
    this.timing.convert_s += (tf - tc) / 1000;
    await this.flush();
    this.timing.send_wait_s += (performance.now() - tf) / 1000;
    this.inflight = this.producer.sendBatch({ acks: -1, topicMessages }).then(() => {
      const at = Date.now();
      this.store.commit(records);
      this.onAck?.(records, at);
    });
    if (this.captured && this.capturedCount < this.captureLimit) {
      this.captured.push(...topicMessages.map((t) => t.messages.map((m) => ({ ...m, topic: t.topic }))));
      this.capturedCount += records.length;
    }
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
    return records.filter((r) => r.value !== null).length;
  }

  async flush(): Promise<void> {
    const f = this.inflight;
    this.inflight = null;
    await f;
  }
}

export const sourceBench: Bench = {
  name: 'source',
  description: 'ErpSource PostgreSQL → Avro → Kafka: streaming rows/s vs raw producer, latency, snapshot',
  async run(ctx: BenchContext): Promise<never[]> {
    const pgUrl = env('PG_URL');
    const brokers = env('KAFKA_BROKERS');
    const registryUrl = env('SCHEMA_REGISTRY_URL');
    const n = ctx.records;
    const latencySeconds = Number(ctx.env.BENCH_LATENCY_SECONDS ?? 20);
    // BENCH_CASES=stream (comma-separated: snapshot, stream, latency) for quick iterations on one case.
    const cases = new Set((ctx.env.BENCH_CASES ?? 'snapshot,stream,latency').split(',').map((c) => c.trim()));
    const schema = `bench_${Date.now().toString(36)}`;
    const prefix = `bench${Date.now().toString(36)}`;
    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    const kafka = createKafka({ brokers, clientId: 'erp-source-bench', logLevel: 'nothing' });
    const admin = kafka.admin();
    const producer = createProducer(kafka);
    const raw = createProducer(kafka);
    const results: Record<string, unknown> = { bench: 'source', changes: n, node: process.version };
    try {
      await db.query(`CREATE SCHEMA ${schema}`);
      for (const ddl of changeTableDdl('postgresql', {
        changeTable: `${schema}.change_log`,
        keyColumns: ['record_id'],
      })) {
        await db.query(ddl);
      }
      for (const t of ['t1', 't2']) {
        await db.query(`CREATE TABLE ${schema}.${t} (${COLUMNS})`);
        for (const ddl of changeTriggersDdl('postgresql', {
          changeTable: `${schema}.change_log`,
          keyColumns: ['record_id'],
          table: `${schema}.${t}`,
          baseKeyColumns: ['id'],
        })) {
          await db.query(ddl);
        }
      }
      await db.query(`CREATE TABLE ${schema}.snap (${COLUMNS})`);
      await admin.connect();
      await ensureTopics(
        admin,
        ['t1', 't2', 'snap'].map((t) => ({ topic: `${prefix}.${schema}.${t}`, numPartitions: 3 })),
      );
      await producer.connect();
      await raw.connect();
      const props = (include: string, extra: Record<string, string> = {}) => ({
        'connection.url': pgUrl,
        'change.table': `${schema}.change_log`,
        'topic.prefix': prefix,
        'table.include.list': `${schema}\\.(${include})`,
        ...extra,
      });

      // ---- snapshot (first, so its peak RSS is not inflated by the other cases) ----
      if (cases.has('snapshot')) {
        ctx.log(`source: loading ${n} rows for the snapshot…`);
        for (let from = 1; from <= n; from += 100_000) {
          await db.query(`INSERT INTO ${schema}.snap ${ROW_SQL(String(from), String(Math.min(n, from + 99_999)))}`);
        }
        const sp = new Pipeline(producer, registryUrl);
        sp.peakRss = process.memoryUsage.rss();
        const rssSampler = setInterval(() => {
          const rss = process.memoryUsage.rss();
          if (rss > sp.peakRss) sp.peakRss = rss;
        }, 50);
        await sp.start(props('snap'));
        const s0 = performance.now();
        let snapped = 0;
        while (snapped < n) snapped += await sp.step();
        await sp.flush();
        const snapSeconds = (performance.now() - s0) / 1000;
        clearInterval(rssSampler);
        await sp.task.stop();
        results.snapshot = {
          rows: n,
          rows_per_s: Math.round(n / snapSeconds),
          seconds: Number(snapSeconds.toFixed(2)),
          peak_rss_mb: Math.round(sp.peakRss / 1048576),
          target_peak_rss_mb: 300,
        };
      }
      // ---- streaming throughput vs raw producer ----
      if (cases.has('stream')) {
        ctx.log(`source: inserting ${n} changes into 2 tables of 15 columns (triggers write the change table)…`);
        const p = new Pipeline(producer, registryUrl);
        await p.start(
          props('t1|t2', { 'snapshot.mode': 'never', 'max.batch.size': ctx.env.BENCH_MAX_BATCH ?? '2048' }),
        );
        await p.step();
        const half = Math.floor(n / 2);
        for (let from = 1; from <= n; from += 50_000) {
          const to = Math.min(n, from + 49_999);
          const t = from <= half ? 't1' : 't2';
          await db.query(`INSERT INTO ${schema}.${t} ${ROW_SQL(String(from), String(to))}`);
        }
        p.captured = [];
        let delivered = 0;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        while (delivered < n) delivered += await p.step();
        await p.flush();
        const streamSeconds = (performance.now() - t0) / 1000;
        const streamCpu = process.cpuUsage(cpu0);
        const captured = p.captured;
        p.captured = null;
        await p.task.stop();
        const t1 = performance.now();
        let rawCount = 0;
        for (const batch of captured) {
          rawCount += batch.length;
          const byTopic = new Map<string, Message[]>();
          for (const m of batch as Array<Message & { topic: string }>) {
            const list = byTopic.get(m.topic);
            if (list) list.push(m);
            else byTopic.set(m.topic, [m]);
          }
          await raw.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          });
        }
        const rawSeconds = (performance.now() - t1) / 1000;
        const streamRate = n / streamSeconds;
        const rawRate = rawCount / rawSeconds;
        results.stream = {
          rows_per_s: Math.round(streamRate),
          seconds: Number(streamSeconds.toFixed(2)),
          cpu_s: Number(((streamCpu.user + streamCpu.system) / 1e6).toFixed(2)),
          raw_producer_msgs_per_s: Math.round(rawRate),
          raw_producer_msgs: rawCount,
          max_batch_size: Number(ctx.env.BENCH_MAX_BATCH ?? 2048),
          ratio_to_raw: Number((streamRate / rawRate).toFixed(2)),
          target_ratio: 0.6,
          peak_rss_mb: Math.round(p.peakRss / 1048576),
          loop_s: Object.fromEntries(Object.entries(p.timing).map(([k, v]) => [k, Number(v.toFixed(2))])),
        };
        captured.length = 0;
      }

      // ---- latency at a steady 1,000 changes/s ----
      if (cases.has('latency')) {
        const lp = new Pipeline(producer, registryUrl);
        await lp.start(props('t1', { 'snapshot.mode': 'never', 'poll.interval.ms': '100' }));
        await lp.step();
        const committedAt = new Map<string, number>();
        const latencies: number[] = [];
        lp.onAck = (records, at) => {
          for (const r of records) {
            if (r.value === null) continue;
            const id = String((r.key as { get(f: string): unknown }).get('id'));
            const c = committedAt.get(id);
            if (c !== undefined) latencies.push(at - c);
          }
        };
        let running = true;
        const writer = (async () => {
          const w = new pg.Client({ connectionString: pgUrl });
          await w.connect();
          let next = 10_000_000;
          const start = Date.now();
          let tick = 0;
          while (running) {
            tick++;
            const from = next;
            next += 10;
            await w.query(`INSERT INTO ${schema}.t1 ${ROW_SQL(String(from), String(from + 9))}`);
            const now = Date.now();
            for (let id = from; id < from + 10; id++) committedAt.set(String(id), now);
            const due = start + tick * 10; // 10 rows every 10 ms = 1,000/s
            if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          }
          await w.end();
        })();
        const lEnd = Date.now() + latencySeconds * 1000;
        while (Date.now() < lEnd) await lp.step();
        running = false;
        await writer;
        for (let i = 0; i < 20 && latencies.length < committedAt.size; i++) await lp.step();
        await lp.flush();
        await lp.task.stop();
        const sorted = latencies.sort((a, b) => a - b);
        results.latency = {
          changes: latencies.length,
          seconds: latencySeconds,
          achieved_rate_per_s: Math.round(committedAt.size / latencySeconds),
          p50_ms: percentile(sorted, 50),
          p99_ms: percentile(sorted, 99),
          max_ms: sorted.at(-1),
          target_p99_ms: 300,
        };
      }

      results.load_average_1m = Number(loadavg()[0]!.toFixed(2));

      ctx.log(JSON.stringify(results));
      const s = results.stream as Record<string, number> | undefined;
      const l = results.latency as Record<string, number> | undefined;
      const sn = results.snapshot as Record<string, number> | undefined;
      if (s) {
        ctx.log(
          `source/stream: ${s.rows_per_s} rows/s (raw producer ${s.raw_producer_msgs_per_s} msg/s, ratio ${s.ratio_to_raw}, ` +
            `target ≥ 0.6 ${s.ratio_to_raw! >= 0.6 ? 'OK' : 'BELOW'}); peak RSS ${s.peak_rss_mb} MB`,
        );
      }
      if (l) {
        ctx.log(
          `source/latency: ${l.changes} changes at ~${l.achieved_rate_per_s}/s, p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms ` +
            `(target ≤ 300 ms ${l.p99_ms! <= 300 ? 'OK' : 'BELOW'})`,
        );
      }
      if (sn) {
        ctx.log(
          `source/snapshot: ${sn.rows} rows at ${sn.rows_per_s} rows/s, peak RSS ${sn.peak_rss_mb} MB ` +
            `(target ≤ 300 MB ${sn.peak_rss_mb! <= 300 ? 'OK' : 'BELOW'}); load ${String(results.load_average_1m)}`,
        );
      }
    } finally {
      await producer.disconnect().catch(() => {});
      await raw.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: ['t1', 't2', 'snap'].map((t) => `${prefix}.${schema}.${t}`) }).catch(() => {});
      await admin.disconnect().catch(() => {});
      await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await db.end();
    }
    return [];
  },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.env.BENCH_RECORDS ?? 1_000_000);
  sourceBench
    .run({ env: process.env, records, log: (l) => process.stdout.write(`${l}\n`) })
    .then(() => process.exit(0))
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(e instanceof BenchSetupError ? 2 : 1);
    });
}
