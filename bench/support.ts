import { availableParallelism, loadavg } from 'node:os';
import { type KafkaAccess, type SinkTaskContext, silentLogger } from '../runtime/api/index.js';

/**
 * Bench plumbing: run a measured loop, sample RSS, and print each result twice — one JSON line (for
 * scripts and history) and one readable line with the figures and the ratio to the target.
 */

export interface BenchContext {
  readonly env: NodeJS.ProcessEnv;
  /** Record count, overridable with BENCH_RECORDS for quick runs. */
  readonly records: number;
  log(line: string): void;
}

export interface Bench {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

export interface BenchResult {
  readonly bench: string;
  readonly case: string;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly microsPerRecord: number;
  /** CPU time of this process during the loop (user + system, all threads). */
  readonly cpuSeconds: number;
  /** records / CPU second: the one-core figure, robust to other processes sharing the machine. */
  readonly recordsPerCpuSecond: number;
  /** 1-minute load average at the end: above the core count, wall-clock figures understate us. */
  readonly loadAverage: number;
  readonly rssMb: number;
  readonly heapMb: number;
  /** Records per second we promise; null when the case has no target. */
  readonly target: number | null;
  readonly notes?: string;
}

/** A bench cannot run (a plugin or a service is missing): named, with what to do. */
export class BenchSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchSetupError';
  }
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Samples RSS while a measured loop runs (the loop yields at least at each await). */
class RssSampler {
  peak = process.memoryUsage.rss();
  private readonly timer = setInterval(() => this.sample(), 50);
  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/**
 * Times `body(i)` for i in [0, count). Runs `warmup` iterations first (JIT, caches) outside the clock.
 * `body` may be async; synchronous bodies are not awaited per record, to measure the code, not the
 * microtask queue.
 */
export async function measure(
  name: { bench: string; case: string; target: number | null; notes?: string },
  count: number,
  body: (i: number) => unknown,
  options: { warmup?: number; async?: boolean } = {},
): Promise<BenchResult> {
  const warmup = options.warmup ?? Math.min(20_000, Math.floor(count / 10));
  for (let i = 0; i < warmup; i++) {
    const r = body(i);
    if (options.async) await r;
  }
  const sampler = new RssSampler();
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  if (options.async) {
    for (let i = 0; i < count; i++) await body(i);
  } else {
    // Yield every 64k records so the RSS sampler gets to run.
    for (let i = 0; i < count; i++) {
      body(i);
      if ((i & 0xffff) === 0xffff) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const peak = sampler.stop();
  return {
    ...name,
    records: count,
    seconds: elapsed,
    recordsPerSecond: count / elapsed,
    microsPerRecord: (elapsed * 1e6) / count,
    cpuSeconds,
    recordsPerCpuSecond: count / cpuSeconds,
    loadAverage: loadavg()[0]!,
    rssMb: mb(peak),
    heapMb: mb(process.memoryUsage().heapUsed),
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The target is judged on records per CPU second (one core's throughput) — on a shared machine the
 * wall-clock rate measures the neighbours too; both are printed, with the load average.
 */
export function formatResult(r: BenchResult): { json: string; summary: string } {
  const ratio = r.target === null ? null : r.recordsPerCpuSecond / r.target;
  const cores = availableParallelism();
  const json = JSON.stringify({
    bench: r.bench,
    case: r.case,
    records: r.records,
    seconds: Number(r.seconds.toFixed(3)),
    records_per_s: Math.round(r.recordsPerSecond),
    us_per_record: Number(r.microsPerRecord.toFixed(3)),
    cpu_seconds: Number(r.cpuSeconds.toFixed(3)),
    records_per_cpu_s: Math.round(r.recordsPerCpuSecond),
    cpu_us_per_record: Number(((r.cpuSeconds * 1e6) / r.records).toFixed(3)),
    rss_mb: r.rssMb,
    heap_mb: r.heapMb,
    target_records_per_s: r.target,
    ratio_to_target: ratio === null ? null : Number(ratio.toFixed(2)),
    meets_target: ratio === null ? null : ratio >= 1,
    load_average_1m: Number(r.loadAverage.toFixed(2)),
    cores,
    node: process.version,
    ...(r.notes ? { notes: r.notes } : {}),
  });
  const verdict =
    ratio === null ? '' : ` — target ≥ ${int(r.target!)}/s: ${ratio.toFixed(2)}× ${ratio >= 1 ? 'OK' : 'BELOW TARGET'}`;
  const busy = r.loadAverage > cores ? ` (machine busy: load ${r.loadAverage.toFixed(1)} on ${cores} cores)` : '';
  const summary =
    `${r.bench}/${r.case}: ${int(r.records)} records, ${int(r.recordsPerCpuSecond)} records/CPU-s ` +
    `(${((r.cpuSeconds * 1e6) / r.records).toFixed(2)} µs CPU/record); wall ${r.seconds.toFixed(2)} s = ` +
    `${int(r.recordsPerSecond)} records/s${busy}; peak RSS ${r.rssMb} MB${verdict}`;
  return { json, summary };
}

export function printResult(r: BenchResult, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  const { json, summary } = formatResult(r);
  out(json);
  out(summary);
}

/** A connection variable of the shared stack (PG_URL, KAFKA_BROKERS, …); a setup error saying how to set it. */
export function stackEnv(name: string): string {
  const v = process.env[name]?.trim();
  if (!v) throw new BenchSetupError(`${name} is not set: eval "$(scripts/stack env)"`);
  return v;
}

/**
 * What a worker would hand a sink task, for benches that run one in-process without a worker: task 0, no logging,
 * no errant-record reporter (a failure throws), commits and pauses ignored.
 */
export function benchSinkContext(connectorName: string, kafka?: KafkaAccess): SinkTaskContext {
  return {
    taskId: 0,
    connectorName,
    logger: silentLogger,
    status: { progress() {} },
    offset() {},
    pause() {},
    resume() {},
    requestCommit() {},
    errantRecordReporter: null,
    assignment: () => [],
    ...(kafka ? { kafka } : {}),
  };
}
