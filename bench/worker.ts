/**
 * Distributed worker benchmark (issue 5): three worker processes in one group, a SequenceSource with 30 tasks.
 *
 *   npx tsx bench/worker.ts          # or: npm run bench -- worker
 *   BENCH_STATUS_SECONDS=5 BENCH_SESSION_TIMEOUT_MS=6000 npx tsx bench/worker.ts
 *
 * Needs KAFKA_BROKERS (`eval "$(scripts/stack env)"`). Cases:
 * - status: `GET /connectors/{c}/status` at 100 requests/s against one worker while the 30 tasks run;
 *   p50/p99/max (target p99 ≤ 20 ms);
 * - rebalance: SIGKILL a worker that runs tasks; time until every task is RUNNING on a survivor (target
 *   ≤ 30 s with the default session.timeout.ms=10000; the session timeout is most of it).
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type WorkerProcess,
  clusterProps,
  killWorker,
  rest,
  startWorker,
  stopWorker,
  waitFor,
  writeProps,
} from '../test/integration/worker/distributed/cluster.js';
import { type Bench, type BenchContext, BenchSetupError } from './support.js';

interface Status {
  tasks: Array<{ id: number; state: string; worker_id: string }>;
}

const percentile = (sorted: number[], p: number) =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;

async function run(ctx: BenchContext): Promise<[]> {
  const brokers = ctx.env.KAFKA_BROKERS?.trim();
  if (!brokers) throw new BenchSetupError('KAFKA_BROKERS is not set: eval "$(scripts/stack env)"');
  const statusSeconds = Number(ctx.env.BENCH_STATUS_SECONDS ?? 10);
  const sessionTimeoutMs = Number(ctx.env.BENCH_SESSION_TIMEOUT_MS ?? 10_000);
  const tasks = 30;
  const suffix = `${Date.now().toString(36)}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-bench-worker-'));
  const props = await writeProps(
    path.join(dir, 'worker.properties'),
    clusterProps(brokers, `bench-${suffix}`, {
      'session.timeout.ms': String(sessionTimeoutMs),
      'heartbeat.interval.ms': String(Math.max(1000, Math.floor(sessionTimeoutMs / 3))),
      'log.level': 'WARN',
    }),
  );
  ctx.log('worker: starting 3 worker processes…');
  let workers: WorkerProcess[] = await Promise.all([startWorker(props), startWorker(props), startWorker(props)]);
  try {
    await waitFor(
      async () => {
        const r = await rest(workers[0]!.url, 'PUT', '/connectors/bench-seq/config', {
          'connector.class': 'erpstream.connectors.SequenceSourceConnector',
          'tasks.max': String(tasks),
          topic: `bench-worker-seq-${suffix}`,
          'records.per.second': '10',
        });
        return r.status === 409 ? null : r;
      },
      60_000,
      'the group to accept the connector',
    );
    const allRunning = (s: Status, not?: string) =>
      s.tasks?.length === tasks && s.tasks.every((t) => t.state === 'RUNNING' && t.worker_id !== not);
    await waitFor(
      async () => allRunning((await rest<Status>(workers[0]!.url, 'GET', '/connectors/bench-seq/status')).body),
      90_000,
      `${tasks} RUNNING tasks`,
    );

    // status: open-loop at 100 requests/s (a request is sent every 10 ms whether or not the last answered).
    const latencies: number[] = [];
    const inflight: Array<Promise<void>> = [];
    const started = Date.now();
    for (let i = 0; i < statusSeconds * 100; i++) {
      const due = started + i * 10;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(
        (async () => {
          const t0 = performance.now();
          const res = await fetch(`${workers[0]!.url}/connectors/bench-seq/status`);
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
        })(),
      );
    }
    await Promise.all(inflight);
    const sorted = [...latencies].sort((a, b) => a - b);
    const status = {
      bench: 'worker',
      case: 'status',
      requests: sorted.length,
      rate_per_s: Math.round(sorted.length / ((Date.now() - started) / 1000)),
      p50_ms: percentile(sorted, 50),
      p99_ms: percentile(sorted, 99),
      max_ms: percentile(sorted, 100),
      target_p99_ms: 20,
      tasks,
      load_average: Math.round(os.loadavg()[0]! * 100) / 100,
    };
    ctx.log(JSON.stringify(status));
    ctx.log(
      `worker/status: ${status.requests} requests at ${status.rate_per_s}/s with ${tasks} tasks running: p50 ${status.p50_ms} ms, p99 ${status.p99_ms} ms, max ${status.max_ms} ms (target p99 ≤ 20 ms: ${status.p99_ms <= 20 ? 'met' : 'missed'})`,
    );

    // rebalance: kill a worker that runs tasks (not the one we query).
    const s = (await rest<Status>(workers[0]!.url, 'GET', '/connectors/bench-seq/status')).body;
    const victim = workers.find((w) => w !== workers[0] && s.tasks.some((t) => t.worker_id === w.workerId))!;
    const moving = s.tasks.filter((t) => t.worker_id === victim.workerId).length;
    const killedAt = Date.now();
    await killWorker(victim);
    workers = workers.filter((w) => w !== victim);
    await waitFor(
      async () =>
        allRunning((await rest<Status>(workers[0]!.url, 'GET', '/connectors/bench-seq/status')).body, victim.workerId),
      120_000,
      'the tasks to move',
    );
    const seconds = (Date.now() - killedAt) / 1000;
    const rebalance = {
      bench: 'worker',
      case: 'rebalance',
      workers: 3,
      tasks,
      moved_tasks: moving,
      session_timeout_ms: sessionTimeoutMs,
      seconds: Math.round(seconds * 100) / 100,
      after_session_timeout_s: Math.round((seconds - sessionTimeoutMs / 1000) * 100) / 100,
      target_s: 30,
    };
    ctx.log(JSON.stringify(rebalance));
    ctx.log(
      `worker/rebalance: 3 workers, ${tasks} tasks, SIGKILL of one: its ${moving} tasks RUNNING elsewhere after ${rebalance.seconds} s (session.timeout.ms=${sessionTimeoutMs}; ${rebalance.after_session_timeout_s} s beyond it; target ≤ 30 s: ${seconds <= 30 ? 'met' : 'missed'})`,
    );
    await rest(workers[0]!.url, 'DELETE', '/connectors/bench-seq');
  } finally {
    await Promise.all(workers.map((w) => stopWorker(w)));
  }
  return [];
}

export const workerBench: Bench = {
  name: 'worker',
  description: 'distributed workers: status latency at 100 req/s, rebalance time when one of 3 dies',
  run,
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run({ env: process.env, records: 0, log: (l) => process.stdout.write(`${l}\n`) });
}
