import type { Compression } from '../kafka/compression.js';
import { type ConfigDef, ConfigError, NO_DEFAULT, parseValue, type RawConfig } from '../api/index.js';
import { outageWaitMs } from '../errors/outage.js';
import type { ErrorHandlingConfig } from '../errors/retry.js';
import {
  CONSUMER_GROUP_ID_OVERRIDE_CONFIG,
  DLQ_CONTEXT_HEADERS_ENABLE_CONFIG,
  DLQ_TOPIC_NAME_CONFIG,
  DLQ_TOPIC_REPLICATION_FACTOR_CONFIG,
  ERRORS_LOG_ENABLE_CONFIG,
  ERRORS_LOG_INCLUDE_MESSAGES_CONFIG,
  ERRORS_RETRY_MAX_DELAY_CONFIG,
  ERRORS_RETRY_TIMEOUT_CONFIG,
  ERRORS_TOLERANCE_CONFIG,
  EXACTLY_ONCE_SUPPORT_CONFIG,
  HEADER_CONVERTER_CLASS_CONFIG,
  KEY_CONVERTER_CLASS_CONFIG,
  OFFSETS_STORAGE_TOPIC_CONFIG,
  OUTAGE_WAIT_TIMEOUT_CONFIG,
  PREDICATES_CONFIG,
  TASKS_MAX_CONFIG,
  TASKS_MAX_ENFORCE_CONFIG,
  TOPIC_CREATION_DEFAULT_PARTITIONS_CONFIG,
  TOPIC_CREATION_DEFAULT_REPLICATION_FACTOR_CONFIG,
  TOPIC_CREATION_GROUPS_CONFIG,
  TOPICS_CONFIG,
  TOPICS_REGEX_CONFIG,
  TRANSACTION_BOUNDARY_CONFIG,
  TRANSACTION_BOUNDARY_INTERVAL_CONFIG,
  TRANSFORMS_CONFIG,
  VALUE_CONVERTER_CLASS_CONFIG,
  sinkConnectorConfigDef,
  sourceConnectorConfigDef,
  topicCreationCount,
  type ConsumerFetchSettings,
  consumerFetchSettings,
  producerCompressionOverride,
} from './connector-config.js';

/**
 * A connector's framework settings, parsed once from its (resolved) config by the same spec that validated it
 * (Connect's SourceConnectorConfig / SinkConnectorConfig): the worker, the error handling and the REST tools read
 * these typed, frozen values and never the raw strings, so a value validation accepted (`errors.log.enable=TRUE`,
 * ` all `) means the same everywhere, and each default is written once, in the spec.
 */

/** A converter the connector names (`key.converter=…`), or null for the worker's default, with its sub-config. */
export interface ConverterSetting {
  readonly className: string | null;
  /** The connector's `<key>.converter.*` keys, prefix stripped (used only with the connector's own class). */
  readonly props: Readonly<Record<string, string>>;
}

export interface ConverterSettings {
  readonly key: ConverterSetting;
  readonly value: ConverterSetting;
  readonly header: ConverterSetting;
}

export interface DeadLetterQueueSettings {
  readonly topic: string;
  readonly replicationFactor: number;
  readonly contextHeaders: boolean;
}

/** How topics the worker creates for the connector are made (KIP-158 `topic.creation.default.*`). */
export interface TopicCreationSettings {
  readonly groups: readonly string[];
  readonly defaultPartitions: number;
  readonly defaultReplicationFactor: number;
}

export interface SinkSubscription {
  readonly topics: readonly string[];
  /** `topics.regex` as written, or null. */
  readonly topicsRegex: string | null;
}

interface CommonConnectorSettings {
  readonly tasksMax: number;
  readonly tasksMaxEnforce: boolean;
  readonly converters: ConverterSettings;
  readonly errors: Readonly<ErrorHandlingConfig>;
  readonly deadLetterQueue: DeadLetterQueueSettings | null;
  readonly transforms: readonly string[];
  readonly predicates: readonly string[];
  readonly topicCreation: TopicCreationSettings;
}

export interface SourceConnectorSettings extends CommonConnectorSettings {
  readonly kind: 'source';
  readonly exactlyOnceSupport: 'requested' | 'required';
  readonly transactionBoundary: 'poll' | 'interval' | 'connector';
  /** null: the worker's `offset.flush.interval.ms`. */
  readonly transactionBoundaryIntervalMs: number | null;
  readonly offsetsStorageTopic: string | null;
  /** `producer.override.compression.type`; null: the worker's `producer.compression.type`. */
  readonly producerCompression: Compression | null;
}

export interface SinkConnectorSettings extends CommonConnectorSettings, SinkSubscription {
  readonly kind: 'sink';
  /** `consumer.override.group.id`, else Connect's `connect-<connector>`. */
  readonly consumerGroupId: string;
  /** `consumer.override.max.partition.fetch.bytes`, `fetch.max.bytes`, `fetch.min.bytes`, `fetch.max.wait.ms`. */
  readonly consumerFetch: ConsumerFetchSettings;
}

