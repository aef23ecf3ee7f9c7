/**
 * Decoding fetched record batches (issue 18): kafkajs 2.2.4's own RecordBatch decoder against the one the runtime puts
 * in its place (runtime/kafka/kafkajs-record-batches.ts), on the same bytes, interleaved over BENCH_ROUNDS (3) rounds.
 * The batches are shaped as the debezium bench's sink case reads them: records of a JSON-with-schemas Debezium event
 * (about 5 KB), a small key, three context headers, three records per batch (a 16 KB producer batch), plus a case with
 * eight records per batch and two headers each. The worker's sink consumer reads `headerList`; kafkajs's header object
 * is not built (as in the worker).
 *
 *   npm run bench -- fetch-decode                  (BENCH_RECORDS records per round and case; 1,000,000 by default)
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import {
  type BatchDecoder,
  KafkajsDecoder as Decoder,
  kafkajsBatchDecoder,
  runtimeBatchDecoder,
} from '../test/support/kafkajs-batches.js';
import type { Bench, BenchContext, BenchResult } from './support.js';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch(o: object): Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => unknown;

/** Three context headers, as the Debezium 3.6 events of the debezium bench's sink case carry. */
const DEBEZIUM_HEADERS = {
  '__debezium.context.connectorLogicalName': 'dbzs_mxdn9fp0_50000',
  '__debezium.context.taskId': '0',
  '__debezium.context.connectorName': 'postgresql',
};

/** A fetch response's records: `batches` batches of `perBatch` records, offsets from 1,000,000 on. */
async function responseBytes(batches: number, perBatch: number, headers: Record<string, string>): Promise<Buffer> {
  const value = Buffer.from(`{"schema":${'x'.repeat(4200)},"payload":{"after":{"id":1}}}`);
  const parts: Buffer[] = [];
  for (let b = 0; b < batches; b++) {
    const records = Array.from({ length: perBatch }, (_, i) =>
      Record({ offsetDelta: i, timestampDelta: i * 3, key: Buffer.from(`{"id":${b * perBatch + i}}`), value, headers }),
    );
    const batch = await RecordBatch({
      firstOffset: String(1_000_000 + b * perBatch),
      firstTimestamp: 1_796_562_646_681,
      maxTimestamp: 1_796_562_646_690,
      lastOffsetDelta: perBatch - 1,
      records,
    });
    parts.push(batch.buffer);
  }
  return Buffer.concat(parts);
}

async function decodeAll(decode: BatchDecoder, bytes: Buffer): Promise<number> {
  const d = new Decoder(bytes);
  let n = 0;
  while (d.canReadBytes(49)) n += (await decode(d)).records.length;
  return n;
}

async function timed(
  side: string,
  caseName: string,
  decode: BatchDecoder,
  bytes: Buffer,
  perResponse: number,
  records: number,
): Promise<BenchResult> {
  const responses = Math.max(1, Math.round(records / perResponse));
  for (let i = 0; i < Math.min(50, responses); i++) await decodeAll(decode, bytes);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < responses; i++) n += await decodeAll(decode, bytes);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(cpu0);
  const cpuSeconds = (c.user + c.system) / 1e6;
  const mem = process.memoryUsage();
  return {
    bench: 'fetch-decode',
    case: `${caseName}-${side}`,
    records: n,
    seconds,
    recordsPerSecond: n / seconds,
    microsPerRecord: (seconds * 1e6) / n,
    cpuSeconds,
    recordsPerCpuSecond: n / cpuSeconds,
    loadAverage: loadavg()[0]!,
    rssMb: Math.round(mem.rss / 1048576),
    heapMb: Math.round(mem.heapUsed / 1048576),
    target: null,
  };
}

export const fetchDecodeBench: Bench = {
  name: 'fetch-decode',
  description: "decoding fetched record batches: kafkajs's decoder against the runtime's, interleaved",
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const rounds = Number(ctx.env.BENCH_ROUNDS ?? 3);
    const ours = runtimeBatchDecoder();
    const theirs = kafkajsBatchDecoder();
    const cases = [
      { name: 'sink-events', bytes: await responseBytes(530, 3, DEBEZIUM_HEADERS), per: 1590 },
      { name: 'with-headers', bytes: await responseBytes(200, 8, { 'trace-id': 'abc', source: 'erp' }), per: 1600 },
    ];
    const results: BenchResult[] = [];
    for (const c of cases) {
      const ratios: number[] = [];
      const figures: Record<'kafkajs' | 'erpstream', number[]> = { kafkajs: [], erpstream: [] };
      for (let r = 0; r < rounds; r++) {
        const a = await timed('kafkajs', c.name, theirs, c.bytes, c.per, ctx.records);
        const b = await timed('erpstream', c.name, ours, c.bytes, c.per, ctx.records);
        results.push(a, b);
        const usA = (a.cpuSeconds * 1e6) / a.records;
        const usB = (b.cpuSeconds * 1e6) / b.records;
        figures.kafkajs.push(usA);
        figures.erpstream.push(usB);
        ratios.push(usB / usA);
        ctx.log(
          JSON.stringify({
            bench: 'fetch-decode',
            case: c.name,
            round: r + 1,
            kafkajs_cpu_us: round3(usA),
            erpstream_cpu_us: round3(usB),
            ratio: round3(usB / usA),
            load_average_1m: a.loadAverage,
          }),
        );
      }
      const sorted = [...ratios].sort((x, y) => x - y);
      const span = (xs: number[]) => `${round3(Math.min(...xs))}–${round3(Math.max(...xs))}`;
      ctx.log(
        `fetch-decode/${c.name}: CPU µs per record kafkajs ${span(figures.kafkajs)}, erpstream ${span(figures.erpstream)}; ` +
          `ratio erpstream/kafkajs ${span(ratios)} (median ${round3(sorted[Math.floor(sorted.length / 2)]!)}) over ${rounds} rounds, load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    return results;
  },
};

const round3 = (x: number) => Math.round(x * 1000) / 1000;
