import os from 'node:os';
import { buildInfo, ConfigError, type Logger } from '../api/index.js';
import { COMPRESSIONS, type Compression, compressionNamed, type KafkaLogSink } from '../kafka/index.js';
import { isLogLevel, JsonLogger, LogLevelRegistry, type LogLevel, type LogSink } from '../logging/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { type RestAuth, RestServer, type RestTls } from '../rest/server.js';
import { OpsServices } from '../rest/ops.js';
import type { WorkerConfig } from '../worker/config.js';
import type { Herder } from '../worker/herder-types.js';
import type { WorkerMetrics } from '../worker/metrics.js';
import { MetricHistory } from '../worker/metric-history.js';
import { DEFAULT_OPERATIONS_TOPIC, KafkaOperationsLog } from '../operations/audit-log.js';
import type { OperationsLog } from '../operations/audit-log.js';
import { ConfigTransformer, configProvidersFromWorkerConfig } from '../config-providers/index.js';
import type { KafkaPort } from '../worker/kafka-port.js';
import { WorkerMetrics as Metrics } from '../worker/metrics.js';
import type { OffsetStore } from '../worker/stores.js';
import { Worker, type WorkerOptions } from '../worker/worker.js';

/**
 * What the standalone and the distributed worker set up the same way: logging, worker-level settings both
 * read, and the REST listener with the worker id derived from it.
 */

/** The root logger `erpstream.worker` at `log.level`, with the registry that `PUT /admin/loggers` changes. */
export function workerLogging(config: WorkerConfig, sink?: LogSink): { levels: LogLevelRegistry; logger: JsonLogger } {
  const levelName = config.parsed.string('log.level').toUpperCase();
  if (!isLogLevel(levelName))
    throw ConfigError.invalid('log.level', levelName, 'Expected a log4j level (INFO, DEBUG, …)');
  const levels = new LogLevelRegistry(levelName as LogLevel);
  const logger = new JsonLogger({ name: 'erpstream.worker', registry: levels, ...(sink ? { sink } : {}) });
  return { levels, logger };
}

/** Kafka client logs go to the worker's logger as `org.apache.kafka.clients`, like Connect's. */
export function kafkaClientLogSink(logger: JsonLogger): KafkaLogSink {
  const kafkaLogger = logger.named('org.apache.kafka.clients');
  return {
    log: (level, message, fields) => {
      const l = level === 'error' ? 'error' : level === 'warn' ? 'warn' : level === 'info' ? 'info' : 'debug';
      kafkaLogger[l](message, fields);
    },
  };
}

export function producerCompression(config: WorkerConfig): Compression {
  const raw = config.originals['producer.compression.type'] ?? 'none';
  const compression = compressionNamed(raw);
  if (compression === undefined) {
    throw ConfigError.invalid('producer.compression.type', raw, `Supported values: ${COMPRESSIONS.join(', ')}`);
  }
  return compression;
}

export function converterDefaults(config: WorkerConfig): { key: string; value: string; header: string } {
  return {
    key: config.parsed.string('key.converter'),
    value: config.parsed.string('value.converter'),
    header: config.parsed.string('header.converter'),
  };
}

export interface StartedRest {
  rest: RestServer;
  /** The bound listener, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** `host:port` as advertised (`rest.advertised.*`, else the bound address): statuses show it. */
  workerId: string;
  /** The advertised base URL with a trailing slash, for other workers to forward requests to. */
  advertisedUrl: string;
}

/**
 * Binds the REST listener for a herder. The worker id is known only once the listener is bound (port 0 in
 * tests), so the caller sets it on the herder before starting it; /health answers "starting" until then.
 */
