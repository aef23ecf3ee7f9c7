/**
 * Data-path producer benchmark (issue #18 item 3): RecordProducer alone, on the real broker.
 *
 *   npx tsx bench/producer.ts                    # BENCH_RECORDS (default 500,000) records of ~600 bytes (JSON)
 *   BENCH_RECORDS=200000 BENCH_ROUNDS=3 npx tsx bench/producer.ts
 *
 * Needs KAFKA_BROKERS (`eval "$(scripts/stack env)"`). Sends keyed records to a 3-partition topic in batches of
 * BENCH_BATCH (default 2048, the connector's max.batch.size) the way the source task does: one send in flight,
 * the next batch handed over as soon as the previous one is acknowledged. Reports, per case, the CPU per record
 * of the main thread (what the connector's poll/convert competes with) and of the whole process (every thread),
 * records/s and the load average. Cases run interleaved over BENCH_ROUNDS rounds (default 2), so a neighbour's
 * load hits them alike; BENCH_CASES picks some (inline, thread).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import {
  type ProducerRecord,
  RecordProducer,
  ThreadedRecordProducer,
  createKafka,
  ensureTopics,
} from '../runtime/kafka/index.js';
import { cpuMsByThreadName } from './proc-stats.js';
import { type Bench, type BenchContext, BenchSetupError } from './support.js';

interface Port {
  send(records: readonly ProducerRecord[]): Promise<unknown[]>;
  close(): Promise<void>;
}

const CASES: Record<string, (brokers: string, clientId: string) => Promise<Port>> = {
  inline: (brokers, clientId) => RecordProducer.connect({ brokers, clientId }),
  thread: (brokers, clientId) => ThreadedRecordProducer.connect({ brokers, clientId }),
};

/** A Debezium-like JSON change event of about 600 bytes, its key the row's id. */
function records(topic: string, count: number, from: number): ProducerRecord[] {
  const out = new Array<ProducerRecord>(count);
  const ts = Date.now();
  for (let i = 0; i < count; i++) {
    const id = from + i;
    const row = {
      id,
      ref: `REF-${id}`,
      customer_id: id % 1000,
      amount: (id * 1.2345).toFixed(4),
      status: `st${id % 5}`,
      note: `note of row ${id} `.repeat(4),
      updated_at: '2026-12-06T12:00:00.000000Z',
    };
    const value = {
      before: null,
      after: row,
      source: { connector: 'erp', db: 'erp', table: 'orders', ts_ms: ts, lsn: id * 16 },
      op: 'c',
      ts_ms: ts,
    };
    out[i] = {
      topic,
      key: Buffer.from(`{"id":${id}}`),
      value: Buffer.from(JSON.stringify(value).padEnd(600, ' ')),
      timestamp: ts,
    };
  }
  return out;
}

interface Figures {
  case: string;
  records: number;
  seconds: number;
  mainCpuUs: number;
  totalCpuUs: number;
  /** CPU µs per record by thread name (Linux): the main thread, the producer's WorkerThread, V8's GC helpers. */
  byThread: Record<string, number>;
  connectCpuMs: number;
}

