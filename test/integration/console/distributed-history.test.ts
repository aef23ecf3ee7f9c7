import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics } from '../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import {
  type WorkerProcess,
  clusterProps,
  startWorker,
  stopWorker,
  waitFor,
  writeProps,
} from '../worker/distributed/cluster.js';

/**
 * Distributed mode: each worker samples the tasks it runs, and any worker answers the console for the whole
 * cluster by merging the other workers' histories (fetched with the group's forwarding credentials).
 */

const brokers = requireEnv('KAFKA_BROKERS');
const AUTH = `Basic ${Buffer.from('ops:dist-pa55').toString('base64')}`;

async function get<T>(url: string, p: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${p}`, { headers: { authorization: AUTH } });
  return { status: res.status, body: (await res.json()) as T };
}

interface History {
  customer: string | null;
  series: Record<string, Array<[number, number | null]>>;
  workers?: { answered: string[]; missing: string[] };
}

describe('console metric history in distributed mode', () => {
  const suffix = uniqueSuffix();
  const topic = `it-console-dist-${suffix}`;
  let workers: WorkerProcess[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-console-dist-'));
    const props = await writeProps(
      path.join(dir, 'worker.properties'),
      clusterProps(brokers, `console-${suffix}`, {
        'rest.auth.type': 'basic',
        'rest.auth.basic.username': 'ops',
        'rest.auth.basic.password': 'dist-pa55',
        'console.history.interval.ms': '1000',
      }),
    );
    // Two partitions: each worker's sink task gets a share.
    const admin = createKafka({ brokers, clientId: `it-console-dist-${suffix}`, logLevel: 'error' }).admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    await admin.disconnect();
    workers = await Promise.all([startWorker(props), startWorker(props)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopWorker(w)));
  }, 60_000);

  it("any worker serves the page and answers the cluster's history, merged from every worker", async () => {
    const post = (body: unknown) =>
      fetch(`${workers[0]!.url}/connectors`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await waitFor(
      async () =>
        (
          await post({
            name: `seq-${suffix}`,
            config: {
              'connector.class': 'erpstream.connectors.SequenceSourceConnector',
              'tasks.max': '2',
              topic,
              'records.per.second': '50',
            },
          })
        ).status === 201,
      60_000,
      'the group to accept the source',
    );
    const created = await post({
      name: `sink-${suffix}`,
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': '2',
        topics: topic,
        file: path.join(dir, 'out.txt'),
        'erpstream.integration': 'acme',
      },
    });
    expect(created.status).toBe(201);

    // Both workers run a sink task: each has only its own share in memory.
    await waitFor(
      async () => {
        const s = (
          await get<{ tasks: Array<{ state: string; worker_id: string }> }>(
            workers[0]!.url,
            `/connectors/sink-${suffix}/status`,
          )
        ).body;
        return (
          s.tasks?.length === 2 &&
          s.tasks.every((t) => t.state === 'RUNNING') &&
          new Set(s.tasks.map((t) => t.worker_id)).size === 2
        );
      },
      60_000,
      'two sink tasks RUNNING on two workers',
    );

    await waitFor(
      async () => {
        const r = await get<History>(workers[1]!.url, '/erpstream/v1/metrics/history?customer=acme&minutes=5');
        return r.status === 200 && r.body.series.recordsInPerSec!.filter(([, v]) => (v ?? 0) > 0).length >= 3;
      },
      60_000,
      'records in per second in the history',
    );
    // Each worker's own share first, then the merged answer (asked later, so it covers at least as much time).
    const total = (s: Array<[number, number | null]>) => s.reduce((a, [, v]) => a + (v ?? 0), 0);
    const local = await Promise.all(
      workers.map((w) => get<History>(w.url, '/erpstream/v1/metrics/history?customer=acme&minutes=5&local=true')),
    );
    for (const l of local) {
      expect(l.body.workers).toBeUndefined();
      expect(total(l.body.series.recordsInPerSec!)).toBeGreaterThan(0);
    }
    const merged = (await get<History>(workers[1]!.url, '/erpstream/v1/metrics/history?customer=acme&minutes=5')).body;
    expect(merged.customer).toBe('acme');
    expect(merged.workers?.answered).toHaveLength(2);
    expect(merged.workers?.missing).toEqual([]);
    // The merged rate is the sum of what each worker saw: clearly more than either worker's own share.
    expect(total(merged.series.recordsInPerSec!)).toBeGreaterThan(
      Math.max(...local.map((l) => total(l.body.series.recordsInPerSec!))) * 1.2,
    );

    for (const w of workers) {
      const page = await fetch(`${w.url}/console/`, { headers: { authorization: AUTH } });
      expect(page.status).toBe(200);
      expect((await fetch(`${w.url}/console/`)).status).toBe(401);
    }
  });
});