export async function startRest(
  config: WorkerConfig,
  herder: Herder,
  o: {
    registry: PluginRegistry;
    levels: LogLevelRegistry;
    logger: JsonLogger;
    metrics: WorkerMetrics;
    security: { auth?: RestAuth; tls?: RestTls };
    operations?: OperationsLog;
  },
): Promise<StartedRest> {
  const rest = new RestServer({
    herder,
    registry: o.registry,
    levels: o.levels,
    logger: o.logger.named('erpstream.rest'),
    metrics: o.metrics,
    host: config.listener.host,
    port: config.listener.port,
    maxBodyBytes: config.parsed.int('rest.request.max.bytes'),
    // GET / reports erpstream's own version and commit (runtime/api/build-info), numeric as tools expect.
    version: buildInfo().version,
    commit: buildInfo().commit,
    ...(o.security.auth ? { auth: o.security.auth } : {}),
    ...(o.security.tls ? { tls: o.security.tls } : {}),
    console: {
      enabled: config.parsed.bool('console.enabled'),
      history: new MetricHistory(o.metrics, { stepMs: config.parsed.int('console.history.interval.ms') }),
    },
    ops: new OpsServices({
      registry: o.registry,
      workerProps: config.originals,
      converterDefaults: converterDefaults(config),
      bootstrapServers: config.bootstrapServers,
      protocol: config.listener.protocol,
      ...(o.security.auth ? { auth: o.security.auth } : {}),
      // The same resolution the connector's tasks get (config providers may hold state, e.g. a token).
      ...(herder.services ? { resolveConfig: (c: Record<string, string>) => herder.services!().resolveConfig(c) } : {}),
    }),
    ...(o.operations ? { operations: o.operations } : {}),
  });
  const bound = await rest.start();
  const advertisedHost =
    config.parsed.stringOrNull('rest.advertised.host.name') ?? (bound.host === '0.0.0.0' ? os.hostname() : bound.host);
  const advertisedPort = config.parsed.intOrNull('rest.advertised.port') ?? bound.port;
  return {
    rest,
    url: bound.url,
    workerId: `${advertisedHost}:${advertisedPort}`,
    advertisedUrl: `${config.listener.protocol}://${advertisedHost}:${advertisedPort}/`,
  };
}

/**
 * The stop both modes share: the REST listener closes first (no new requests), then the mode's own steps
 * in order, each awaited.
 */
export async function stopWorker(
  logger: Logger,
  rest: RestServer,
  steps: ReadonlyArray<() => Promise<unknown>>,
): Promise<void> {
  logger.info('Worker stopping');
  await rest.stop();
  for (const step of steps) await step();
  logger.info('Worker stopped');
}

/**
 * The operations audit log of a worker: a compacted topic (`operations.storage.topic`) on the worker's Kafka cluster,
 * opened at its first use. Both modes use it, so the history is the same whichever worker is asked.
 */
/**
 * The Worker both launchers build, from the same worker config keys; only the stores (file or Kafka topics) and
 * exactly-once (distributed) differ.
 */
export function buildWorker(
  config: WorkerConfig,
  deps: {
    registry: PluginRegistry;
    kafka: KafkaPort;
    offsets: OffsetStore;
    logger: Logger;
    /** Parsed by the caller first, so a bad value fails start-up before anything is opened. */
    compression: Compression;
    onTopic: (connector: string, topic: string) => void;
    exactlyOnce?: WorkerOptions['exactlyOnce'];
  },
): { worker: Worker; metrics: WorkerMetrics; transformer: ConfigTransformer } {
  const metrics = new Metrics();
  const transformer = new ConfigTransformer(configProvidersFromWorkerConfig(config.originals));
  const worker = new Worker({
    registry: deps.registry,
    kafka: deps.kafka,
    offsets: deps.offsets,
    transformer,
    logger: deps.logger,
    workerProps: config.originals,
    converterDefaults: converterDefaults(config),
    offsetFlushIntervalMs: config.offsetFlushIntervalMs,
    gracefulShutdownMs: config.gracefulShutdownMs,
    compression: deps.compression,
    metrics,
    onTopic: deps.onTopic,
    ...(deps.exactlyOnce ? { exactlyOnce: deps.exactlyOnce } : {}),
  });
  return { worker, metrics, transformer };
}

/** topic.tracking.* (KIP-558), as both herders take it. */
export function topicTrackingOf(config: WorkerConfig): { enable: boolean; allowReset: boolean } {
  return {
    enable: config.parsed.bool('topic.tracking.enable'),
    allowReset: config.parsed.bool('topic.tracking.allow.reset'),
  };
}

export function operationsLog(config: WorkerConfig, logSink: KafkaLogSink): KafkaOperationsLog {
  return new KafkaOperationsLog({
    brokers: config.bootstrapServers,
    topic: config.parsed.stringOrNull('operations.storage.topic') ?? DEFAULT_OPERATIONS_TOPIC,
    replicationFactor: config.parsed.intOrNull('operations.storage.replication.factor') ?? 3,
    logSink,
  });
}