async function runCase(name: string, brokers: string, topic: string, count: number, batch: number): Promise<Figures> {
  const start0 = process.cpuUsage();
  const port = await CASES[name]!(brokers, `bench-producer-${name}`);
  // Connecting costs once per producer: for the thread, a V8 isolate that loads the client (from sources: and tsx).
  const connectCpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(start0));
  try {
    // Warm-up (JIT, connections, metadata) outside the clock.
    await port.send(records(topic, batch, 0));
    const batches: ProducerRecord[][] = [];
    for (let i = 0; i < count; i += batch) batches.push(records(topic, Math.min(batch, count - i), i));
    // BENCH_PROFILE=dir writes a CPU profile of the measured loop alone (main thread), one per case and round.
    const profileDir = process.env.BENCH_PROFILE;
    const session = profileDir ? new Session() : null;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const threads0 = await cpuMsByThreadName(process.pid);
    const main0 = process.threadCpuUsage();
    const all0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    let inflight: Promise<unknown> = Promise.resolve();
    for (const b of batches) {
      await inflight;
      inflight = port.send(b);
    }
    await inflight;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const main = process.threadCpuUsage(main0);
    const all = process.cpuUsage(all0);
    const byThread: Record<string, number> = {};
    for (const [thread, ms] of await cpuMsByThreadName(process.pid)) {
      const us = (ms - (threads0.get(thread) ?? 0)) * 1000;
      if (us > 0) byThread[thread] = Number((us / count).toFixed(2));
    }
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(`${profileDir}/producer-${name}-${Date.now()}.cpuprofile`, JSON.stringify(profile));
      session.disconnect();
    }
    return {
      case: name,
      records: count,
      seconds,
      mainCpuUs: main.user + main.system,
      totalCpuUs: all.user + all.system,
      byThread,
      connectCpuMs,
    };
  } finally {
    await port.close();
  }
}

function print(log: (l: string) => void, f: Figures): void {
  const load = loadavg()[0]!;
  const json = {
    bench: 'producer',
    case: f.case,
    records: f.records,
    seconds: Number(f.seconds.toFixed(3)),
    records_per_s: Math.round(f.records / f.seconds),
    main_cpu_us_per_record: Number((f.mainCpuUs / f.records).toFixed(3)),
    total_cpu_us_per_record: Number((f.totalCpuUs / f.records).toFixed(3)),
    cpu_us_per_record_by_thread_name: f.byThread,
    connect_cpu_ms: Math.round(f.connectCpuMs),
    load_average_1m: Number(load.toFixed(2)),
    node: process.version,
  };
  log(JSON.stringify(json));
  log(
    `producer ${f.case}: ${json.records_per_s.toLocaleString('en-US')} records/s, CPU ${json.main_cpu_us_per_record} µs/record ` +
      `on the main thread, ${json.total_cpu_us_per_record} µs/record in all (load ${json.load_average_1m}); ` +
      `by thread: ${JSON.stringify(f.byThread)}; connecting took ${json.connect_cpu_ms} ms CPU`,
  );
}

export const producerBench: Bench = {
  name: 'producer',
  description: 'RecordProducer alone: ~600-byte JSON records, keyed, 3 partitions, acks=all, one send in flight',
  async run(ctx: BenchContext) {
    const brokers = ctx.env.KAFKA_BROKERS?.trim();
    if (!brokers) throw new BenchSetupError('KAFKA_BROKERS is not set: eval "$(scripts/stack env)"');
    const count = Number(ctx.env.BENCH_RECORDS ?? 500_000);
    const batch = Number(ctx.env.BENCH_BATCH ?? 2048);
    const rounds = Number(ctx.env.BENCH_ROUNDS ?? 2);
    const cases = (ctx.env.BENCH_CASES ?? Object.keys(CASES).join(',')).split(',').map((c) => c.trim());
    for (const c of cases) if (!CASES[c]) throw new BenchSetupError(`unknown case ${c}: ${Object.keys(CASES)}`);
    const topic = `bench.producer.${process.pid}.${Date.now()}`;
    const kafka = createKafka({ brokers, clientId: 'bench-producer', logLevel: 'nothing' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
    try {
      const results = [];
      for (let r = 0; r < rounds; r++) {
        for (const c of cases) {
          const f = await runCase(c, brokers, topic, count, batch);
          print(ctx.log, f);
          results.push(f);
        }
      }
      return [];
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  },
};

if (process.argv[1]?.endsWith('producer.ts') || process.argv[1]?.endsWith('producer.js')) {
  const records = Number(process.env.BENCH_RECORDS ?? 500_000);
  await producerBench.run({ env: { ...process.env, BENCH_RECORDS: String(records) }, records, log: console.log });
}
