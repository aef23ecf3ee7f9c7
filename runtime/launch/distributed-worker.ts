import { ConfigError, type ErrorCode, ErpStreamError } from '../api/index.js';
import { HangingTransactionRepair, createKafka, retryTransient } from '../kafka/index.js';
import { WorkerGroup } from '../kafka/worker-group.js';
import type { JsonLogger, LogSink } from '../logging/index.js';
import { loadPluginPath, PLUGIN_PATH_CONFIG } from '../plugins/plugin-path.js';
import type { PluginRegistry } from '../plugins/registry.js';
import {
  buildWorker,
  kafkaClientLogSink,
  operationsLog,
  producerCompression,
  startRest,
  stopWorker,
  topicTrackingOf,
  workerLogging,
} from './bootstrap.js';
import { restSecurity } from '../rest/security.js';
import type { WorkerConfig } from '../worker/config.js';
import { KafkaJsPort } from '../worker/kafka-port.js';
import { taskTransactionalId } from '../worker/worker.js';
import type { WorkUnit } from '../worker/distributed/assignor.js';
import { DistributedHerder } from '../worker/distributed/distributed-herder.js';
import { KafkaConfigStore } from '../worker/distributed/kafka-config-store.js';
import { type InternalTopicSpec, KafkaBasedLog, ensureInternalTopic } from '../worker/distributed/kafka-log.js';
import { KafkaOffsetStore } from '../worker/distributed/kafka-offset-store.js';
import { KafkaStatusStore } from '../worker/distributed/kafka-status-store.js';

export interface DistributedWorkerOptions {
  config: WorkerConfig;
  /** Every plugin the worker may run (the entry point builds it: bundle/builtin.ts, then `plugin.path`). */
  registry: PluginRegistry;
  logSink?: LogSink;
}

export interface RunningDistributedWorker {
  url: string;
  workerId: string;
  herder: DistributedHerder;
  stop(): Promise<void>;
  logger: JsonLogger;
}

