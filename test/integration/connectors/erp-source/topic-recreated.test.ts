import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import type { RunningWorker } from '../../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../../test-worker.js';
import { rest, waitFor } from '../../../support/worker.js';
import { type DbFixture, pgFixture, sourceProps } from './harness.js';

// A topic the ErpSource writes to is deleted while the connector runs (an operator resetting a topic) and a change
// comes before the operator creates it again: the task creates it again itself (as a broker with
// auto.create.topics.enable does for Connect) and goes on, instead of failing or waiting for "the Kafka broker".
// The deleted topic's events are gone with it; none from after the deletion.
const sfx = uniqueSuffix();
const prefix = `bugs_tr_${sfx}`;
const kafka = createKafka({
  brokers: requireEnv('KAFKA_BROKERS'),
  clientId: 'it-topic-recreated',
  logLevel: 'nothing',
});
const access = new KafkaPluginAccess(kafka, { clientId: 'it-topic-recreated' });
let db: DbFixture;
let worker: RunningWorker;
let topic: string;

async function ids(): Promise<number[]> {
  const out: number[] = [];
  await access.readAll(topic, (_k, value) => {
    if (value) out.push((JSON.parse(value.toString()) as { after: { id: number } }).after.id);
  });
  return out.sort((a, b) => a - b);
}

async function topicExists(): Promise<boolean> {
  return (await access.existingTopics([topic])).length === 1;
}

beforeAll(async () => {
  db = await pgFixture();
  await db.createCaptured('item', 'id int PRIMARY KEY, name text');
  topic = `${prefix}.${db.schema}.item`;
  ({ worker } = await startTestWorker('bugs-topic-recreated', { ...SCHEMALESS_JSON }));
});

afterAll(async () => {
  await worker?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  await db?.close();
});

describe('ErpSource: its topic deleted and created again while it runs', () => {
  it('goes on writing to the new topic', async () => {
    const put = await rest(
      worker.url,
      'PUT',
      `/connectors/bugs-tr-${sfx}/config`,
      sourceProps(db, { 'topic.prefix': prefix }),
    );
    expect(put.status).toBeLessThan(300);
    await db.exec(`INSERT INTO "${db.schema}".item VALUES (1, 'one')`);
    await waitFor(async () => (await topicExists()) && (await ids()).includes(1), 60_000, 'the first event');

    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic] });
      await waitFor(async () => !(await topicExists()), 30_000, 'the topic to be deleted');
      // An event written while the topic is gone is waited out, then written to the new topic.
      await db.exec(`INSERT INTO "${db.schema}".item VALUES (2, 'two')`);
      // The task tries to write 2 while its topic is gone.
      await new Promise((r) => setTimeout(r, 2000));
      await waitFor(
        async () =>
          admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] }).then(() => true),
        30_000,
        'the topic to be created again',
      );
    } finally {
      await admin.disconnect();
    }
    await db.exec(`INSERT INTO "${db.schema}".item VALUES (3, 'three')`);
    await waitFor(async () => (await ids()).includes(3), 60_000, 'the events after the topic came back');
    expect(await ids()).toEqual([2, 3]);
    const status = await rest<{ tasks: Array<{ state: string; waiting?: unknown }> }>(
      worker.url,
      'GET',
      `/connectors/bugs-tr-${sfx}/status`,
    );
    expect(status.body.tasks.map((t) => t.state)).toEqual(['RUNNING']);
    expect(status.body.tasks[0]?.waiting).toBeUndefined();
  });
});
