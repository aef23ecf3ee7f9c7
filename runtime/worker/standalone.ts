import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ConfigError, type Logger } from '../api/index.js';
import { ConfigTransformer, configProvidersFromWorkerConfig } from '../config-providers/index.js';
import { isLogLevel, JsonLogger, LogLevelRegistry, type LogLevel, type LogSink } from '../logging/index.js';
import { defaultPluginRegistry, type PluginRegistry } from '../plugins/registry.js';
import { RestServer } from '../rest/server.js';
import type { WorkerConfig } from './config.js';
import { KafkaJsPort, type KafkaPort } from './kafka-port.js';
import { WorkerMetrics } from './metrics.js';
import { StandaloneHerder } from './standalone-herder.js';
import { FileConfigStore, FileOffsetStore, MemoryStatusStore } from './stores.js';
import { restSecurity } from './rest-security.js';
import { Worker } from './worker.js';

/** The Kafka Connect version whose REST API this worker speaks; tools parse it to pick features. */
export const CONNECT_API_VERSION = '3.9.0';

function erpstreamVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export interface StandaloneWorkerOptions {
  config: WorkerConfig;
  /** Connector configs to create (or update) at start, as from `worker start … connector.properties`. */
  connectors?: Array<Record<string, string>>;
  registry?: PluginRegistry;
  kafka?: KafkaPort;
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
  const levelName = config.parsed.string('log.level').toUpperCase();
  if (!isLogLevel(levelName))
    throw ConfigError.invalid('log.level', levelName, 'Expected a log4j level (INFO, DEBUG, …)');
  const levels = new LogLevelRegistry(levelName as LogLevel);
  const logger = new JsonLogger({
    name: 'erpstream.worker',
    registry: levels,
    ...(options.logSink ? { sink: options.logSink } : {}),
  });
  const registry = options.registry ?? defaultPluginRegistry();
  const kafkaLogger = logger.named('org.apache.kafka.clients');
  const kafka =
    options.kafka ??
    new KafkaJsPort({
      brokers: config.bootstrapServers,
      clientId: 'erpstream-worker',
      logSink: {
        log: (level, message, fields) => {
          const l = level === 'error' ? 'error' : level === 'warn' ? 'warn' : level === 'info' ? 'info' : 'debug';
          kafkaLogger[l](message, fields);
        },
      },
    });
  const compression = config.originals['producer.compression.type'] ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') {
    // kafkajs ships gzip only; snappy/lz4/zstd need codecs we do not bundle.
    throw ConfigError.invalid('producer.compression.type', compression, 'Supported values: none, gzip');
  }
  const metrics = new WorkerMetrics();
  const statusStore = new MemoryStatusStore();
  const offsetStore = new FileOffsetStore(config.offsetFile);
  const transformer = new ConfigTransformer(configProvidersFromWorkerConfig(config.originals));
  const worker = new Worker({
    registry,
    kafka,
    offsets: offsetStore,
    transformer,
    logger,
    workerProps: config.originals,
    converterDefaults: {
      key: config.parsed.string('key.converter'),
      value: config.parsed.string('value.converter'),
      header: config.parsed.string('header.converter'),
    },
    offsetFlushIntervalMs: config.offsetFlushIntervalMs,
    gracefulShutdownMs: config.gracefulShutdownMs,
    compression,
    metrics,
    onTopic: (c, t) => statusStore.addTopic(c, t),
  });

  const { auth, tls } = restSecurity(config.parsed, config.listener.protocol);

  const herder = new StandaloneHerder({
    workerId: '',
    registry,
    worker,
    configStore: new FileConfigStore(config.configFile),
    offsetStore,
    statusStore,
    kafka,
    logger,
    topicTracking: {
      enable: config.parsed.bool('topic.tracking.enable'),
      allowReset: config.parsed.bool('topic.tracking.allow.reset'),
    },
    ...(config.parsed.bool('task.auto.restart.enable')
      ? { autoRestart: { maxBackoffMs: config.parsed.int('task.auto.restart.backoff.max.ms') } }
      : {}),
  });
  const version = erpstreamVersion();
  const rest = new RestServer({
    herder,
    registry,
    levels,
    logger: logger.named('erpstream.rest'),
    metrics,
    host: config.listener.host,
    port: config.listener.port,
    maxBodyBytes: config.parsed.int('rest.request.max.bytes'),
    version: CONNECT_API_VERSION,
    commit: `erpstream-${version}`,
    ...(auth ? { auth } : {}),
    ...(tls ? { tls } : {}),
  });
  const bound = await rest.start();
  const advertisedHost =
    config.parsed.stringOrNull('rest.advertised.host.name') ?? (bound.host === '0.0.0.0' ? os.hostname() : bound.host);
  const workerId = `${advertisedHost}:${config.parsed.intOrNull('rest.advertised.port') ?? bound.port}`;
  // The worker id (host:port) is known only once the listener is bound (port 0 in tests); /health
  // answers "starting" until herder.start() completes.
  herder.workerId = workerId;
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
    await kafka.close().catch(() => {});
    throw e;
  }
  logger.info('Worker started', { url: bound.url, workerId, connectors: herder.connectors() });
  const h = herder;
  return {
    url: bound.url,
    workerId,
    herder: h,
    logger,
    async stop() {
      logger.info('Worker stopping');
      await rest.stop();
      await h.stop();
      await kafka.close().catch(() => {});
      logger.info('Worker stopped');
    },
  };
}
