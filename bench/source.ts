/**
 * ErpSource benchmark (issue 4): PostgreSQL change tables → ErpSource task → Avro (registry) → Kafka.
 *
 *   npx tsx bench/source.ts            # BENCH_RECORDS changes (default 1,000,000) over 2 tables of 15 columns
 *   BENCH_RECORDS=100000 BENCH_LATENCY_SECONDS=10 npx tsx bench/source.ts
 *
 * Needs PG_URL, KAFKA_BROKERS and SCHEMA_REGISTRY_URL (`eval "$(scripts/stack env)"`). Cases:
 * - stream: drain N committed changes; rows/s, and the ratio to a raw kafkajs producer sending the same serialized
 *   messages (the first 200,000) in the same batches in the same run (target ≥ 0.6);
 * - latency: a steady 1,000 changes/s (10 rows committed every 10 ms); commit (INSERT returned) → Kafka ack,
 *   p50/p99/max, in BENCH_LATENCY_ROUNDS (default 3) interleaved rounds of three settings: the PostgreSQL commit
 *   wake-up at default settings (target p99 ≤ 50 ms), plain adaptive polling at default settings (notify.enabled=false,
 *   target p99 ≤ 250 ms) and the fixed 500 ms interval of before, for reference;
 * - snapshot (run first, in a fresh process state): N rows; rows/s and peak RSS (target ≤ 300 MB).
 * The loop is the worker's own WorkerSourceTask with the worker's producer: poll, convert, send (acks=all), offsets
 * after the ack; the next batch is polled and converted while one is in flight, so memory stays bounded by
 * max.batch.size.
 * BENCH_CASES=stream (any of snapshot, stream, latency) runs only those cases; BENCH_MAX_BATCH sets the streaming
 * case's max.batch.size (default: the connector's). BENCH_CONVERTER picks the key and value converters:
 * avro (default, with the registry), json (schemas.enable=true) or json-plain (schemas.enable=false, what the
 * Debezium comparison uses). The stream case reports the process's CPU per event (user+system µs / changes): it is
 * the figure that holds up on a shared, loaded machine.
 */
