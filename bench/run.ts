/**
 * `npm run bench` runs every registered bench; `npm run bench -- transforms` runs the named ones.
 * Exit code: 0 when all ran (figures below target are reported, not failed), 2 when a bench cannot run
 * (missing plugin or service, named in the message), 1 on an unexpected error.
 */
import { type Bench, type BenchContext, BenchSetupError } from './support.js';

/**
 * Benches load lazily: one bench's dependencies (a database driver, a harness) never stop another from
 * running. A new bench adds one line here.
 */
const registry: ReadonlyArray<{ name: string; load: () => Promise<Bench> }> = [
  { name: 'transforms', load: async () => (await import('./transforms.js')).transformsBench },
  { name: 'converters', load: async () => (await import('./converters.js')).convertersBench },
  { name: 'source', load: async () => (await import('./source.js')).sourceBench },
  { name: 'sink', load: async () => (await import('./sink/lookup-sink.js')).sinkBench },
  { name: 'worker', load: async () => (await import('./worker.js')).workerBench },
  { name: 'idle', load: async () => (await import('./idle.js')).idleBench },
  { name: 'drain', load: async () => (await import('./drain.js')).drainBench },
  { name: 'producer', load: async () => (await import('./producer.js')).producerBench },
  { name: 'reconcile', load: async () => (await import('./reconcile.js')).reconcileBench },
  { name: 'redelivery', load: async () => (await import('./redelivery.js')).redeliveryBench },
  { name: 'fetch-decode', load: async () => (await import('./fetch-decode.js')).fetchDecodeBench },
  { name: 'debezium', load: async () => (await import('./debezium/index.js')).debeziumBench },
];

async function main(args: string[]): Promise<number> {
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !registry.some((b) => b.name === n));
  if (unknown.length > 0) {
    process.stderr.write(
      `error: unknown bench ${unknown.join(', ')}. Available: ${registry.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected = names.length === 0 ? registry : registry.filter((b) => names.includes(b.name));
  const records = Number(process.env.BENCH_RECORDS ?? 1_000_000);
  if (!Number.isInteger(records) || records <= 0) {
    process.stderr.write(`error: BENCH_RECORDS must be a positive integer, got ${process.env.BENCH_RECORDS}\n`);
    return 2;
  }
  const ctx: BenchContext = { env: process.env, records, log: (l) => process.stdout.write(`${l}\n`) };
  let exitCode = 0;
  for (const entry of selected) {
    try {
      const bench = await entry.load();
      process.stdout.write(`# ${bench.name}: ${bench.description}\n`);
      await bench.run(ctx);
    } catch (error) {
      if (!(error instanceof BenchSetupError)) throw error;
      // Say which bench could not run and why, then go on with the others.
      process.stderr.write(`error: bench ${entry.name} cannot run: ${error.message}\n`);
      exitCode = 2;
    }
  }
  return exitCode;
}

process.exitCode = await main(process.argv.slice(2));
