/**
 * Idle cost of a distributed worker (issue 18 item 5): CPU a worker process spends per minute doing nothing, next to
 * the stack's Kafka Connect JVM over the same minute.
 *
 *   npx tsx bench/idle.ts            # or: npm run bench -- idle
 *   BENCH_IDLE_SECONDS=30 BENCH_IDLE_ROUNDS=3 npx tsx bench/idle.ts
 *
 * Needs KAFKA_BROKERS and PG_URL (`eval "$(scripts/stack env)"`) and the stack's Connect (ERPSTREAM_CONNECT_URL,
 * default http://127.0.0.1:8083) on this host, found by its main class in /proc (BENCH_CONNECT_PID to name it).
 * Connect is shared: the bench never stops it and only adds, then deletes, connectors of its own. Cases, each a
 * window of BENCH_IDLE_SECONDS (default 60) in which both processes are measured at once, after a warm-up of
 * BENCH_IDLE_WARMUP_SECONDS (default 15):
 * - empty: one erpstream worker without connectors; Connect as it is (its connector count is printed: anything
 *   another user runs there is in its figure);
 * - connectors: the worker runs an ErpSource on a PostgreSQL table nobody writes after one commit at the start (its
 *   notification is what lets the task trust the commit wake-up) and a LookupSink on a topic nobody writes; Connect runs a FileStreamSource on a file nobody writes and a FileStreamSink on a topic nobody writes.
 * Target: the worker's CPU per minute ≤ Connect's (ratio ≤ 1).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { changeTableDdl, changeTriggersDdl } from '../connectors/erp-source/setup-sql.js';
import { createKafka, ensureTopics } from '../runtime/kafka/index.js';
import {
  type WorkerProcess,
  clusterProps,
  rest,
  startWorker,
  stopWorker,
  waitFor,
  writeProps,
} from '../test/integration/worker/distributed/cluster.js';
import { cpuMs, pidListeningOn, pidsWithCommandLine, rssMb } from './proc-stats.js';
import { type Bench, type BenchContext, BenchSetupError } from './support.js';

const CONNECT_MAIN_CLASS = 'org.apache.kafka.connect.cli.ConnectDistributed';
const round2 = (n: number) => Math.round(n * 100) / 100;

interface Window {
  workerCpuS: number;
  connectCpuS: number;
  seconds: number;
  load: number[];
}

/** CPU of both processes over the same window, scaled to one minute. */
async function measure(workerPid: number, connectPid: number, seconds: number): Promise<Window> {
  const t0 = performance.now();
  const [w0, c0] = await Promise.all([cpuMs(workerPid), cpuMs(connectPid)]);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const [w1, c1] = await Promise.all([cpuMs(workerPid), cpuMs(connectPid)]);
  const elapsed = (performance.now() - t0) / 1000;
  const perMinute = (ms: number) => round2(ms / 1000 / (elapsed / 60));
  return {
    workerCpuS: perMinute(w1 - w0),
    connectCpuS: perMinute(c1 - c0),
    seconds: round2(elapsed),
    load: os.loadavg().map(round2),
  };
}

/** The Connect JVM that serves `connectUrl` (other Connect processes may run beside it). */
async function connectPid(env: NodeJS.ProcessEnv, connectUrl: string): Promise<number> {
  if (env.BENCH_CONNECT_PID) return Number(env.BENCH_CONNECT_PID);
  const pids = await pidsWithCommandLine(CONNECT_MAIN_CLASS);
  if (pids.length === 0) {
    throw new BenchSetupError(`no Kafka Connect process (${CONNECT_MAIN_CLASS}) on this host: scripts/stack up`);
  }
  const url = new URL(connectUrl);
  const pid = await pidListeningOn(Number(url.port || 80), pids);
  if (pid === null) {
    throw new BenchSetupError(
      `none of the Connect processes ${pids.join(', ')} listens on ${url.host}: name one with BENCH_CONNECT_PID`,
    );
  }
  return pid;
}