import pg from 'pg';
import { loadavg } from 'node:os';
import { erpSourceConfigDef } from '../connectors/erp-source/config.js';
import { ErpSourceTask } from '../connectors/erp-source/task.js';
import { changeTableDdl, changeTriggersDdl } from '../connectors/erp-source/setup-sql.js';
import {
  type Converter,
  type OffsetStorageReader,
  type SourceOffset,
  type SourcePartition,
  type SourceRecord,
  type SourceTask,
  silentLogger,
} from '../runtime/api/index.js';
import { AvroConverter, JsonConverter, SimpleHeaderConverter } from '../runtime/converters/index.js';
import { ErrorReporter } from '../runtime/errors/reporter.js';
import { errorHandlingSettings } from '../runtime/worker/connector-settings.js';
import { createKafka, createProducer, ensureTopics } from '../runtime/kafka/index.js';
import { TransformChain } from '../runtime/transforms/index.js';
import { KafkaJsPort, type OutRecord, type ProducerPort } from '../runtime/worker/kafka-port.js';
import { WorkerSourceTask } from '../runtime/worker/source-task.js';
import { canonicalJson, type OffsetEntry, type OffsetStore } from '../runtime/worker/stores.js';
import { type Bench, type BenchContext, BenchSetupError, stackEnv } from './support.js';
import { COLUMNS, ROW_SQL } from './erp-rows.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The worker's offset store, in memory, also read back by the task (as the worker's reader does). */
class MemoryOffsets implements OffsetStore, OffsetStorageReader {
  private readonly stored = new Map<string, SourceOffset>();
  async start(): Promise<void> {}
  async get(_c: string, partition: SourcePartition): Promise<SourceOffset | null> {
    return this.stored.get(canonicalJson(partition)) ?? null;
  }
  async set(_c: string, entries: readonly OffsetEntry[]): Promise<void> {
    for (const e of entries) if (e.offset) this.stored.set(canonicalJson(e.partition), e.offset);
  }
  async list(): Promise<OffsetEntry[]> {
    return [];
  }
  offset(partition: SourcePartition): Promise<SourceOffset | null> {
    return this.get('', partition);
  }
  async offsets(partitions: SourcePartition[]): Promise<Map<SourcePartition, SourceOffset | null>> {
    return new Map(await Promise.all(partitions.map(async (p) => [p, await this.get('', p)] as const)));
  }
}

/** The bench's key or value converter (BENCH_CONVERTER) and its class name. */
function benchConverter(kind: string, registryUrl: string, isKey: boolean): [Converter, string] {
  if (kind === 'avro') {
    const c = new AvroConverter();
    c.configure({ 'schema.registry.url': registryUrl }, isKey);
    return [c, 'io.confluent.connect.avro.AvroConverter'];
  }
  if (kind === 'json' || kind === 'json-plain') {
    const c = new JsonConverter();
    c.configure({ 'schemas.enable': String(kind === 'json') }, isKey);
    return [c, 'org.apache.kafka.connect.json.JsonConverter'];
  }
  throw new BenchSetupError(`BENCH_CONVERTER must be avro, json or json-plain, got ${JSON.stringify(kind)}`);
}

/**
 * The worker's own source loop (WorkerSourceTask: poll, transforms, converters, send with acks=all through the
 * worker's producer, offsets after the ack, one batch in flight) around an ErpSourceTask. It is built here
 * rather than through a worker process so the figures are the loop's, not REST or process start-up.
 */
class Pipeline {
  readonly store = new MemoryOffsets();
  readonly task = new ErpSourceTask();
  peakRss = process.memoryUsage.rss();
  /** Serialized messages of the first captureLimit records, in their batches, for the raw-producer replay. */
  captured: OutRecord[][] | null = null;
  captureLimit = Number(process.env.BENCH_CAPTURE ?? 200_000);
  private capturedCount = 0;
  produced = 0;
  onAck: ((record: SourceRecord, at: number) => void) | null = null;
  /** Set before start() for onAck to be called. */
  trackAcks = false;
  private runner: WorkerSourceTask | null = null;
  private failure: unknown = null;
  private readonly produceWaiters: Array<() => void> = [];

  constructor(
    private readonly producer: ProducerPort,
    private readonly registryUrl: string,
    private readonly converter = 'avro',
  ) {}

  async start(props: Record<string, string>): Promise<void> {
    const [keyConv, keyClass] = benchConverter(this.converter, this.registryUrl, true);
    const [valueConv, valueClass] = benchConverter(this.converter, this.registryUrl, false);
    const header = new SimpleHeaderConverter();
    header.configure({});
    this.task.initialize({
      taskId: 0,
      connectorName: 'bench',
      offsetStorageReader: this.store,
      logger: silentLogger,
      status: { progress: () => {} },
    });
    if (this.trackAcks) {
      // Only the latency case hooks the acks: a task with commitRecord makes the worker keep each batch's records
      // until Kafka acknowledged them, which the ErpSourceTask (without one) does not pay for.
      const task: SourceTask = this.task;
      const own = task.commitRecord?.bind(task);
      task.commitRecord = (r, m) => {
        own?.(r, m);
        this.onAck?.(r, Date.now());
      };
    }
    const capturing: ProducerPort = {
      send: (records) => {
        if (this.captured && this.capturedCount < this.captureLimit) {
          this.captured.push([...records]);
          this.capturedCount += records.length;
        }
        const rss = process.memoryUsage.rss();
        if (rss > this.peakRss) this.peakRss = rss;
        return this.producer.send(records);
      },
      close: async () => {},
    };
    const errors = errorHandlingSettings({});
    this.runner = new WorkerSourceTask({
      connector: 'bench',
      taskId: 0,
      task: this.task,
      taskClass: 'erpstream.ErpSourceConnector',
      props,
      chain: TransformChain.empty<SourceRecord>(),
      converters: {
        key: keyConv,
        keyClass,
        value: valueConv,
        valueClass,
        header,
        headerClass: 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
      },
      producer: capturing,
      offsets: this.store,
      errors,
      reporter: new ErrorReporter({ connector: 'bench', task: 0 }, errors, silentLogger, null),
      logger: silentLogger,
      listener: {
        onState: (state, error) => {
          if (state === 'FAILED') {
            this.failure = error ?? new Error('the source task failed');
            for (const w of this.produceWaiters.splice(0)) w();
          }
        },
      },
      offsetFlushIntervalMs: 1000,
      onTopic: () => {},
      ensureTopic: async () => {},
      metrics: {
        polled: () => {},
        produced: (n) => {
          this.produced += n;
          for (const w of this.produceWaiters.splice(0)) w();
        },
        offsetCommit: () => {},
      },
    });
    await this.runner.start(false);
  }

  /** Parks the loop once its batch in flight is acknowledged (the worker's pause). */
  async pause(): Promise<void> {
    this.runner!.pause();
    await new Promise((r) => setTimeout(r, 500));
  }

  resume(): void {
    this.runner!.resume();
  }

  /** Waits until Kafka acknowledged `count` records in total. */
  async waitForProduced(count: number): Promise<void> {
    while (this.produced < count) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => this.produceWaiters.push(r));
    }
    if (this.failure) throw this.failure;
  }

  async stop(): Promise<void> {
    await this.runner?.stop(30_000);
  }
}