export type ConnectorSettings = SourceConnectorSettings | SinkConnectorSettings;

const SPECS: Record<'source' | 'sink', ConfigDef> = {
  source: sourceConnectorConfigDef(),
  sink: sinkConnectorConfigDef(),
};

/**
 * Reads one key as ConfigDef.parse does (type parsing, the spec's default, its validator), so it stays one
 * rule with validation; only the keys a caller asks for are read, so a placeholder in another key does not matter.
 */
type Read = <T>(name: string) => T;
function reader(spec: ConfigDef, config: RawConfig): Read {
  return <T>(name: string): T => {
    const key = spec.key(name);
    if (key === undefined) throw new ConfigError(`${name} is not a framework key of this connector kind`, name);
    const given = Object.hasOwn(config, name) && config[name] !== undefined;
    if (!given && key.defaultValue === NO_DEFAULT) throw ConfigError.missing(name);
    const raw = given ? config[name] : key.defaultValue;
    const value = raw === null || raw === undefined ? null : parseValue(key, raw);
    if (value !== null || given) key.validator?.ensureValid(name, value);
    return value as T;
  };
}

function withPrefix(config: RawConfig, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith(prefix) && v !== undefined && v !== null) out[k.slice(prefix.length)] = String(v);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function converterSetting(read: Read, config: RawConfig, key: string): ConverterSetting {
  const cls = read<string | null>(key);
  return { className: cls === null || cls === '' ? null : cls, props: withPrefix(config, `${key}.`) };
}

function readConverters(read: Read, config: RawConfig): ConverterSettings {
  return {
    key: converterSetting(read, config, KEY_CONVERTER_CLASS_CONFIG),
    value: converterSetting(read, config, VALUE_CONVERTER_CLASS_CONFIG),
    header: converterSetting(read, config, HEADER_CONVERTER_CLASS_CONFIG),
  };
}

const readTolerance = (read: Read): ErrorHandlingConfig['tolerance'] =>
  read<string>(ERRORS_TOLERANCE_CONFIG) === 'all' ? 'all' : 'none';

function readErrors(read: Read, workerProps: Readonly<Record<string, string>> | undefined): ErrorHandlingConfig {
  // A connector's own outage.wait.timeout.ms wins; unset (or below -1) it is the worker's, else the default.
  const ownOutageWait = read<number | null>(OUTAGE_WAIT_TIMEOUT_CONFIG);
  return {
    outageWaitMs: ownOutageWait !== null && ownOutageWait >= -1 ? ownOutageWait : outageWaitMs(workerProps),
    retryTimeoutMs: read<number>(ERRORS_RETRY_TIMEOUT_CONFIG),
    retryDelayMaxMs: read<number>(ERRORS_RETRY_MAX_DELAY_CONFIG),
    tolerance: readTolerance(read),
    logEnable: read<boolean>(ERRORS_LOG_ENABLE_CONFIG),
    logIncludeMessages: read<boolean>(ERRORS_LOG_INCLUDE_MESSAGES_CONFIG),
  };
}

function readDeadLetterQueue(read: Read): DeadLetterQueueSettings | null {
  const topic = read<string>(DLQ_TOPIC_NAME_CONFIG);
  if (topic === '') return null;
  return {
    topic,
    replicationFactor: read<number>(DLQ_TOPIC_REPLICATION_FACTOR_CONFIG),
    contextHeaders: read<boolean>(DLQ_CONTEXT_HEADERS_ENABLE_CONFIG),
  };
}

/**
 * Not in the spec (Connect defines them per creation group); validation refuses anything but a positive count or
 * -1, and a stored config that slipped past it (an old one, a placeholder) fails the task naming the key. Unset is
 * 1; -1 is passed on to CreateTopics, whose broker then applies its own num.partitions / default.replication.factor
 * (a production cluster's replication, not a single replica).
 */
function topicCount(config: RawConfig, name: string): number {
  return topicCreationCount(name, config[name]) ?? 1;
}

function readTopicCreation(config: RawConfig, groups: readonly string[]): TopicCreationSettings {
  return {
    groups,
    defaultPartitions: topicCount(config, TOPIC_CREATION_DEFAULT_PARTITIONS_CONFIG),
    defaultReplicationFactor: topicCount(config, TOPIC_CREATION_DEFAULT_REPLICATION_FACTOR_CONFIG),
  };
}

// Connect would subscribe to an empty name; an empty entry is skipped, as it always was here.
const readTopics = (read: Read): string[] => read<string[]>(TOPICS_CONFIG).filter((t) => t !== '');

function readSubscription(read: Read): SinkSubscription {
  const regex = read<string>(TOPICS_REGEX_CONFIG);
  return { topics: readTopics(read), topicsRegex: regex === '' ? null : regex };
}