const num = (o: Record<string, string>, key: string, dflt: number): number => {
  const v = o[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw ConfigError.invalid(key, v, 'Expected a non-negative integer');
  return n;
};

/**
 * Assembles a distributed worker: the three internal topics (created compacted, or checked), stores that
 * follow them, the REST API, and membership in the worker group `group.id`.
 */
export async function startDistributedWorker(options: DistributedWorkerOptions): Promise<RunningDistributedWorker> {
  const { config } = options;
  const logging = workerLogging(config, options.logSink);
  const { logger } = logging;
  const timeoutMs = num(config.originals, 'worker.startup.timeout.ms', 120_000);
  const groupId = config.parsed.string('group.id');
  const start = new StartUp(logger);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ErpStreamError('ERPSTREAM_TIMEOUT', `did not finish within worker.startup.timeout.ms=${timeoutMs}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([assemble(options, logging, start, timeoutMs), timedOut]);
  } catch (e) {
    start.failed = true;
    await start.undo();
    const detail = e instanceof Error ? e.message : String(e);
    throw new WorkerStartError(
      `The distributed worker (group.id=${groupId}, bootstrap.servers=${config.bootstrapServers.join(',')}) could not start while ${start.phase}: ${detail}`,
      e,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** A start-up that cannot succeed: the command exits non-zero with this message. */
export class WorkerStartError extends Error {
  readonly code = 'ERPSTREAM_WORKER_START' satisfies ErrorCode;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'WorkerStartError';
  }
}

/** How often a worker looks for hanging transactions on its cluster's topics (HangingTransactionRepair). */
const HANGING_SWEEP_MS = 60_000;
/** What start-up is doing (for the error message) and what it must close if it fails. */
class StartUp {
  phase = 'starting';
  failed = false;
  private readonly undos: Array<() => Promise<unknown>> = [];
  constructor(private readonly logger: JsonLogger) {}
  step(phase: string): void {
    // Invariant: a timed-out start-up stops at its next step; this message never leaves (the timeout's does).
    if (this.failed) throw new Error('start-up was abandoned');
    this.phase = phase;
    this.logger.info(`Start-up: ${phase}`);
  }
  onFailure(undo: () => Promise<unknown>): void {
    this.undos.push(undo);
  }
  async undo(): Promise<void> {
    for (const u of this.undos.reverse()) await u().catch(() => {});
  }
}

async function assemble(
  options: DistributedWorkerOptions,
  { levels, logger }: ReturnType<typeof workerLogging>,
  start: StartUp,
  timeoutMs: number,
): Promise<RunningDistributedWorker> {
  const { config } = options;
  const o = config.originals;
  const { registry } = options;
  const pluginPath = config.parsed.list(PLUGIN_PATH_CONFIG);
  if (pluginPath.length > 0) {
    start.step(`loading the plugin packages of ${PLUGIN_PATH_CONFIG}=${pluginPath.join(',')}`);
    await loadPluginPath(registry, pluginPath, logger);
  }
  const groupId = config.parsed.string('group.id');
  const logSink = kafkaClientLogSink(logger);
  const kafka = new KafkaJsPort({ brokers: config.bootstrapServers, clientId: `erpstream-worker-${groupId}`, logSink });
  start.onFailure(() => kafka.close());
  const client = createKafka({ brokers: config.bootstrapServers, clientId: `erpstream-worker-${groupId}`, logSink });
  const admin = client.admin();
  start.onFailure(() => admin.disconnect());
  start.step(`connecting to the Kafka brokers ${config.bootstrapServers.join(',')}`);
  await retryTransient(() => admin.connect(), {
    timeoutMs,
    onRetry: (e) => logger.warn('Kafka is not reachable yet; retrying', { error: e }),
  });

  const compression = producerCompression(config);
  const eos = config.parsed.string('exactly.once.source.support').toLowerCase() === 'enabled';
  const topics = {
    config: config.parsed.string('config.storage.topic'),
    offset: config.parsed.string('offset.storage.topic'),
    status: config.parsed.string('status.storage.topic'),
  };
  const internal: InternalTopicSpec[] = [
    {
      topic: topics.config,
      setting: 'config.storage.topic',
      partitions: 1,
      replicationFactor: num(o, 'config.storage.replication.factor', 3),
      singlePartition: true,
    },
    {
      topic: topics.offset,
      setting: 'offset.storage.topic',
      partitions: num(o, 'offset.storage.partitions', 25),
      replicationFactor: num(o, 'offset.storage.replication.factor', 3),
    },
    {
      topic: topics.status,
      setting: 'status.storage.topic',
      partitions: num(o, 'status.storage.partitions', 5),
      replicationFactor: num(o, 'status.storage.replication.factor', 3),
    },
  ];
  for (const spec of internal) {
    start.step(`creating or checking the internal topic ${spec.topic} (${spec.setting})`);
    await ensureInternalTopic(admin, spec, { timeoutMs });
  }

  let herder: DistributedHerder | null = null;
  const configStore = new KafkaConfigStore(logger, {
    onChange: () => herder?.onConfigChange(),
    onRestart: (r) => herder?.onRestartRequest(r),
  });
  const statusStore = new KafkaStatusStore(logger);
  // Exactly-once: an offsets read held by a hanging transaction of one of this cluster's tasks ends it. Any worker:
  // another producer's transaction left open on a topic the connectors use (a sink stops there) is reported.
  const activeTopics = () => configStore.names().flatMap((name) => statusStore.topics(name));
  const hanging = new HangingTransactionRepair({
    brokers: config.bootstrapServers,
    clientId: `erpstream-worker-${groupId}-transactions`,
    logger,
    ownedTransactionalIds: () =>
      eos
        ? configStore
            .names()
            .flatMap((name) =>
              (configStore.get(name)?.taskConfigs ?? []).map((_, i) => taskTransactionalId(groupId, name, i)),
            )
        : [],
    // What a task's transaction writes: offsets, and the topics its connector has produced to (KIP-558).
    watchedTopics: () => (eos ? [topics.offset, ...activeTopics()] : activeTopics()),
  });
  start.onFailure(async () => hanging.close());
  const offsetStore = new KafkaOffsetStore(topics.offset, eos, eos ? hanging : null);
  const logs = [
    new KafkaBasedLog(client, admin, topics.config, `${groupId}-configs`, (r) => configStore.apply(r)),
    new KafkaBasedLog(client, admin, topics.offset, `${groupId}-offsets`, (r) => offsetStore.apply(r)),
    new KafkaBasedLog(client, admin, topics.status, `${groupId}-statuses`, (r) => statusStore.apply(r)),
  ] as const;
  configStore.attach(logs[0]);
  offsetStore.attach(logs[1]);
  statusStore.attach(logs[2]);
  start.onFailure(() => Promise.allSettled(logs.map((l) => l.stop())));
  start.step(`reading the internal topics ${topics.config}, ${topics.offset}, ${topics.status}`);
  await Promise.all(logs.map((l) => l.start()));

  const { worker, metrics, transformer } = buildWorker(config, {
    registry,
    kafka,
    offsets: offsetStore,
    logger,
    compression,
    onTopic: (c, t) => statusStore.addTopic(c, t),
    ...(eos ? { exactlyOnce: { groupId, offsetRecords: (c, e) => offsetStore.records(c, e) } } : {}),
  });

  const security = restSecurity(config.parsed, config.listener.protocol);
  const { auth } = security;
  const forwardAuthorization =
    auth?.type === 'basic'
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      : auth?.type === 'bearer'
        ? `Bearer ${auth.token}`
        : undefined;

  herder = new DistributedHerder({
    workerId: '',
    registry,
    worker,
    transformer,
    configStore,
    offsetStore,
    statusStore,
    kafka,
    logger,
    topicTracking: topicTrackingOf(config),
    ...(forwardAuthorization ? { forwardAuthorization } : {}),
    ...(eos ? { exactlyOnce: { transactionalId: (c: string, t: number) => taskTransactionalId(groupId, c, t) } } : {}),
  });
  const h = herder;
  const operations = operationsLog(config, logSink);
  start.onFailure(() => operations.close());
  start.step('starting the REST listener');
  const {
    rest,
    url: boundUrl,
    workerId,
    advertisedUrl: url,
  } = await startRest(config, h, {
    registry,
    levels,
    logger,
    metrics,
    security,
    operations,
  });
  start.onFailure(() => rest.stop());
  h.workerId = workerId;
  operations.setWorker(workerId);
  start.step(`joining the worker group ${groupId}`);
  h.start();
  const group = new WorkerGroup<WorkUnit[]>(client, {
    groupId,
    topic: topics.config,
    self: { workerId, url },
    owned: () => h.ownedUnits(),
    assign: (members) => h.assign(members.map((m) => ({ workerId: m.workerId, url: m.url, owned: m.owned ?? [] }))),
    initialGeneration: () => statusStore.maxGeneration(),
    sessionTimeoutMs: num(o, 'session.timeout.ms', 10_000),
    heartbeatIntervalMs: num(o, 'heartbeat.interval.ms', 3_000),
    rebalanceTimeoutMs: num(o, 'rebalance.timeout.ms', 60_000),
    onView: (v) => h.onView(v),
    onRebalancing: () => h.onRebalancing(),
    onError: (e) => logger.warn('Worker group error; rejoining', { error: e }),
    onLost: (e) => {
      logger.error('The worker group client stopped', { error: e });
      h.onGroupLost();
    },
  });
  start.onFailure(async () => {
    await group.stop();
    await h.stop();
  });
  await group.start();
  // Also without a stalled offsets read: a hanging transaction of a task only on a data topic (its offsets partition
  // got its marker) blocks that topic's read_committed consumers, and no task of ours would ever wait on it; nor
  // would a sink stuck behind another producer's say anything but this.
  const sweep = setInterval(() => void hanging.repairAndLog(), HANGING_SWEEP_MS);
  sweep.unref();
  start.step('started');
  logger.info('Distributed worker started', { url: boundUrl, workerId, groupId, exactlyOnce: eos });
  return {
    url: boundUrl,
    workerId,
    herder: h,
    logger,
    stop: () =>
      stopWorker(logger, rest, [
        // Tasks stop (and flush or commit) before we leave the group, so no survivor runs them twice.
        () => h.stop(),
        () => group.stop().catch(() => {}),
        () => Promise.allSettled(logs.map((l) => l.stop())),
        async () => {
          clearInterval(sweep);
          await hanging.close();
        },
        () => operations.close(),
        () => admin.disconnect().catch(() => {}),
        () => kafka.close().catch(() => {}),
      ]),
  };
}