export const sourceBench: Bench = {
  name: 'source',
  description: 'ErpSource PostgreSQL → Avro → Kafka: streaming rows/s vs raw producer, latency, snapshot',
  async run(ctx: BenchContext): Promise<never[]> {
    const pgUrl = stackEnv('PG_URL');
    const brokers = stackEnv('KAFKA_BROKERS');
    const registryUrl = stackEnv('SCHEMA_REGISTRY_URL');
    const n = ctx.records;
    const latencySeconds = Number(ctx.env.BENCH_LATENCY_SECONDS ?? 15);
    // BENCH_CASES=stream (comma-separated: snapshot, stream, latency) for quick iterations on one case.
    const cases = new Set((ctx.env.BENCH_CASES ?? 'snapshot,stream,latency').split(',').map((c) => c.trim()));
    const maxBatch = ctx.env.BENCH_MAX_BATCH ?? String(erpSourceConfigDef.key('max.batch.size')!.defaultValue);
    const converter = ctx.env.BENCH_CONVERTER?.trim() || 'avro';
    benchConverter(converter, registryUrl, false);
    const schema = `bench_${Date.now().toString(36)}`;
    const prefix = `bench${Date.now().toString(36)}`;
    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    const kafka = createKafka({ brokers, clientId: 'erp-source-bench', logLevel: 'nothing' });
    const admin = kafka.admin();
    // The worker's producer for the pipeline; a bare kafkajs producer for the comparison, as issue #4 defines it.
    const producer = await new KafkaJsPort({ brokers: brokers.split(','), clientId: 'erp-source-bench' }).producer(
      'erp-source-bench',
    );
    const raw = createProducer(kafka);
    const results: Record<string, unknown> = { bench: 'source', changes: n, node: process.version, converter };
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
        const sp = new Pipeline(producer, registryUrl, converter);
        sp.peakRss = process.memoryUsage.rss();
        const startRss = sp.peakRss;
        // What the peak is made of: V8 heap in use and allocated, and Buffers outside the heap.
        let atPeak = process.memoryUsage();
        const rssSampler = setInterval(() => {
          const m = process.memoryUsage();
          if (m.rss > sp.peakRss) {
            sp.peakRss = m.rss;
            atPeak = m;
          }
        }, 50);
        const s0 = performance.now();
        await sp.start(
          props('snap', ctx.env.BENCH_SNAPSHOT_FETCH ? { 'snapshot.fetch.size': ctx.env.BENCH_SNAPSHOT_FETCH } : {}),
        );
        await sp.waitForProduced(n);
        const snapSeconds = (performance.now() - s0) / 1000;
        clearInterval(rssSampler);
        await sp.stop();
        results.snapshot = {
          rows: n,
          rows_per_s: Math.round(n / snapSeconds),
          seconds: Number(snapSeconds.toFixed(2)),
          peak_rss_mb: Math.round(sp.peakRss / 1048576),
          start_rss_mb: Math.round(startRss / 1048576),
          at_peak_heap_used_mb: Math.round(atPeak.heapUsed / 1048576),
          at_peak_heap_total_mb: Math.round(atPeak.heapTotal / 1048576),
          at_peak_external_mb: Math.round(atPeak.external / 1048576),
          target_peak_rss_mb: 300,
        };
      }
      // ---- streaming throughput vs raw producer ----
      if (cases.has('stream')) {
        const p = new Pipeline(producer, registryUrl, converter);
        await p.start(props('t1|t2', { 'snapshot.mode': 'never', 'max.batch.size': maxBatch }));
        // The stream position is taken on the first polls; then the loop is paused while the changes are written,
        // so the case measures draining N committed changes.
        await new Promise((r) => setTimeout(r, 1500));
        await p.pause();
        ctx.log(`source: inserting ${n} changes into 2 tables of 15 columns (triggers write the change table)…`);
        const half = Math.floor(n / 2);
        for (let from = 1; from <= n; from += 50_000) {
          const to = Math.min(n, from + 49_999);
          const t = from <= half ? 't1' : 't2';
          await db.query(`INSERT INTO ${schema}.${t} ${ROW_SQL(String(from), String(to))}`);
        }
        p.captured = [];
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        p.resume();
        await p.waitForProduced(n);
        const streamSeconds = (performance.now() - t0) / 1000;
        const streamCpu = process.cpuUsage(cpu0);
        const captured = p.captured;
        p.captured = null;
        await p.stop();
        // The same serialized records in the same batches, through a bare kafkajs producer (acks=all, idempotent).
        // As the worker's producer does, a batch goes out in requests under ~900 KB (JSON with schemas makes a
        // 2048-record batch several MB, which the broker refuses as one record batch).
        const requests = captured.flatMap((batch) => {
          const parts: OutRecord[][] = [[]];
          let bytes = 0;
          for (const m of batch) {
            const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 100;
            if (bytes + size > 900_000 && parts.at(-1)!.length > 0) {
              parts.push([]);
              bytes = 0;
            }
            parts.at(-1)!.push(m);
            bytes += size;
          }
          return parts;
        });
        const batches = requests.map((batch) => {
          const byTopic = new Map<
            string,
            Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }>
          >();
          for (const m of batch) {
            const list = byTopic.get(m.topic) ?? [];
            byTopic.set(m.topic, list);
            list.push({
              key: m.key,
              value: m.value,
              headers: Object.fromEntries(m.headers.map(([k, v]) => [k, v ?? Buffer.alloc(0)])),
            });
          }
          return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
        });
        const rawCount = captured.reduce((sum, b) => sum + b.length, 0);
        const t1 = performance.now();
        for (const topicMessages of batches) await raw.sendBatch({ acks: -1, topicMessages });
        const rawSeconds = (performance.now() - t1) / 1000;
        const streamRate = n / streamSeconds;
        const rawRate = rawCount / rawSeconds;
        results.stream = {
          rows_per_s: Math.round(streamRate),
          seconds: Number(streamSeconds.toFixed(2)),
          cpu_s: Number(((streamCpu.user + streamCpu.system) / 1e6).toFixed(2)),
          cpu_us_per_event: Number(((streamCpu.user + streamCpu.system) / n).toFixed(1)),
          target_cpu_us_per_event: 20,
          raw_producer_msgs_per_s: Math.round(rawRate),
          raw_producer_msgs: rawCount,
          max_batch_size: Number(maxBatch),
          ratio_to_raw: Number((streamRate / rawRate).toFixed(2)),
          target_ratio: 0.6,
          peak_rss_mb: Math.round(p.peakRss / 1048576),
        };
      }

      // ---- latency at a steady 1,000 changes/s: commit wake-up vs plain polling, interleaved rounds ----
      if (cases.has('latency')) {
        let nextId = 10_000_000;
        /** One run: a writer commits 10 rows every 10 ms into t1; latency = INSERT returned → Kafka ack. */
        const latencyRun = async (extra: Record<string, string>): Promise<Record<string, number>> => {
          const lp = new Pipeline(producer, registryUrl, converter);
          lp.trackAcks = true;
          await lp.start(props('t1', { 'snapshot.mode': 'never', ...extra }));
          await new Promise((r) => setTimeout(r, 1000));
          const committedAt = new Map<string, number>();
          const latencies: number[] = [];
          lp.onAck = (r, at) => {
            if (r.value === null) return;
            const id = String((r.key as { get(f: string): unknown }).get('id'));
            const c = committedAt.get(id);
            if (c !== undefined) latencies.push(at - c);
          };
          let running = true;
          let written = 0;
          const writer = (async () => {
            const w = new pg.Client({ connectionString: pgUrl });
            await w.connect();
            const start = Date.now();
            // Steady state: the first 2 s are not measured. Adaptive polling is still backed off to poll.interval.ms
            // from the idle second before when the writes begin (docs/erp-source.md says what that first change waits).
            const measureFrom = start + 2000;
            let tick = 0;
            while (running) {
              tick++;
              const from = nextId;
              nextId += 10;
              await w.query(`INSERT INTO ${schema}.t1 ${ROW_SQL(String(from), String(from + 9))}`);
              const now = Date.now();
              written += 10;
              if (now >= measureFrom) for (let id = from; id < from + 10; id++) committedAt.set(String(id), now);
              const due = start + tick * 10; // 10 rows every 10 ms = 1,000/s
              if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
            }
            await w.end();
          })();
          const cpu0 = process.cpuUsage();
          await new Promise((r) => setTimeout(r, latencySeconds * 1000));
          running = false;
          await writer;
          for (let i = 0; i < 50 && latencies.length < committedAt.size; i++)
            await new Promise((r) => setTimeout(r, 100));
          const cpu = process.cpuUsage(cpu0);
          await lp.stop();
          const sorted = latencies.sort((a, b) => a - b);
          return {
            changes: latencies.length,
            achieved_rate_per_s: Math.round(written / latencySeconds),
            p50_ms: percentile(sorted, 50),
            p99_ms: percentile(sorted, 99),
            max_ms: sorted.at(-1) ?? NaN,
            cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
            load_1m: Number(loadavg()[0]!.toFixed(2)),
          };
        };
        // notify: defaults (the change table has the NOTIFY trigger of setup-sql.ts); polling: defaults without the
        // wake-up (MariaDB, SQL Server, or a change table without the trigger); 500ms: the fixed interval of before.
        const variants: Record<string, Record<string, string>> = {
          notify: {},
          polling_default: { 'notify.enabled': 'false' },
          polling_fixed_500ms: { 'notify.enabled': 'false', 'poll.interval.min.ms': '500' },
        };
        const rounds = Number(ctx.env.BENCH_LATENCY_ROUNDS ?? 3);
        const runs: Record<string, Array<Record<string, number>>> = {};
        for (let round = 0; round < rounds; round++) {
          for (const [name, extra] of Object.entries(variants)) {
            ctx.log(`source: latency round ${round + 1}/${rounds}, ${name}…`);
            (runs[name] ??= []).push(await latencyRun(extra));
          }
        }
        const spread = (xs: number[]) => {
          const v = [...xs].sort((a, b) => a - b);
          return { min: v[0]!, median: v[Math.floor((v.length - 1) / 2)]!, max: v.at(-1)! };
        };
        results.latency = {
          seconds_per_run: latencySeconds,
          rounds,
          targets: { notify_p99_ms: 50, polling_default_p99_ms: 250 },
          ...Object.fromEntries(
            Object.entries(runs).map(([name, rs]) => [
              name,
              {
                p50_ms: spread(rs.map((r) => r.p50_ms!)),
                p99_ms: spread(rs.map((r) => r.p99_ms!)),
                max_ms: spread(rs.map((r) => r.max_ms!)),
                cpu_s: spread(rs.map((r) => r.cpu_s!)),
                achieved_rate_per_s: spread(rs.map((r) => r.achieved_rate_per_s!)),
                load_1m: spread(rs.map((r) => r.load_1m!)),
                runs: rs,
              },
            ]),
          ),
        };
      }

      results.load_average_1m = Number(loadavg()[0]!.toFixed(2));

      ctx.log(JSON.stringify(results));
      const s = results.stream as Record<string, number> | undefined;
      const l = results.latency as Record<string, unknown> | undefined;
      const sn = results.snapshot as Record<string, number> | undefined;
      if (s) {
        ctx.log(
          `source/stream: ${s.rows_per_s} rows/s (raw producer ${s.raw_producer_msgs_per_s} msg/s, ratio ${s.ratio_to_raw}, ` +
            `target ≥ 0.6 ${s.ratio_to_raw! >= 0.6 ? 'OK' : 'BELOW'}); ${s.cpu_us_per_event} µs CPU per event ` +
            `(target ≤ 20 ${s.cpu_us_per_event! <= 20 ? 'OK' : 'ABOVE'}); peak RSS ${s.peak_rss_mb} MB; ` +
            `${String(results.converter)}; load ${String(results.load_average_1m)}`,
        );
      }
      if (l) {
        type Spread = { min: number; median: number; max: number };
        const targets: Record<string, number> = { notify: 50, polling_default: 250 };
        for (const name of ['notify', 'polling_default', 'polling_fixed_500ms']) {
          const v = l[name] as { p50_ms: Spread; p99_ms: Spread; max_ms: Spread; load_1m: Spread } | undefined;
          if (!v) continue;
          const f = (x: Spread) => `${x.min}/${x.median}/${x.max}`;
          const target = targets[name];
          ctx.log(
            `source/latency ${name} at 1,000 changes/s (min/median/max of ${String(l.rounds)} rounds): ` +
              `p50 ${f(v.p50_ms)} ms, p99 ${f(v.p99_ms)} ms, max ${f(v.max_ms)} ms` +
              (target === undefined
                ? ''
                : ` (target p99 ≤ ${target} ms ${v.p99_ms.median <= target ? 'OK' : 'BELOW'} on the median)`) +
              `; load ${f(v.load_1m)}`,
          );
        }
      }
      if (sn) {
        ctx.log(
          `source/snapshot: ${sn.rows} rows at ${sn.rows_per_s} rows/s, peak RSS ${sn.peak_rss_mb} MB ` +
            `(target ≤ 300 MB ${sn.peak_rss_mb! <= 300 ? 'OK' : 'BELOW'}); load ${String(results.load_average_1m)}`,
        );
      }
    } finally {
      await producer.close().catch(() => {});
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
