import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { destination, testRegistry } from '../../unit/runtime/worker/test-plugins.js';
import { uniqueSuffix } from '../env.js';
import { STRINGS, startTestWorker } from '../test-worker.js';
import { waitFor } from '../../support/worker.js';
import { type PrivateService, privateKafka } from './private-stack.js';

/**
 * A paused sink across a broker outage (a PRIVATE broker, SIGKILLed for ERPSTREAM_FAULT_DOWN_MS, 20 s by default):
 * kafkajs gives up on the dead broker, and restarts the task's consumer as a new consumer group object that knows
 * nothing of the pause. Asserted: the consumer was restarted, the task still takes nothing while paused (records
 * written after the outage stay in the topic), and a resume delivers every record once.
 */
const DOWN_MS = Number(process.env.ERPSTREAM_FAULT_DOWN_MS ?? 20_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a paused sink across a broker outage (private broker)', () => {
  const topic = `it-paused-outage-${uniqueSuffix()}`;
  let dir: string;
  let kafkaService: PrivateService;
  let worker: RunningWorker | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-paused-outage-'));
    kafkaService = await privateKafka(dir);
    const kafka = createKafka({ brokers: kafkaService.url, clientId: 'it-paused-outage', logLevel: 'nothing' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    await admin.disconnect();
    ({ worker } = await startTestWorker(
      'paused-outage',
      { ...STRINGS, 'bootstrap.servers': kafkaService.url },
      { registry: testRegistry(), logSink: (l) => logs.push(l) },
    ));
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await kafkaService?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stays paused after kafkajs restarted its consumer, and a resume delivers everything', async () => {
    Object.assign(destination, { down: false, broken: false, attempts: 0, delivered: [], stops: 0 });
    const url = worker!.url;
    const taskState = async () =>
      ((await (await fetch(`${url}/connectors/p/status`)).json()) as { tasks: Array<{ state: string }> }).tasks[0]
        ?.state;
    const kafka = createKafka({ brokers: kafkaService.url, clientId: 'it-paused-outage', logLevel: 'nothing' });
    const producer = createProducer(kafka);
    await producer.connect();
    const send = (values: string[]) => producer.send({ topic, messages: values.map((value) => ({ value })) });
    try {
      const created = await fetch(`${url}/connectors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'p', config: { 'connector.class': 'RetryingSink', topics: topic } }),
      });
      expect(created.status).toBe(201);
      await send(['a', 'b']);
      await waitFor(() => destination.delivered.length === 2, 30_000, 'a and b delivered');
      expect((await fetch(`${url}/connectors/p/pause`, { method: 'PUT' })).status).toBe(202);
      await waitFor(async () => (await taskState()) === 'PAUSED', 15_000, 'the task PAUSED');

      await kafkaService.kill();
      await sleep(DOWN_MS);
      await kafkaService.start();
      await waitFor(
        () => logs.some((l) => l.includes('Restarting the consumer')),
        60_000,
        'kafkajs to restart the task’s consumer',
      );
      const later = Array.from({ length: 10 }, (_, i) => `later-${i}`);
      await send(later);
      // Long enough for the restarted consumer to rejoin (session 10 s) and fetch, were it not paused.
      await sleep(15_000);
      expect([...destination.delivered].sort()).toEqual(['a', 'b']);
      expect(await taskState()).toBe('PAUSED');

      expect((await fetch(`${url}/connectors/p/resume`, { method: 'PUT' })).status).toBe(202);
      await waitFor(() => destination.delivered.length >= 12, 60_000, 'every record delivered after the resume');
      await sleep(1_000);
      expect([...destination.delivered].sort()).toEqual(['a', 'b', ...later].sort());
    } finally {
      await producer.disconnect();
    }
  }, 240_000);
});
