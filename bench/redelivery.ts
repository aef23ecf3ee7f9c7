/**
 * Targeted re-delivery benchmark (issue 16): how fast a replay or repair is queued and worked through, on the
 * stack's PostgreSQL (origin, ledger, queue and jdbc destination in one database), by one LookupSink task with
 * redelivery.rate.per.sec out of the way.
 *
 *   eval "$(scripts/stack env)"
 *   npm run bench -- redelivery                     # BENCH_REDELIVERY entities (default 50,000)
 *   BENCH_REDELIVERY=200000 npm run bench -- redelivery
 *
 * Cases: queue (submit: the ids of a replay, in pages of 5,000, into the queue table) and re-deliver (the task's
 * redeliverQueued() until the queue is empty: lookup, ledger, jdbc upsert, progress), entities per second.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { LookupSinkTask, lookupSinkPlugin } from '../connectors/lookup-sink/index.js';
import { type Bench, type BenchContext, type BenchResult, benchSinkContext, printResult, stackEnv } from './support.js';

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

async function timed(name: string, count: number, body: () => Promise<unknown>, notes?: string): Promise<BenchResult> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return {
    bench: 'redelivery',
    case: name,
    records: count,
    seconds,
    recordsPerSecond: count / seconds,
    microsPerRecord: (seconds * 1e6) / count,
    cpuSeconds,
    recordsPerCpuSecond: count / cpuSeconds,
    loadAverage: loadavg()[0]!,
    rssMb: mb(process.memoryUsage.rss()),
    heapMb: mb(process.memoryUsage().heapUsed),
    target: null,
    ...(notes ? { notes } : {}),
  };
}

export const redeliveryBench: Bench = {
  name: 'redelivery',
  description: 'replay/repair: queue ids, then one LookupSink task re-delivers them to a jdbc table (PostgreSQL)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const pgUrl = stackEnv('PG_URL');
    const n = Number(ctx.env.BENCH_REDELIVERY ?? 50_000);
    const schema = `bench_redeliver_${Date.now().toString(36)}`;
    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    const results: BenchResult[] = [];
    try {
      await db.query(`CREATE SCHEMA ${schema}`);
      await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text, rev bigint NOT NULL)`);
      await db.query(`INSERT INTO ${schema}.document SELECT g, 'title ' || g, 1 FROM generate_series(1, $1) g`, [n]);
      await db.query(
        `CREATE TABLE ${schema}.out (document_id int PRIMARY KEY, title text, rev bigint, erpstream_version numeric(20,0))`,
      );
      const props: Record<string, string> = {
        'lookup.connection.url': pgUrl,
        'lookup.table': `${schema}.document`,
        'lookup.key.columns': 'document_id',
        'lookup.version.column': 'rev',
        'entity.name': 'document',
        'destination.type': 'jdbc',
        'destination.name': 'bench',
        'destination.table': `${schema}.out`,
        'ledger.table': `${schema}.ledger`,
        'park.table': `${schema}.parked`,
        'redelivery.table': `${schema}.redelivery`,
        'redelivery.rate.per.sec': '1000000',
        'redelivery.poll.interval.ms': '3600000',
        'park.check.interval.ms': '3600000',
        'lookup.batch.size': '500',
      };
      const admin = await lookupSinkPlugin.redelivery({ connector: 'bench-sink', config: props });
      const task = new LookupSinkTask();
      task.initialize(benchSinkContext('bench-sink'));
      await task.start(props);
      try {
        async function* pages() {
          for (let from = 1; from <= n; from += 5000) {
            const to = Math.min(n, from + 4999);
            yield Array.from({ length: to - from + 1 }, (_, i) => ({
              entityId: String(from + i),
              action: 'deliver' as const,
            }));
          }
        }
        results.push(
          await timed('queue', n, () => admin.submit({ requestKey: 'bench', operationId: null, items: pages() })),
        );
        results.push(
          await timed('re-deliver', n, async () => {
            while ((await task.redeliverQueued()) > 0) {
              /* until the queue is empty */
            }
          }),
        );
        const { rows } = await db.query(`SELECT count(*)::int AS c FROM ${schema}.out`);
        if (rows[0].c !== n) throw new Error(`expected ${n} rows delivered, found ${rows[0].c}`);
      } finally {
        await task.stop();
        await admin.close();
      }
      for (const r of results) printResult(r, ctx.log);
      return results;
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await db.end();
    }
  },
};
