import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer } from '../../../../runtime/kafka/index.js';
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
  connector: { state: string; worker_id: string };
  tasks: Array<{ id: number; state: string; worker_id: string }>;
}

/** For each task, the set of sequence numbers in the topic; a gap means a lost record. */
function sequences(records: Array<{ value: string | null }>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const r of records) {
    const v = JSON.parse(r.value!) as { task: number; seq: number };
    const list = out.get(v.task) ?? [];
    out.set(v.task, list);
    list.push(Number(v.seq));
  }
  return out;
}

describe('distributed workers: three processes in one group', () => {
  const suffix = uniqueSuffix();
  const topic = `it-dist-seq-${suffix}`;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    ({ workers } = await startDistributedWorkers({ brokers, suffix, count: 3 }));
  }, 120_000);

  afterAll(async () => {
    // A graceful stop (tasks drained, group left) exits 0.
    expect(await Promise.all(workers.map((w) => stopWorker(w)))).toEqual(workers.map(() => 0));
  }, 60_000);

  it('shares tasks, moves a SIGKILLed worker’s tasks to the survivors in time, and loses no record', async () => {
    // Every worker must be in the group before writes are accepted (they answer 409 until then).
    const created = await restWhenJoined(
      workers[2]!.url,
      'POST',
      '/connectors',
      {
        name: 'seq',
        config: {
          'connector.class': 'erpstream.connectors.SequenceSourceConnector',
          'tasks.max': '6',
          topic,
          'records.per.second': '40',
        },
      },
      { timeoutMs: 60_000, what: 'the group to accept the connector' },
    );
    expect(created.status).toBe(201);

    const running = await waitFor(
      async () => {
        const s = (await rest<Status>(workers[0]!.url, 'GET', '/connectors/seq/status')).body;
        return s.tasks?.length === 6 && s.tasks.every((t) => t.state === 'RUNNING') ? s : null;
      },
      60_000,
      'six RUNNING tasks',
    );
    // Work is spread over all three workers (round-robin).
    const owners = new Set(running.tasks.map((t) => t.worker_id));
    expect(owners.size).toBe(3);

    await new Promise((r) => setTimeout(r, 2000));
    const victim = workers.find((w) => running.tasks.some((t) => t.worker_id === w.workerId) && w !== workers[0])!;
    const killedAt = Date.now();
    await killWorker(victim);
    const survivors = workers.filter((w) => w !== victim);
    const moved = await waitFor(
      async () => {
        const s = (await rest<Status>(survivors[0]!.url, 'GET', '/connectors/seq/status')).body;
        return s.tasks?.length === 6 && s.tasks.every((t) => t.state === 'RUNNING' && t.worker_id !== victim.workerId)
          ? s
          : null;
      },
      30_000,
      'the dead worker’s tasks to run on the survivors',
    );
    const moveMs = Date.now() - killedAt;
    console.log(`tasks moved ${moveMs} ms after SIGKILL (session.timeout.ms=6000)`);
    expect(new Set(moved.tasks.map((t) => t.worker_id)).size).toBe(2);
    expect(moveMs).toBeLessThan(30_000);

    // Let the moved tasks produce, then stop and check every task's sequence has no gap.
    await new Promise((r) => setTimeout(r, 2000));
    const stop = await restWhenJoined(survivors[1]!.url, 'PUT', '/connectors/seq/stop', undefined, {
      timeoutMs: 30_000,
      what: 'stop',
    });
    expect(stop.status).toBe(204);
    await waitFor(
      async () => (await rest<Status>(survivors[0]!.url, 'GET', '/connectors/seq/status')).body.tasks?.length === 0,
      30_000,
      'tasks to stop',
    );
    const seqs = sequences(await readTopic(brokers, topic));
    expect([...seqs.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [task, list] of seqs) {
      const distinct = [...new Set(list)].sort((a, b) => a - b);
      // At-least-once: replays after the kill are allowed, gaps are not.
      expect(distinct[0], `task ${task} starts at 0`).toBe(0);
      expect(distinct.length, `task ${task} has no gap`).toBe(distinct[distinct.length - 1]! + 1);
    }
    workers = survivors;
  }, 180_000);

  it('stores configs, statuses and offsets in Kafka Connect’s record formats', async () => {
    const configs = await readTopic(brokers, `it-dist-${suffix}-configs`);
    const byKey = new Map(configs.map((r) => [r.key, r.value === null ? null : JSON.parse(r.value)]));
    expect(byKey.get('connector-seq')).toEqual({
      properties: expect.objectContaining({ topic, 'tasks.max': '6', name: 'seq' }),
    });
    expect(byKey.get('target-state-seq')).toEqual({ state: 'PAUSED', 'state.v2': 'STOPPED' });
    expect(byKey.get('commit-seq')).toEqual({ tasks: 0 });
    // The six task configs were written before their commit record.
    const firstCommit = configs.findIndex((r) => r.key === 'commit-seq');
    const taskKeys = configs.slice(0, firstCommit).filter((r) => r.key?.startsWith('task-seq-'));
    expect(taskKeys.map((r) => r.key).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `task-seq-${i}`));
    expect(JSON.parse(configs[firstCommit]!.value!)).toEqual({ tasks: 6 });
    expect(JSON.parse(taskKeys[0]!.value!)).toEqual({
      properties: expect.objectContaining({ topic, 'task.class': 'erpstream.connectors.SequenceSourceTask' }),
    });

    const offsets = await readTopic(brokers, `it-dist-${suffix}-offsets`);
    const offsetKeys = new Set(offsets.map((r) => r.key));
    for (let t = 0; t < 6; t++) expect(offsetKeys.has(`["seq",{"task":${t}}]`)).toBe(true);
    expect(JSON.parse(offsets.find((r) => r.key === '["seq",{"task":0}]')!.value!)).toEqual({
      seq: expect.any(Number),
    });

    const statuses = await readTopic(brokers, `it-dist-${suffix}-status`);
    const connectorStatus = statuses.filter((r) => r.key === 'status-connector-seq' && r.value !== null).pop()!;
    expect(JSON.parse(connectorStatus.value!)).toEqual({
      state: 'STOPPED',
      trace: null,
      worker_id: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      generation: expect.any(Number),
    });
    expect(statuses.some((r) => r.key === 'status-task-seq-0')).toBe(true);
  }, 120_000);

  it('accepts a write on any worker: non-leaders forward it to the leader', async () => {
    for (const [i, w] of workers.entries()) {
      const r = await restWhenJoined(
        w.url,
        'PUT',
        `/connectors/fwd-${i}/config`,
        {
          'connector.class': 'erpstream.connectors.SequenceSourceConnector',
          topic: `${topic}-fwd`,
          'records.per.second': '1',
        },
        { timeoutMs: 30_000, what: `PUT through ${w.url}` },
      );
      expect(r.status).toBe(201);
    }
    for (const w of workers) {
      await waitFor(
        async () =>
          (await rest<string[]>(w.url, 'GET', '/connectors')).body.filter((n) => n.startsWith('fwd-')).length ===
          workers.length,
        10_000,
        'every worker to see every connector',
      );
    }
    // Pause from one worker, resume from another: the target state is in the config topic for all.
    const [w0, w1] = [workers[0]!, workers[1]!];
    expect((await rest(w1.url, 'PUT', '/connectors/fwd-0/pause')).status).toBe(202);
    await waitFor(
      async () => {
        const s = (await rest<Status>(w0.url, 'GET', '/connectors/fwd-0/status')).body;
        return s.connector.state === 'PAUSED' && s.tasks[0]?.state === 'PAUSED';
      },
      15_000,
      'fwd-0 to pause',
    );
    expect((await rest(w0.url, 'PUT', '/connectors/fwd-0/resume')).status).toBe(202);
    await waitFor(
      async () => (await rest<Status>(w1.url, 'GET', '/connectors/fwd-0/status')).body.tasks[0]?.state === 'RUNNING',
      15_000,
      'fwd-0 to resume',
    );
    // Restarts reach the workers that own the instances, wherever the request arrives.
    const restart = await rest<Status>(w1.url, 'POST', '/connectors/fwd-0/restart?includeTasks=true');
    expect(restart.status).toBe(202);
    expect(restart.body.connector.state).toBe('RESTARTING');
    expect(restart.body.tasks.map((t) => t.state)).toEqual(['RESTARTING']);
    for (const w of workers) {
      expect((await rest(w.url, 'POST', '/connectors/fwd-0/tasks/0/restart')).status).toBe(204);
    }
    await waitFor(
      async () => {
        const s = (await rest<Status>(w0.url, 'GET', '/connectors/fwd-0/status')).body;
        return s.connector.state === 'RUNNING' && s.tasks[0]?.state === 'RUNNING';
      },
      15_000,
      'fwd-0 to run again after the restarts',
    );

    const dup = await rest<{ error_code: number; message: string }>(workers[1]!.url, 'POST', '/connectors', {
      name: 'fwd-0',
      config: { 'connector.class': 'erpstream.connectors.SequenceSourceConnector', topic: `${topic}-fwd` },
    });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ error_code: 409, message: 'Connector fwd-0 already exists' });
    for (const [i] of workers.entries())
      expect((await rest(workers[0]!.url, 'DELETE', `/connectors/fwd-${i}`)).status).toBe(204);
  }, 90_000);

  it('restarts a paused sink connector’s task paused: it reads nothing until resumed, then everything', async () => {
    // A task that starts paused (restarted here; moved by a rebalance or a worker restart alike) was FAILED:
    // kafkajs cannot pause a consumer before it runs.
    const sinkTopic = `${topic}-paused-sink`;
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-paused-sink-')), 'out.txt');
    const [w0, w1] = [workers[0]!, workers[1]!];
    const lines = async () => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const tasksIn = async (state: string) => {
      const s = (await rest<Status>(w1.url, 'GET', '/connectors/paused-sink/status')).body;
      return s.tasks?.length === 1 && s.tasks.every((t) => t.state === state);
    };
    const created = await restWhenJoined(
      w0.url,
      'PUT',
      '/connectors/paused-sink/config',
      {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        topics: sinkTopic,
        file,
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
      { timeoutMs: 30_000, what: 'the sink created' },
    );
    expect(created.status).toBe(201);
    await waitFor(() => tasksIn('RUNNING'), 30_000, 'the sink task RUNNING');
    expect((await rest(w1.url, 'PUT', '/connectors/paused-sink/pause')).status).toBe(202);
    await waitFor(() => tasksIn('PAUSED'), 15_000, 'the sink task PAUSED');
    expect((await rest(w0.url, 'POST', '/connectors/paused-sink/restart?includeTasks=true')).status).toBe(202);
    await waitFor(() => tasksIn('PAUSED'), 15_000, 'the restarted sink task PAUSED (not FAILED)');
    const kafka = createKafka({ brokers, clientId: 'it-paused-sink' });
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      await producer.send({ topic: sinkTopic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })) });
    } finally {
      await producer.disconnect();
    }
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await lines()).toEqual([]);
    expect(await tasksIn('PAUSED')).toBe(true);
    expect((await rest(w1.url, 'PUT', '/connectors/paused-sink/resume')).status).toBe(202);
    await waitFor(async () => (await lines()).length === 10, 20_000, 'the 10 records written after the resume');
    expect(await lines()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect((await rest(w0.url, 'DELETE', '/connectors/paused-sink')).status).toBe(204);
  }, 90_000);

  it('fails over the leader: after the leader dies, the survivor leads and accepts writes', async () => {
    /** The leader of the latest generation, from the worker's own log line. */
    const leaderOf = (w: WorkerProcess): string | null => {
      for (const line of [...w.stderr].reverse()) {
        if (!line.includes('Joined worker group generation')) continue;
        return (JSON.parse(line) as { leader?: string }).leader ?? null;
      }
      return null;
    };
    const leaderId = await waitFor(() => leaderOf(workers[0]!), 10_000, 'a leader');
    const leader = workers.find((w) => w.workerId === leaderId)!;
    expect(leader).toBeDefined();
    const survivor = workers.find((w) => w !== leader)!;
    await killWorker(leader);
    const r = await restWhenJoined(
      survivor.url,
      'PUT',
      '/connectors/after-failover/config',
      {
        'connector.class': 'erpstream.connectors.SequenceSourceConnector',
        topic: `${topic}-failover`,
        'records.per.second': '1',
      },
      { timeoutMs: 30_000, what: 'a write after the leader died' },
    );
    expect(r.status).toBe(201);
    expect(leaderOf(survivor)).toBe(survivor.workerId);
    await waitFor(
      async () =>
        (await rest<Status>(survivor.url, 'GET', '/connectors/after-failover/status')).body.tasks?.[0]?.state ===
        'RUNNING',
      20_000,
      'the new connector to run on the survivor',
    );
    workers = [survivor];
  }, 90_000);
});
