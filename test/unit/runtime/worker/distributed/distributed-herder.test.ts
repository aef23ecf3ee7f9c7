import { describe, expect, it, vi } from 'vitest';
import { type Logger, RetriableError } from '../../../../../runtime/api/index.js';
import { ConfigTransformer, defaultConfigProviders } from '../../../../../runtime/config-providers/index.js';
import { builtinRegistry } from '../../../../../bundle/builtin.js';
import { DistributedHerder, REBALANCE_MESSAGE } from '../../../../../runtime/worker/distributed/distributed-herder.js';
import { KafkaConfigStore } from '../../../../../runtime/worker/distributed/kafka-config-store.js';
import type { KafkaOffsetStore } from '../../../../../runtime/worker/distributed/kafka-offset-store.js';
import { httpStatusOf } from '../../../../../runtime/rest/error-status.js';
import { KafkaStatusStore } from '../../../../../runtime/worker/distributed/kafka-status-store.js';
import type { KafkaPort } from '../../../../../runtime/worker/kafka-port.js';
import type { TaskListener } from '../../../../../runtime/worker/task-context.js';
import type { Worker } from '../../../../../runtime/worker/worker.js';

const logger = { warn: vi.fn(), error: vi.fn(), info: vi.fn(), debug: vi.fn() } as unknown as Logger;
/** A record of the config or status topic, as KafkaBasedLog hands it over. */
const rec = (key: string, value: unknown) => ({
  key,
  value: Buffer.from(JSON.stringify(value)),
  partition: 0,
  offset: 0n,
});
const config = { 'connector.class': 'erpstream.connectors.SequenceSourceConnector', topic: 't' };

function herder() {
  const h = new DistributedHerder({
    workerId: '127.0.0.1:1',
    registry: builtinRegistry(),
    worker: { close: async () => {} } as unknown as Worker,
    transformer: new ConfigTransformer(defaultConfigProviders()),
    configStore: new KafkaConfigStore(logger),
    offsetStore: {} as KafkaOffsetStore,
    statusStore: new KafkaStatusStore(logger),
    kafka: {} as KafkaPort,
    logger,
    topicTracking: { enable: true, allowReset: true },
  });
  return h;
}

describe('DistributedHerder writes during a rebalance', () => {
  // The herder raises the domain error; the REST edge answers it with Connect's 409 (clients retry that).
  it('refuses with a rebalance in progress (Connect’s 409) before the worker joined the group', async () => {
    const refused = herder().putConnectorConfig('c', config, { allowReplace: true });
    await expect(refused).rejects.toMatchObject({
      code: 'ERPSTREAM_REBALANCE_IN_PROGRESS',
      message: REBALANCE_MESSAGE,
    });
    expect(httpStatusOf(await refused.catch((e: unknown) => e))).toBe(409);
    expect(REBALANCE_MESSAGE).toBe(
      'Cannot complete request because of a conflicting operation (e.g. worker rebalance)',
    );
  });

  it('refuses while a rebalance is in progress, and a forward to an unreachable leader the same way', async () => {
    const h = herder();
    const leader = { workerId: '127.0.0.1:9', url: 'http://127.0.0.1:9/' };
    h.onView({
      generation: 2,
      leader,
      members: [leader, { workerId: '127.0.0.1:1', url: 'http://127.0.0.1:1/' }],
      assignment: {},
    });
    h.onRebalancing();
    await expect(h.deleteConnector('c')).rejects.toMatchObject({ code: 'ERPSTREAM_REBALANCE_IN_PROGRESS' });
    h.onView({
      generation: 3,
      leader,
      members: [leader, { workerId: '127.0.0.1:1', url: 'http://127.0.0.1:1/' }],
      assignment: {},
    });
    // Port 9 (discard) is closed: the leader is gone, so the client should retry after the rebalance.
    await expect(h.stopConnector('c')).rejects.toMatchObject({
      code: 'ERPSTREAM_REBALANCE_IN_PROGRESS',
      message: REBALANCE_MESSAGE,
    });
  });
});

/**
 * A herder (worker a:1) over connector `c` with one task, on a fake worker; `overrides` replace its methods. The
 * listeners the worker was given for its task starts, in order.
 */
function cluster(overrides: Record<string, unknown> = {}) {
  const listeners: TaskListener[] = [];
  const worker = {
    close: async () => {},
    startConnector: async () => {},
    stopConnector: async () => {},
    isConnectorRunning: () => true,
    taskConfigs: async () => [{ t: '0' }],
    startTask: async (_c: string, _t: number, _cfg: unknown, _tc: unknown, _p: boolean, l: TaskListener) =>
      void listeners.push(l),
    stopTask: async () => {},
    ...overrides,
  } as unknown as Worker;
  const configStore = new KafkaConfigStore(logger);
  configStore.apply(rec('connector-c', { properties: config }));
  configStore.apply(rec('task-c-0', { properties: { t: '0' } }));
  configStore.apply(rec('commit-c', { tasks: 1 }));
  const statusStore = new KafkaStatusStore(logger);
  const h = new DistributedHerder({
    workerId: 'a:1',
    registry: builtinRegistry(),
    worker,
    transformer: new ConfigTransformer(defaultConfigProviders()),
    configStore,
    offsetStore: {} as KafkaOffsetStore,
    statusStore,
    kafka: {} as KafkaPort,
    logger,
    topicTracking: { enable: true, allowReset: true },
  });
  h.start();
  return { h, listeners, statusStore };
}