async function run(ctx: BenchContext): Promise<[]> {
  const brokers = ctx.env.KAFKA_BROKERS?.trim();
  const pgUrl = ctx.env.PG_URL?.trim();
  if (!brokers || !pgUrl)
    throw new BenchSetupError('KAFKA_BROKERS and PG_URL must be set: eval "$(scripts/stack env)"');
  const connectUrl = (ctx.env.ERPSTREAM_CONNECT_URL ?? 'http://127.0.0.1:8083').replace(/\/$/, '');
  const seconds = Number(ctx.env.BENCH_IDLE_SECONDS ?? 60);
  const warmup = Number(ctx.env.BENCH_IDLE_WARMUP_SECONDS ?? 15);
  const rounds = Number(ctx.env.BENCH_IDLE_ROUNDS ?? 1);
  const jvm = await connectPid(ctx.env, connectUrl);
  const connectors = async () => (await rest<string[]>(connectUrl, 'GET', '/connectors')).body ?? [];
  await connectors().catch((e: unknown) => {
    throw new BenchSetupError(`Connect does not answer at ${connectUrl}: ${String(e)}`);
  });

  const suffix = Date.now().toString(36);
  const schema = `bench_idle_${suffix}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-bench-idle-'));
  const quietFile = path.join(dir, 'quiet.txt');
  await writeFile(quietFile, '');
  const topics = { lookupIn: `bench-idle-${suffix}-lookup-in`, connectIn: `bench-idle-${suffix}-connect-in` };
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  const kafka = createKafka({ brokers, clientId: 'bench-idle', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const props = await writeProps(
    path.join(dir, 'worker.properties'),
    clusterProps(brokers, `bench-idle-${suffix}`, {
      // The worker's defaults, not the tests' short timeouts.
      'session.timeout.ms': '10000',
      'heartbeat.interval.ms': '3000',
      'offset.flush.interval.ms': '60000',
      'log.level': 'WARN',
    }),
  );
  const ours = ['erp', 'lookup'].map((c) => `bench-idle-${suffix}-${c}`);
  const theirs = ['source', 'sink'].map((c) => `bench-idle-${suffix}-${c}`);
  let worker: WorkerProcess | null = null;
  const rows: Array<Record<string, unknown>> = [];
  try {
    await db.query(`CREATE SCHEMA ${schema}`);
    const change = { changeTable: `${schema}.change_log`, keyColumns: ['record_id'] };
    for (const ddl of changeTableDdl('postgresql', change)) await db.query(ddl);
    await db.query(`CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY, note text)`);
    for (const ddl of changeTriggersDdl('postgresql', {
      ...change,
      table: `${schema}.orders`,
      baseKeyColumns: ['id'],
    })) {
      await db.query(ddl);
    }
    await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, rev bigint)`);
    await ensureTopics(admin, [
      { topic: topics.lookupIn, numPartitions: 1 },
      { topic: topics.connectIn, numPartitions: 1 },
    ]);

    ctx.log('idle: starting a distributed worker…');
    worker = await startWorker(props);
    const w = worker;
    const workerPid = w.proc.pid!;
    const report = async (kase: string, round: number) => {
      const before = (await connectors()).length;
      const m = await measure(workerPid, jvm, seconds);
      const after = (await connectors()).length;
      const [workerRss, connectRss] = await Promise.all([rssMb(workerPid), rssMb(jvm)]);
      const row = {
        bench: 'idle',
        case: kase,
        round,
        window_s: m.seconds,
        worker_cpu_s_per_min: m.workerCpuS,
        connect_cpu_s_per_min: m.connectCpuS,
        ratio: m.connectCpuS > 0 ? round2(m.workerCpuS / m.connectCpuS) : null,
        connect_connectors: Math.max(before, after),
        worker_rss_mb: workerRss.rss,
        connect_rss_mb: connectRss.rss,
        target_ratio: 1,
        load_average: m.load,
        node: process.version,
      };
      rows.push(row);
      ctx.log(JSON.stringify(row));
      ctx.log(
        `idle/${kase} (round ${round}): worker ${row.worker_cpu_s_per_min} s CPU per minute, Connect ${row.connect_cpu_s_per_min} s ` +
          `(${row.connect_connectors} connectors there) → ratio ${row.ratio} (target ≤ 1: ${row.ratio !== null && row.ratio <= 1 ? 'met' : 'missed'}); ` +
          `RSS ${row.worker_rss_mb} MB vs ${row.connect_rss_mb} MB; load ${m.load.join(' ')}`,
      );
    };
    const setConnectors = async (on: boolean) => {
      if (!on) {
        for (const name of ours) await rest(w.url, 'DELETE', `/connectors/${name}`);
        for (const name of theirs) await rest(connectUrl, 'DELETE', `/connectors/${name}`);
        return;
      }
      const erp = {
        'connector.class': 'ErpSource',
        'connection.url': pgUrl,
        'change.table': `${schema}.change_log`,
        'topic.prefix': `bench-idle-${suffix}`,
        'table.include.list': `${schema}\\.orders`,
      };
      const lookup = {
        'connector.class': 'LookupSink',
        topics: topics.lookupIn,
        'lookup.connection.url': pgUrl,
        'lookup.table': `${schema}.document`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        'destination.type': 'kafka',
        'destination.name': 'idle_docs',
        'destination.topic': `bench-idle-${suffix}-docs`,
        'ledger.table': `${schema}.ledger`,
        'park.table': `${schema}.parked`,
      };
      for (const [name, config] of [
        [ours[0]!, erp],
        [ours[1]!, lookup],
      ] as const) {
        await waitFor(
          async () => {
            const r = await rest(w.url, 'PUT', `/connectors/${name}/config`, config);
            if (r.status >= 400 && r.status !== 409) throw new Error(`${name}: ${JSON.stringify(r.body)}`);
            return r.status === 409 ? null : r;
          },
          60_000,
          `the worker to accept ${name}`,
        );
      }
      await rest(connectUrl, 'PUT', `/connectors/${theirs[0]}/config`, {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
        file: quietFile,
        topic: `bench-idle-${suffix}-file`,
      });
      await rest(connectUrl, 'PUT', `/connectors/${theirs[1]}/config`, {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        file: path.join(dir, 'sink.txt'),
        topics: topics.connectIn,
      });
      const running = async (url: string, name: string) => {
        const s = (
          await rest<{ connector?: { state: string }; tasks?: Array<{ state: string }> }>(
            url,
            'GET',
            `/connectors/${name}/status`,
          )
        ).body;
        return (
          s.connector?.state === 'RUNNING' && (s.tasks?.length ?? 0) > 0 && s.tasks!.every((t) => t.state === 'RUNNING')
        );
      };
      for (const name of ours) await waitFor(() => running(w.url, name), 90_000, `${name} RUNNING`);
      // One commit, as an ERP makes: its notification shows the ErpSource that the commit wake-up delivers, which it
      // needs before backing an idle stream off past poll.interval.ms. It is read during the warm-up.
      await db.query(`INSERT INTO ${schema}.orders VALUES ($1, 'wake-up check') ON CONFLICT (id) DO NOTHING`, [1]);
      for (const name of theirs) await waitFor(() => running(connectUrl, name), 90_000, `${name} RUNNING on Connect`);
    };
    for (let round = 1; round <= rounds; round++) {
      await new Promise((r) => setTimeout(r, warmup * 1000));
      await report('empty', round);
      await setConnectors(true);
      await new Promise((r) => setTimeout(r, warmup * 1000));
      await report('connectors', round);
      await setConnectors(false);
    }
  } finally {
    if (worker) {
      for (const name of ours) await rest(worker.url, 'DELETE', `/connectors/${name}`).catch(() => {});
      await stopWorker(worker);
    }
    for (const name of theirs) await rest(connectUrl, 'DELETE', `/connectors/${name}`).catch(() => {});
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await admin.disconnect().catch(() => {});
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db.end();
  }
  for (const kase of ['empty', 'connectors']) {
    const ratios = rows.filter((r) => r.case === kase && r.ratio !== null).map((r) => r.ratio as number);
    if (ratios.length > 1) {
      ratios.sort((a, b) => a - b);
      ctx.log(
        `idle/${kase}: ratio min ${ratios[0]} / median ${ratios[Math.floor(ratios.length / 2)]} / max ${ratios.at(-1)} over ${ratios.length} rounds`,
      );
    }
  }
  return [];
}

export const idleBench: Bench = {
  name: 'idle',
  description: "idle distributed worker: CPU per minute next to the stack's Kafka Connect over the same minute",
  run,
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run({ env: process.env, records: 0, log: (l) => process.stdout.write(`${l}\n`) });
}