/**
 * Parses a connector's framework keys once. Throws ConfigError naming the key and value when one is invalid
 * (validation refuses such a config before it is stored, so a running connector does not meet this).
 * @param config the resolved connector config (placeholders replaced)
 * @param workerProps the worker's settings, for the defaults a connector inherits (outage.wait.timeout.ms)
 */
export function connectorSettings(
  kind: 'source' | 'sink',
  name: string,
  config: RawConfig,
  workerProps?: Readonly<Record<string, string>>,
): ConnectorSettings {
  const read = reader(SPECS[kind], config);
  const common: CommonConnectorSettings = {
    tasksMax: read<number>(TASKS_MAX_CONFIG),
    tasksMaxEnforce: read<boolean>(TASKS_MAX_ENFORCE_CONFIG),
    converters: readConverters(read, config),
    errors: readErrors(read, workerProps),
    deadLetterQueue: readDeadLetterQueue(read),
    transforms: read<string[]>(TRANSFORMS_CONFIG),
    predicates: read<string[]>(PREDICATES_CONFIG),
    topicCreation: readTopicCreation(config, kind === 'source' ? read<string[]>(TOPIC_CREATION_GROUPS_CONFIG) : []),
  };
  if (kind === 'source') {
    return deepFreeze<SourceConnectorSettings>({
      ...common,
      kind,
      exactlyOnceSupport: read<string>(EXACTLY_ONCE_SUPPORT_CONFIG).toLowerCase() as 'requested' | 'required',
      transactionBoundary: read<string>(TRANSACTION_BOUNDARY_CONFIG).toLowerCase() as 'poll' | 'interval' | 'connector',
      transactionBoundaryIntervalMs: read<number | null>(TRANSACTION_BOUNDARY_INTERVAL_CONFIG),
      offsetsStorageTopic: read<string | null>(OFFSETS_STORAGE_TOPIC_CONFIG),
      producerCompression: producerCompressionOverride(config),
    });
  }
  return deepFreeze<SinkConnectorSettings>({
    ...common,
    kind,
    ...readSubscription(read),
    consumerGroupId: sinkConsumerGroupId(name, config),
    consumerFetch: consumerFetchSettings(config),
  });
}

/*
 * One key family at a time, for callers that hold a stored (unresolved) config and need only that family: a
 * placeholder in an unrelated key then cannot fail them. Each reads through the same spec as connectorSettings.
 */

/** The error-handling settings (`errors.*`, `outage.wait.timeout.ms`); the defaults for an empty config. */
export function errorHandlingSettings(
  config: RawConfig = {},
  workerProps?: Readonly<Record<string, string>>,
): Readonly<ErrorHandlingConfig> {
  return deepFreeze(readErrors(reader(SPECS.sink, config), workerProps));
}

/**
 * `errors.tolerance` alone, for tools that apply a connector's error handling without its retries or outage wait
 * (`erpstream transforms run`): an invalid retry key in the same config does not matter there.
 */
export function errorTolerance(config: RawConfig): ErrorHandlingConfig['tolerance'] {
  return readTolerance(reader(SPECS.sink, config));
}

/** The connector's converter choices (REST tools that convert records as its tasks do). */
export function converterSettings(config: RawConfig): ConverterSettings {
  return deepFreeze(readConverters(reader(SPECS.sink, config), config));
}

/** `errors.deadletterqueue.topic.name`, or null when the connector has no dead-letter queue. */
export function deadLetterQueueTopic(config: RawConfig): string | null {
  // Parsed, not validated: callers hold the stored config, whose name may be a placeholder (or predate the topic-name
  // check); they read the topic, and a name Kafka does not know simply shows nothing.
  const raw = config[DLQ_TOPIC_NAME_CONFIG];
  const topic =
    raw === undefined || raw === null ? '' : (parseValue(SPECS.sink.key(DLQ_TOPIC_NAME_CONFIG)!, raw) as string);
  return topic === '' ? null : topic;
}

/** What a sink consumes (`topics`, `topics.regex`). */
export function sinkSubscription(config: RawConfig): SinkSubscription {
  return deepFreeze(readSubscription(reader(SPECS.sink, config)));
}

/** The sink's `topics` list alone (a bad `topics.regex` in the same config does not matter here). */
export function sinkTopics(config: RawConfig): readonly string[] {
  return deepFreeze(readTopics(reader(SPECS.sink, config)));
}

/** The sink's consumer group: `consumer.override.group.id`, else Connect's `connect-<connector>`. */
export function sinkConsumerGroupId(connector: string, config: RawConfig): string {
  const own = config[CONSUMER_GROUP_ID_OVERRIDE_CONFIG];
  return own === undefined || own === null ? `connect-${connector}` : String(own);
}

/** `tasks.max` and `tasks.max.enforce` (resolved: they may be placeholders). */
export function taskLimits(config: RawConfig): { tasksMax: number; enforce: boolean } {
  const read = reader(SPECS.sink, config);
  return { tasksMax: read<number>(TASKS_MAX_CONFIG), enforce: read<boolean>(TASKS_MAX_ENFORCE_CONFIG) };
}