describe('DistributedHerder task instances across rebalances', () => {
  const a = { workerId: 'a:1', url: 'http://a:1/' };
  const b = { workerId: 'b:1', url: 'http://b:1/' };
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('keeps running what stays assigned, and its status keeps the generation it started in', async () => {
    const { h, listeners, statusStore } = cluster();
    const units = [
      { connector: 'c', task: -1 },
      { connector: 'c', task: 0 },
    ];
    h.onView({ generation: 3, leader: a, members: [a, b], assignment: { 'a:1': units } });
    await settle();
    listeners[0]!.onState('RUNNING');
    h.onView({ generation: 4, leader: b, members: [a, b], assignment: { 'a:1': units, 'b:1': [] } });
    await settle();
    expect(listeners).toHaveLength(1);
    listeners[0]!.onState('RUNNING');
    expect(statusStore.task('c', 0)).toMatchObject({ state: 'RUNNING', workerId: 'a:1', generation: 3 });
    expect(h.ownedUnits()).toEqual(expect.arrayContaining(units));
  });

  it('a moved task’s fenced instance never replaces the new owner’s status', async () => {
    const { h, listeners, statusStore } = cluster();
    h.onView({ generation: 3, leader: a, members: [a, b], assignment: { 'a:1': [{ connector: 'c', task: 0 }] } });
    await settle();
    listeners[0]!.onState('RUNNING');
    // b runs it from generation 5 on (a rebalance a has not applied yet), and fenced a's producer.
    statusStore.apply(rec('status-task-c-0', { state: 'RUNNING', trace: null, worker_id: 'b:1', generation: 5 }));
    const fenced = Object.assign(new Error('Producer attempted an operation with an old epoch'), {
      type: 'INVALID_PRODUCER_EPOCH',
    });
    listeners[0]!.onState('FAILED', fenced);
    expect(statusStore.task('c', 0)).toMatchObject({ state: 'RUNNING', workerId: 'b:1', generation: 5 });
    // Once a applies the new view, the instance is no longer wanted: a fenced failure is not reported at all.
    h.onView({ generation: 5, leader: b, members: [a, b], assignment: { 'b:1': [{ connector: 'c', task: 0 }] } });
    listeners[0]!.onState('FAILED', fenced);
    expect(statusStore.task('c', 0)?.workerId).toBe('b:1');
  });
});

describe('KafkaStatusStore', () => {
  it('does not let a status of an older generation from another worker replace a newer one', () => {
    const s = new KafkaStatusStore(logger);
    s.apply(rec('status-task-my-conn-2', { state: 'RUNNING', trace: null, worker_id: 'b:1', generation: 5 }));
    s.apply(rec('status-task-my-conn-2', { state: 'FAILED', trace: 'x', worker_id: 'a:1', generation: 4 }));
    expect(s.task('my-conn', 2)).toEqual({ state: 'RUNNING', trace: null, workerId: 'b:1', generation: 5 });
    s.apply(rec('status-task-my-conn-2', { state: 'PAUSED', trace: null, worker_id: 'b:1', generation: 5 }));
    expect(s.task('my-conn', 2)?.state).toBe('PAUSED');
  });
  it('does not write an older instance’s status over the newer owner’s (a fenced task’s late FAILED)', () => {
    const s = new KafkaStatusStore(logger);
    const sent: unknown[] = [];
    s.attach({ send: async (r: unknown[]) => void sent.push(...r) } as never);
    s.apply(rec('status-task-c-0', { state: 'RUNNING', trace: null, worker_id: 'b:1', generation: 7 }));
    s.putTask('c', 0, { state: 'FAILED', trace: 'old epoch', workerId: 'a:1', generation: 3 });
    expect(s.task('c', 0)).toMatchObject({ state: 'RUNNING', workerId: 'b:1' });
    expect(sent).toEqual([]);
    // The owner itself, and a later generation elsewhere, still write.
    s.putTask('c', 0, { state: 'FAILED', trace: 'x', workerId: 'b:1', generation: 7 });
    s.putTask('c', 0, { state: 'RUNNING', trace: null, workerId: 'a:1', generation: 8 });
    expect(s.task('c', 0)).toMatchObject({ state: 'RUNNING', workerId: 'a:1', generation: 8 });
    expect(s.maxGeneration()).toBe(7);
  });
  it('follows topic-tracking records', () => {
    const s = new KafkaStatusStore(logger);
    s.apply(rec('status-topic-orders:connector-c', { topic: { name: 'orders', connector: 'c', task: 0 } }));
    expect(s.topics('c')).toEqual(['orders']);
  });
});

describe('DistributedHerder: a connector whose start() meets an outage', () => {
  const a = { workerId: 'a:1', url: 'http://a:1/' };

  it('is RESTARTING and started again by its owner until the start succeeds', async () => {
    const failures = 2;
    let starts = 0;
    const error = () => new RetriableError('Connecting to PostgreSQL: database connection problem (ECONNREFUSED)');
    const { h, statusStore } = cluster({
      startConnector: async () => {
        starts++;
        if (starts <= failures) throw error();
      },
      outageWaitMs: () => 60_000,
    });
    h.onView({ generation: 1, leader: a, members: [a], assignment: { 'a:1': [{ connector: 'c', task: -1 }] } });
    await new Promise((r) => setTimeout(r, 50));
    expect(statusStore.connector('c')).toMatchObject({ state: 'RESTARTING' });
    expect(statusStore.connector('c')!.trace).toContain('ECONNREFUSED');
    const deadline = Date.now() + 5_000;
    while (statusStore.connector('c')?.state !== 'RUNNING' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(statusStore.connector('c')).toMatchObject({ state: 'RUNNING' });
    expect(starts).toBe(3);

    await h.stop();
  });
});
