import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../../runtime/api/index.js';
import { type Admin, type Kafka, createKafka, createProducer, ensureTopics } from '../../../../runtime/kafka/index.js';
import { KafkaConfigStore } from '../../../../runtime/worker/distributed/kafka-config-store.js';
import { KafkaBasedLog, ensureInternalTopic } from '../../../../runtime/worker/distributed/kafka-log.js';
import { KafkaOffsetStore } from '../../../../runtime/worker/distributed/kafka-offset-store.js';
import { KafkaStatusStore } from '../../../../runtime/worker/distributed/kafka-status-store.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { readTopic, waitFor } from './cluster.js';

const brokers = requireEnv('KAFKA_BROKERS');
const logger = { warn: vi.fn(), error: vi.fn(), info: vi.fn(), debug: vi.fn() } as unknown as Logger;

describe('Kafka-backed worker stores', () => {
  let kafka: Kafka;
  let admin: Admin;
  const logs: KafkaBasedLog[] = [];

  beforeAll(async () => {
    kafka = createKafka({ brokers, clientId: 'it-dist-stores', logLevel: 'nothing' });
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(logs.map((l) => l.stop()));
    await admin.disconnect();
  });

  async function log(topic: string, apply: (r: Parameters<ConstructorParameters<typeof KafkaBasedLog>[4]>[0]) => void) {
    const l = new KafkaBasedLog(kafka, admin, topic, 'it-dist-stores', apply);
    logs.push(l);
    await l.start();
    return l;
  }

  it('creates a missing internal topic compacted, and refuses one that is not compact-only', async () => {
    const created = `it-dist-created-${uniqueSuffix()}`;
    await ensureInternalTopic(admin, {
      topic: created,
      setting: 'status.storage.topic',
      partitions: 2,
      replicationFactor: 3,
    });
    const cfg = await admin.describeConfigs({
      resources: [{ type: 2, name: created, configNames: ['cleanup.policy'] }],
      includeSynonyms: false,
    });
    expect(cfg.resources[0]!.configEntries[0]!.configValue).toBe('compact');

    const wrong = `it-dist-delete-${uniqueSuffix()}`;
    await ensureTopics(admin, [{ topic: wrong, configs: { 'cleanup.policy': 'delete' } }]);
    await expect(
      ensureInternalTopic(admin, {
        topic: wrong,
        setting: 'offset.storage.topic',
        partitions: 1,
        replicationFactor: 1,
      }),
    ).rejects.toThrow(
      `Topic '${wrong}' supplied via the 'offset.storage.topic' property is required to have 'cleanup.policy=compact'`,
    );

    const twoPartitions = `it-dist-2p-${uniqueSuffix()}`;
    await ensureTopics(admin, [{ topic: twoPartitions, numPartitions: 2, configs: { 'cleanup.policy': 'compact' } }]);
    await expect(
      ensureInternalTopic(admin, {
        topic: twoPartitions,
        setting: 'config.storage.topic',
        partitions: 1,
        replicationFactor: 1,
        singlePartition: true,
      }),
    ).rejects.toThrow('is required to have a single partition');
  }, 60_000);

  it('config store: writes Connect’s records and a second store following the topic sees them', async () => {
    const topic = `it-dist-configs-${uniqueSuffix()}`;
    await ensureInternalTopic(admin, {
      topic,
      setting: 'config.storage.topic',
      partitions: 1,
      replicationFactor: 1,
      singlePartition: true,
    });
    const a = new KafkaConfigStore(logger);
    a.attach(await log(topic, (r) => a.apply(r)));
    await a.putConnector('orders', { 'connector.class': 'X', 'tasks.max': '2' }, 'PAUSED');
    await a.putTaskConfigs('orders', [{ t: '0' }, { t: '1' }]);
    const changed: string[] = [];
    const b = new KafkaConfigStore(logger, { onChange: (c) => changed.push(c) });
    b.attach(await log(topic, (r) => b.apply(r)));
    expect(b.get('orders')).toEqual({
      config: { 'connector.class': 'X', 'tasks.max': '2' },
      targetState: 'PAUSED',
      taskConfigs: [{ t: '0' }, { t: '1' }],
    });
    await a.putTargetState('orders', 'STARTED');
    await waitFor(() => b.get('orders')?.targetState === 'STARTED', 10_000, 'b to follow the target state');
    await a.removeConnector('orders');
    await waitFor(() => b.get('orders') === undefined, 10_000, 'b to follow the deletion');

    const raw = await readTopic(brokers, topic);
    expect(raw.map((r) => [r.key, r.value === null ? null : JSON.parse(r.value)])).toEqual([
      ['target-state-orders', { state: 'PAUSED', 'state.v2': 'PAUSED' }],
      ['connector-orders', { properties: { 'connector.class': 'X', 'tasks.max': '2' } }],
      ['task-orders-0', { properties: { t: '0' } }],
      ['task-orders-1', { properties: { t: '1' } }],
      ['commit-orders', { tasks: 2 }],
      ['target-state-orders', { state: 'STARTED', 'state.v2': 'STARTED' }],
      ['connector-orders', null],
      ['target-state-orders', null],
    ]);
  }, 60_000);

  it('exactly-once offset store: an offset committed behind another task’s open transaction is read, not a stale one', async () => {
    const topic = `it-dist-offsets-tx-${uniqueSuffix()}`;
    await ensureInternalTopic(admin, { topic, setting: 'offset.storage.topic', partitions: 1, replicationFactor: 1 });
    const follower = new KafkaOffsetStore(topic, true);
    follower.attach(await log(topic, (r) => follower.apply(r)));
    const lso = new KafkaOffsetStore(topic);
    lso.attach(await log(topic, (r) => lso.apply(r)));
    const producer = (id: string) => createProducer(kafka, { transactionalId: `${topic}-${id}` });
    const other = producer('other-task');
    const owner = producer('old-owner');
    await Promise.all([other.connect(), owner.connect()]);
    try {
      // Another task's transaction opens first and stays open (a long transaction.boundary interval)...
      const open = await other.transaction();
      await open.send({ topic, messages: [{ key: '["c",{"table":"b"}]', value: '{"seq":1}' }] });
      // ...then the previous owner of table a commits its last chunk's offset behind it.
      const tx = await owner.transaction();
      await tx.send({ topic, messages: [{ key: '["c",{"table":"a"}]', value: '{"snapshot_rows":200}' }] });
      await tx.commit();
      // read_committed stops at the first open transaction: a store reading to the last stable offset misses it.
      expect(await lso.get('c', { table: 'a' })).toBeNull();
      // The task taking over table a waits for the open transaction to end, and resumes after the chunk.
      const ended = new Promise((r) => setTimeout(r, 1500)).then(() => open.commit());
      expect(await follower.get('c', { table: 'a' })).toEqual({ snapshot_rows: 200 });
      await ended;
      expect(await follower.get('c', { table: 'b' })).toEqual({ seq: 1 });
    } finally {
      await Promise.all([other.disconnect(), owner.disconnect()]);
    }
  }, 60_000);

  it('offset store: canonical keys, tombstones, and a second store reads what the first wrote', async () => {
    const topic = `it-dist-offsets-${uniqueSuffix()}`;
    await ensureInternalTopic(admin, { topic, setting: 'offset.storage.topic', partitions: 3, replicationFactor: 1 });
    const a = new KafkaOffsetStore(topic);
    a.attach(await log(topic, (r) => a.apply(r)));
    await a.set('orders-outbox', [
      { partition: { table: 'outbox', db: 'shop' }, offset: { lsn: 12345678, txId: 42 } },
      { partition: { table: 'other', db: 'shop' }, offset: { lsn: 1 } },
    ]);
    await a.set('orders-outbox', [{ partition: { db: 'shop', table: 'other' }, offset: null }]);
    const b = new KafkaOffsetStore(topic);
    b.attach(await log(topic, (r) => b.apply(r)));
    // Key order of the partition does not matter: keys are canonical.
    expect(await b.get('orders-outbox', { db: 'shop', table: 'outbox' })).toEqual({ lsn: 12345678, txId: 42 });
    expect(await b.get('orders-outbox', { table: 'other', db: 'shop' })).toBeNull();
    expect(await b.list('orders-outbox')).toEqual([
      { partition: { db: 'shop', table: 'outbox' }, offset: { lsn: 12345678, txId: 42 } },
    ]);
    const raw = await readTopic(brokers, topic);
    expect(raw.map((r) => [r.key, r.value]).sort()).toEqual(
      [
        ['["orders-outbox",{"db":"shop","table":"outbox"}]', '{"lsn":12345678,"txId":42}'],
        ['["orders-outbox",{"db":"shop","table":"other"}]', '{"lsn":1}'],
        ['["orders-outbox",{"db":"shop","table":"other"}]', null],
      ].sort(),
    );
  }, 60_000);

  it('status store: Connect’s status records, followed by other workers', async () => {
    const topic = `it-dist-status-${uniqueSuffix()}`;
    await ensureInternalTopic(admin, { topic, setting: 'status.storage.topic', partitions: 2, replicationFactor: 1 });
    const a = new KafkaStatusStore(logger);
    a.attach(await log(topic, (r) => a.apply(r)));
    const b = new KafkaStatusStore(logger);
    b.attach(await log(topic, (r) => b.apply(r)));
    a.putConnector('orders', { state: 'RUNNING', trace: null, workerId: '127.0.0.1:8083', generation: 3 });
    a.putTask('orders', 0, { state: 'FAILED', trace: 'boom', workerId: '127.0.0.1:8083', generation: 3 });
    await a.flush();
    await waitFor(() => b.task('orders', 0)?.state === 'FAILED', 10_000, 'b to follow the task status');
    expect(b.connector('orders')).toEqual({ state: 'RUNNING', trace: null, workerId: '127.0.0.1:8083', generation: 3 });
    const raw = await readTopic(brokers, topic);
    expect(Object.fromEntries(raw.map((r) => [r.key, JSON.parse(r.value!)]))).toEqual({
      'status-connector-orders': { state: 'RUNNING', trace: null, worker_id: '127.0.0.1:8083', generation: 3 },
      'status-task-orders-0': { state: 'FAILED', trace: 'boom', worker_id: '127.0.0.1:8083', generation: 3 },
    });
  }, 60_000);
});
