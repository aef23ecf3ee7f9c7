import { type SourceConnectorPlugin, silentLogger } from '../../../../../runtime/api/index.js';
import { ConfigTransformer, configProvidersFromWorkerConfig } from '../../../../../runtime/config-providers/index.js';
import { builtinPlugins } from '../../../../../bundle/builtin.js';
import { PluginRegistry } from '../../../../../runtime/plugins/registry.js';
import type { KafkaPort } from '../../../../../runtime/worker/kafka-port.js';
import { WorkerMetrics } from '../../../../../runtime/worker/metrics.js';
import { type OffsetStore, offsetKey } from '../../../../../runtime/worker/stores.js';
import { Worker } from '../../../../../runtime/worker/worker.js';

/**
 * A Worker with exactly-once sources (group `g`) and string converters, running `plugin` on `kafka`: offsets go
 * to the topic `offsets` inside each transaction (key: Connect's offset key, value: the offset's JSON).
 */
export function exactlyOnceWorker(
  kafka: KafkaPort,
  plugin: SourceConnectorPlugin,
  offsets: OffsetStore,
  workerProps: Record<string, string> = {},
): Worker {
  return new Worker({
    registry: new PluginRegistry([...builtinPlugins(), plugin]),
    kafka,
    offsets,
    transformer: new ConfigTransformer(configProvidersFromWorkerConfig({})),
    logger: silentLogger,
    workerProps,
    converterDefaults: {
      key: 'org.apache.kafka.connect.storage.StringConverter',
      value: 'org.apache.kafka.connect.storage.StringConverter',
      header: 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
    },
    offsetFlushIntervalMs: 60_000,
    gracefulShutdownMs: 2000,
    metrics: new WorkerMetrics(),
    onTopic: () => {},
    exactlyOnce: {
      groupId: 'g',
      offsetRecords: (c, entries) =>
        entries.map((e) => ({
          topic: 'offsets',
          partition: null,
          key: Buffer.from(offsetKey(c, e.partition)),
          value: Buffer.from(JSON.stringify(e.offset)),
          headers: [],
          timestamp: null,
        })),
    },
  });
}
