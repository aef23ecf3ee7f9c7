import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { readTopic } from '../../../support/topics.js';
import {
  type WorkerProcess,
  killWorker,
  rest,
  restWhenJoined,
  startDistributedWorkers,
  stopWorker,
  waitFor,
} from '../../../support/worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

interface Status {
  tasks: Array<{ id: number; state: string; worker_id: string }>;
}

describe('exactly-once source (exactly.once.source.support=enabled)', () => {
  const suffix = uniqueSuffix();
  const topic = `it-eos-seq-${suffix}`;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    ({ workers } = await startDistributedWorkers({
      brokers,
      suffix: `eos-${suffix}`,
      count: 2,
      extra: { 'exactly.once.source.support': 'enabled' },
    }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopWorker(w)));
  }, 60_000);

  it('a worker SIGKILLed mid-transaction: read_committed sees every sequence number exactly once', async () => {
    const created = await restWhenJoined(
      workers[0]!.url,
      'POST',
      '/connectors',
      {
        name: 'eos',
        config: {
          'connector.class': 'erpstream.connectors.SequenceSourceConnector',
          'tasks.max': '2',
          topic,
          'records.per.second': '200',
          'batch.size': '20',
          // Long transactions, so the kill lands inside one.
          'transaction.boundary': 'interval',
          'transaction.boundary.interval.ms': '3000',
        },
      },
      { timeoutMs: 60_000, what: 'the group to accept the connector' },
    );
    expect(created.status).toBe(201);
    const running = await waitFor(
      async () => {
        const s = (await rest<Status>(workers[0]!.url, 'GET', '/connectors/eos/status')).body;
        return s.tasks?.length === 2 && s.tasks.every((t) => t.state === 'RUNNING') ? s : null;
      },
      60_000,
      'two RUNNING tasks',
    );
    expect(new Set(running.tasks.map((t) => t.worker_id)).size).toBe(2);
    // Past the first commit, then 1.5 s into the next transaction.
    await new Promise((r) => setTimeout(r, 4500));
    const victim = workers[1]!;
    await killWorker(victim);
    const survivor = workers[0]!;
    await waitFor(
      async () => {
        const s = (await rest<Status>(survivor.url, 'GET', '/connectors/eos/status')).body;
        return (
          s.tasks?.length === 2 && s.tasks.every((t) => t.state === 'RUNNING' && t.worker_id === survivor.workerId)
        );
      },
      30_000,
      'both tasks to run on the survivor',
    );
    await new Promise((r) => setTimeout(r, 4000));
    const stop = await restWhenJoined(survivor.url, 'PUT', '/connectors/eos/stop', undefined, {
      timeoutMs: 30_000,
      what: 'stop',
    });
    expect(stop.status).toBe(204);
    await waitFor(
      async () => (await rest<Status>(survivor.url, 'GET', '/connectors/eos/status')).body.tasks?.length === 0,
      30_000,
      'tasks to stop',
    );

    const committed = await readTopic(brokers, topic);
    const perTask = new Map<number, number[]>();
    for (const r of committed) {
      const v = JSON.parse(r.value!) as { task: number; seq: number };
      const list = perTask.get(v.task) ?? [];
      perTask.set(v.task, list);
      list.push(Number(v.seq));
    }
    expect([...perTask.keys()].sort()).toEqual([0, 1]);
    for (const [task, list] of perTask) {
      const sorted = [...list].sort((a, b) => a - b);
      expect(sorted.length, `task ${task}: no duplicate`).toBe(new Set(sorted).size);
      expect(sorted[0], `task ${task}: starts at 0`).toBe(0);
      expect(sorted[sorted.length - 1], `task ${task}: no gap`).toBe(sorted.length - 1);
    }
    // The victim's open transaction was aborted (fenced by the new owner): its records exist but are
    // invisible to read_committed.
    const all = await readTopic(brokers, topic, true);
    expect(all.length).toBeGreaterThan(committed.length);

    // Offsets went to the offsets topic in the same transactions, in Connect's format.
    const offsets = await readTopic(brokers, `it-dist-eos-${suffix}-offsets`);
    const last = offsets.filter((r) => r.key === '["eos",{"task":0}]').pop()!;
    expect(JSON.parse(last.value!)).toEqual({ seq: perTask.get(0)!.length - 1 });
    workers = [survivor];
  }, 180_000);
});
