import { ConfigError, type Logger } from '../api/index.js';
import type { LogSink } from '../logging/index.js';
import { loadPluginPath, PLUGIN_PATH_CONFIG } from '../plugins/plugin-path.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { OperationsLog } from '../operations/audit-log.js';
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
import type { WorkerConfig } from '../worker/config.js';
import { KafkaJsPort, type KafkaPort } from '../worker/kafka-port.js';
import { StandaloneHerder } from '../worker/standalone-herder.js';
import { FileConfigStore, FileOffsetStore, MemoryStatusStore } from '../worker/stores.js';
import { lockStateFile } from './state-lock.js';
import { restSecurity } from '../rest/security.js';

export interface StandaloneWorkerOptions {
  config: WorkerConfig;
  /** Connector configs to create (or update) at start, as from `worker start … connector.properties`. */
  connectors?: Array<Record<string, string>>;
  /** Every plugin the worker may run (the entry point builds it: bundle/builtin.ts, then `plugin.path`). */
  registry: PluginRegistry;
  kafka?: KafkaPort;
  /** The operations audit log; by default the cluster's Kafka topic (`operations.storage.topic`). */
  operations?: OperationsLog & { setWorker(worker: string): void };
  logSink?: LogSink;
}

export interface RunningWorker {
  url: string;
  workerId: string;
  herder: StandaloneHerder;
  logger: Logger;
  stop(): Promise<void>;
}

/** Assembles and starts a standalone worker: stores, herder, tasks and the REST API. */
export async function startStandaloneWorker(options: StandaloneWorkerOptions): Promise<RunningWorker> {
  const { config } = options;
  const { levels, logger } = workerLogging(config, options.logSink);
  const { registry } = options;
  await loadPluginPath(registry, config.parsed.list(PLUGIN_PATH_CONFIG), logger);
  const kafka =
    options.kafka ??
    new KafkaJsPort({
      brokers: config.bootstrapServers,
      clientId: 'erpstream-worker',
      logSink: kafkaClientLogSink(logger),
    });
  const compression = producerCompression(config);
  const statusStore = new MemoryStatusStore();
  const lock = lockStateFile(config.offsetFile);
  const offsetStore = new FileOffsetStore(config.offsetFile);
  const { worker, metrics, transformer } = buildWorker(config, {
    registry,
    kafka,
    offsets: offsetStore,
    logger,
    compression,
    onTopic: (c, t) => statusStore.addTopic(c, t),
  });

  const security = restSecurity(config.parsed, config.listener.protocol);

  const herder = new StandaloneHerder({
    workerId: '',
    registry,
    worker,
    transformer,
    configStore: new FileConfigStore(config.configFile),
    offsetStore,
    statusStore,
    kafka,
    logger,
    topicTracking: topicTrackingOf(config),
    ...(config.parsed.bool('task.auto.restart.enable')
      ? { autoRestart: { maxBackoffMs: config.parsed.int('task.auto.restart.backoff.max.ms') } }
      : {}),
  });
  const operations = options.operations ?? operationsLog(config, kafkaClientLogSink(logger));
  const { rest, url, workerId } = await startRest(config, herder, {
    registry,
    levels,
    logger,
    metrics,
    security,
    operations,
  });
  herder.workerId = workerId;
  operations.setWorker(workerId);
  try {
    await herder.start();
    for (const c of options.connectors ?? []) {
      const name = c.name;
      if (!name) throw ConfigError.missing('name');
      await herder.putConnectorConfig(name, c, { allowReplace: true });
    }
  } catch (e) {
    await herder.stop().catch(() => {});
    await rest.stop();
    await operations.close();
    await kafka.close().catch(() => {});
    lock.release();
    throw e;
  }
  logger.info('Worker started', { url, workerId, connectors: herder.connectors() });
  return {
    url,
    workerId,
    herder,
    logger,
    stop: () =>
      stopWorker(logger, rest, [
        () => herder.stop(),
        () => operations.close(),
        () => kafka.close().catch(() => {}),
        async () => lock.release(),
      ]),
  };
}
