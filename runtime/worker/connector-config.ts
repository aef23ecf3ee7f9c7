import { COMPRESSIONS, type Compression, compressionNamed } from '../kafka/compression.js';
import {
  ConfigDef,
  ConfigError,
  type ConfigInfos,
  type ConfigValueResult,
  parseValue,
  type RawConfig,
  Validators,
} from '../api/index.js';
import { OUTAGE_WAIT_KEY } from '../errors/outage.js';
import { PREDICATES_CONFIG, TRANSFORMS_CONFIG } from '../transforms/chain-config.js';

/**
 * The framework keys' names, in one place (Connect's ConnectorConfig.*_CONFIG constants). The specs below define
 * them; runtime/worker/connector-settings.ts parses them once into typed settings; nothing else reads them.
 */
export const NAME_CONFIG = 'name';
export const CONNECTOR_CLASS_CONFIG = 'connector.class';
export const TASKS_MAX_CONFIG = 'tasks.max';
export const TASKS_MAX_ENFORCE_CONFIG = 'tasks.max.enforce';
export const KEY_CONVERTER_CLASS_CONFIG = 'key.converter';
export const VALUE_CONVERTER_CLASS_CONFIG = 'value.converter';
export const HEADER_CONVERTER_CLASS_CONFIG = 'header.converter';
export { PREDICATES_CONFIG, TRANSFORMS_CONFIG };
export const CONFIG_RELOAD_ACTION_CONFIG = 'config.action.reload';
export const ERRORS_RETRY_TIMEOUT_CONFIG = 'errors.retry.timeout';
export const ERRORS_RETRY_MAX_DELAY_CONFIG = 'errors.retry.delay.max.ms';
export const ERRORS_TOLERANCE_CONFIG = 'errors.tolerance';
export const ERRORS_LOG_ENABLE_CONFIG = 'errors.log.enable';
export const ERRORS_LOG_INCLUDE_MESSAGES_CONFIG = 'errors.log.include.messages';
export const DLQ_TOPIC_NAME_CONFIG = 'errors.deadletterqueue.topic.name';
export const DLQ_TOPIC_REPLICATION_FACTOR_CONFIG = 'errors.deadletterqueue.topic.replication.factor';
export const DLQ_CONTEXT_HEADERS_ENABLE_CONFIG = 'errors.deadletterqueue.context.headers.enable';
export { OUTAGE_WAIT_KEY as OUTAGE_WAIT_TIMEOUT_CONFIG };
export const TOPICS_CONFIG = 'topics';
export const TOPICS_REGEX_CONFIG = 'topics.regex';
export const TOPIC_CREATION_GROUPS_CONFIG = 'topic.creation.groups';
/** KIP-158 defaults for topics a source creates; not in the spec (Connect defines them per group at runtime). */
export const TOPIC_CREATION_DEFAULT_PARTITIONS_CONFIG = 'topic.creation.default.partitions';
export const TOPIC_CREATION_DEFAULT_REPLICATION_FACTOR_CONFIG = 'topic.creation.default.replication.factor';
export const EXACTLY_ONCE_SUPPORT_CONFIG = 'exactly.once.support';
export const TRANSACTION_BOUNDARY_CONFIG = 'transaction.boundary';
export const TRANSACTION_BOUNDARY_INTERVAL_CONFIG = 'transaction.boundary.interval.ms';
export const OFFSETS_STORAGE_TOPIC_CONFIG = 'offsets.storage.topic';
/** A client override (Connect's `consumer.override.*`), not a spec key; the sink's group id when set. */
export const CONSUMER_GROUP_ID_OVERRIDE_CONFIG = 'consumer.override.group.id';

/**
 * The framework keys every connector config has (Connect's ConnectorConfig / SourceConnectorConfig /
 * SinkConnectorConfig), with Connect's names, groups, order, widths and documentation, so validation
 * output matches what Connect tooling shows.
 */
const CONVERTER_DOC =
  'Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the %s in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.';

const nonEmptyNoControl = Validators.custom('non-empty string without ISO control characters', (name, v) => {
  const s = String(v ?? '');
  // Connect prints string values bare: "Invalid value  for configuration name".
  if (s === '') throw new ConfigError(`Invalid value  for configuration ${name}: String may not be empty`, name);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) {
    throw new ConfigError(
      `Invalid value ${s} for configuration ${name}: String may not contain control sequences`,
      name,
    );
  }
});

function oneOf(allowed: string[], caseInsensitive = false): ReturnType<typeof Validators.custom> {
  return Validators.custom(`[${allowed.join(', ')}]`, (name, v) => {
    const s = String(v);
    const ok = caseInsensitive ? allowed.includes(s.toLowerCase()) : allowed.includes(s);
    if (!ok) {
      const list = caseInsensitive ? allowed.map((a) => a.toUpperCase()).join(', ') : allowed.join(', ');
      throw new ConfigError(
        `Invalid value ${s} for configuration ${name}: String must be one of${caseInsensitive ? ' (case insensitive)' : ''}: ${list}`,
        name,
      );
    }
  });
}

/**
 * KIP-891 (Connect 4.1+): `<plugin key>.plugin.version` picks a plugin's version. We ship one version of each
 * plugin, so a value must name or include that version (see runtime/plugins/plugin-version.ts).
 */
function pluginVersionKey(
  name: string,
  orderInGroup: number,
  what: string,
  o: { importance: 'MEDIUM' | 'LOW'; width: 'MEDIUM' | 'SHORT'; defaultValue?: string | null },
) {
  return {
    name,
    type: 'STRING' as const,
    defaultValue: o.defaultValue ?? null,
    importance: o.importance,
    group: 'Common',
    orderInGroup,
    width: o.width,
    displayName: `${what.charAt(0).toUpperCase()}${what.slice(1)} version`,
    documentation: `Version of the ${what}.`,
  };
}

/** The versions the KIP-891 keys default to (Connect shows the installed plugins' versions); null when unknown. */
export interface PluginVersionDefaults {
  connector?: string | null;
  key?: string | null;
  value?: string | null;
  header?: string | null;
}

export function commonConnectorConfigDef(versions: PluginVersionDefaults = {}): ConfigDef {
  return new ConfigDef()
    .define({
      name: NAME_CONFIG,
      type: 'STRING',
      importance: 'HIGH',
      group: 'Common',
      orderInGroup: 1,
      width: 'MEDIUM',
      displayName: 'Connector name',
      validator: nonEmptyNoControl,
      documentation: 'Globally unique name to use for this connector.',
    })
    .define({
      name: CONNECTOR_CLASS_CONFIG,
      type: 'STRING',
      importance: 'HIGH',
      group: 'Common',
      orderInGroup: 2,
      width: 'LONG',
      displayName: 'Connector class',
      documentation:
        'Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name,  or use "FileStreamSink" or "FileStreamSinkConnector" to make the configuration a bit shorter',
    })
    .define(
      pluginVersionKey('connector.plugin.version', 3, 'connector', {
        importance: 'MEDIUM',
        width: 'MEDIUM',
        defaultValue: versions.connector ?? null,
      }),
    )
    .define({
      name: TASKS_MAX_CONFIG,
      type: 'INT',
      defaultValue: 1,
      validator: Validators.atLeast(1),
      importance: 'HIGH',
      group: 'Common',
      orderInGroup: 4,
      width: 'SHORT',
      displayName: 'Tasks max',
      documentation: 'Maximum number of tasks to use for this connector.',
    })
    .define({
      name: TASKS_MAX_ENFORCE_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'LOW',
      group: 'Common',
      orderInGroup: 5,
      width: 'SHORT',
      displayName: 'Enforce tasks max',
      documentation:
        '(Deprecated) Whether to enforce that the tasks.max property is respected by the connector. By default, connectors that generate too many tasks will fail, and existing sets of tasks that exceed the tasks.max property will also be failed. If this property is set to false, then connectors will be allowed to generate more than the maximum number of tasks, and existing sets of tasks that exceed the tasks.max property will be allowed to run. This property is deprecated and will be removed in an upcoming major release.',
    })
    .define({
      name: KEY_CONVERTER_CLASS_CONFIG,
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      group: 'Common',
      orderInGroup: 6,
      width: 'SHORT',
      displayName: 'Key converter class',
      documentation: CONVERTER_DOC.replace('%s', 'keys'),
    })
    .define(
      pluginVersionKey('key.converter.plugin.version', 7, 'key converter', {
        importance: 'LOW',
        width: 'SHORT',
        defaultValue: versions.key ?? null,
      }),
    )
    .define({
      name: VALUE_CONVERTER_CLASS_CONFIG,
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      group: 'Common',
      orderInGroup: 8,
      width: 'SHORT',
      displayName: 'Value converter class',
      documentation: CONVERTER_DOC.replace('%s', 'values'),
    })
    .define(
      pluginVersionKey('value.converter.plugin.version', 9, 'value converter', {
        importance: 'LOW',
        width: 'SHORT',
        defaultValue: versions.value ?? null,
      }),
    )
    .define({
      name: HEADER_CONVERTER_CLASS_CONFIG,
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      group: 'Common',
      orderInGroup: 10,
      width: 'SHORT',
      displayName: 'Header converter class',
      documentation:
        CONVERTER_DOC.replace('%s', 'header values').replace('Converter class', 'HeaderConverter class') +
        ' By default, the SimpleHeaderConverter is used to serialize header values to strings and deserialize them by inferring the schemas.',
    })
    .define(
      pluginVersionKey('header.converter.plugin.version', 11, 'header converter', {
        importance: 'LOW',
        width: 'SHORT',
        defaultValue: versions.header ?? null,
      }),
    )
    .define({
      name: TRANSFORMS_CONFIG,
      type: 'LIST',
      defaultValue: '',
      validator: uniqueAliases,
      importance: 'LOW',
      group: 'Transforms',
      orderInGroup: 12,
      width: 'LONG',
      displayName: 'Transforms',
      documentation: 'Aliases for the transformations to be applied to records.',
    })
    .define({
      name: PREDICATES_CONFIG,
      type: 'LIST',
      defaultValue: '',
      validator: uniqueAliases,
      importance: 'LOW',
      group: 'Predicates',
      orderInGroup: 13,
      width: 'LONG',
      displayName: 'Predicates',
      documentation: 'Aliases for the predicates used by transformations.',
    })
    .define({
      name: CONFIG_RELOAD_ACTION_CONFIG,
      type: 'STRING',
      defaultValue: 'restart',
      validator: oneOf(['none', 'restart'], true),
      importance: 'LOW',
      group: 'Common',
      orderInGroup: 14,
      width: 'MEDIUM',
      displayName: 'Reload Action',
      documentation:
        "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties. A value of 'none' indicates that Connect will do nothing. A value of 'restart' indicates that Connect should restart/reload the connector with the updated configuration properties.The restart may actually be scheduled in the future if the external configuration provider indicates that a configuration value will expire in the future.",
    })
    .define({
      name: ERRORS_RETRY_TIMEOUT_CONFIG,
      type: 'LONG',
      defaultValue: 0,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 1,
      width: 'MEDIUM',
      displayName: 'Retry Timeout for Errors',
      documentation:
        'The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.',
    })
    .define({
      name: OUTAGE_WAIT_KEY,
      type: 'LONG',
      defaultValue: null,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 1,
      width: 'MEDIUM',
      displayName: 'Outage Wait Timeout',
      documentation:
        'erpstream extension: how long a task waits for a Kafka broker or schema registry that is down or not ready (a topic just created) before it fails, whatever errors.retry.timeout says; the task stays RUNNING and its status says what it waits for. Defaults to the worker setting, else 900000 (15 min). -1 waits forever.',
    })
    .define({
      name: ERRORS_RETRY_MAX_DELAY_CONFIG,
      type: 'LONG',
      defaultValue: 60000,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 2,
      width: 'MEDIUM',
      displayName: 'Maximum Delay Between Retries for Errors',
      documentation:
        'The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues.',
    })
    .define({
      name: ERRORS_TOLERANCE_CONFIG,
      type: 'STRING',
      defaultValue: 'none',
      validator: oneOf(['none', 'all']),
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 3,
      width: 'SHORT',
      displayName: 'Error Tolerance',
      documentation:
        "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
    })
    .define({
      name: ERRORS_LOG_ENABLE_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 4,
      width: 'SHORT',
      displayName: 'Log Errors',
      documentation:
        "If true, write each error and the details of the failed operation and problematic record to the Connect application log. This is 'false' by default, so that only errors that are not tolerated are reported.",
    })
    .define({
      name: ERRORS_LOG_INCLUDE_MESSAGES_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 5,
      width: 'SHORT',
      displayName: 'Log Error Details',
      documentation:
        "Whether to include in the log the Connect record that resulted in a failure. For sink records, the topic, partition, offset, and timestamp will be logged. For source records, the key and value (and their schemas), all headers, and the timestamp, Kafka topic, Kafka partition, source partition, and source offset will be logged. This is 'false' by default, which will prevent record keys, values, and headers from being written to log files.",
    });
}

const uniqueAliases = Validators.custom('unique aliases', (name, v) => {
  const list = (v as string[] | null) ?? [];
  if (new Set(list).size !== list.length) {
    throw new ConfigError(`Invalid value ${list.join(',')} for configuration ${name}: Duplicate alias provided.`, name);
  }
});

/**
 * Kafka's rule for a topic name (Topic.validate), checked when the connector is configured: a DLQ topic the
 * broker refuses would otherwise fail the task at its first bad record with the broker's "Topic creation errors".
 */
const dlqTopicName = Validators.custom('a legal Kafka topic name, or empty for none', (name, v) => {
  const s = String(v ?? '');
  const why = s === '' ? null : topicNameProblem(s);
  if (why !== null) throw ConfigError.invalid(name, s, why);
});

/** Why Kafka refuses a topic name, or null when it takes it. */
function topicNameProblem(s: string): string | null {
  if (s === '.' || s === '..') return 'Topic name cannot be "." or ".."';
  if (s.length > 249) return 'Topic name is longer than 249 characters';
  if (!/^[A-Za-z0-9._-]+$/.test(s)) return "Topic name may only contain ASCII letters, digits, '.', '_' and '-'";
  return null;
}

/** A replication factor to create a topic with: positive, or -1 for the broker's default (Connect's KIP-158 rule). */
const replicationFactor = Validators.custom('positive, or -1 for the broker default', (name, v) => {
  const n = v as number | null;
  if (n !== null && n !== -1 && n < 1) {
    throw ConfigError.invalid(name, v, "Replication factor must be positive, or -1 to use the broker's default");
  }
});

function dlqKeys(def: ConfigDef, forSource: boolean): ConfigDef {
  const who = forSource ? 'source connector (erpstream extension)' : 'sink connector';
  return def
    .define({
      name: DLQ_TOPIC_NAME_CONFIG,
      type: 'STRING',
      defaultValue: '',
      validator: dlqTopicName,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 6,
      width: 'MEDIUM',
      displayName: 'Dead Letter Queue Topic Name',
      documentation: `The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this ${who}, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ.`,
    })
    .define({
      name: DLQ_TOPIC_REPLICATION_FACTOR_CONFIG,
      type: 'SHORT',
      defaultValue: 3,
      validator: replicationFactor,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 7,
      width: 'MEDIUM',
      displayName: 'Dead Letter Queue Topic Replication Factor',
      documentation: "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
    })
    .define({
      name: DLQ_CONTEXT_HEADERS_ENABLE_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      group: 'Error Handling',
      orderInGroup: 8,
      width: 'MEDIUM',
      displayName: 'Enable Error Context Headers',
      documentation:
        'If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers from the original record, all error context header keys, all error context header keys will start with <code>__connect.errors.</code>',
    });
}

export function sourceConnectorConfigDef(versions: PluginVersionDefaults = {}): ConfigDef {
  const def = commonConnectorConfigDef(versions)
    .define({
      name: TOPIC_CREATION_GROUPS_CONFIG,
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      group: 'Topic Creation',
      orderInGroup: 1,
      width: 'LONG',
      displayName: 'Topic Creation Groups',
      documentation: 'Groups of configurations for topics created by source connectors',
    })
    .define({
      name: EXACTLY_ONCE_SUPPORT_CONFIG,
      type: 'STRING',
      defaultValue: 'requested',
      validator: oneOf(['requested', 'required'], true),
      importance: 'MEDIUM',
      group: 'Exactly Once Support',
      orderInGroup: 2,
      width: 'SHORT',
      displayName: 'Exactly once support',
      documentation:
        'Permitted values are requested, required. If set to "required", forces a preflight check for the connector to ensure that it can provide exactly-once semantics with the given configuration.',
    })
    .define({
      name: TRANSACTION_BOUNDARY_CONFIG,
      type: 'STRING',
      defaultValue: 'poll',
      validator: oneOf(['poll', 'interval', 'connector'], true),
      importance: 'MEDIUM',
      group: 'Exactly Once Support',
      orderInGroup: 3,
      width: 'SHORT',
      displayName: 'Transaction Boundary',
      documentation:
        "Permitted values are: poll, interval, connector. If set to 'poll', a new producer transaction will be started and committed for every batch of records that each task from this connector provides to Connect.",
    })
    .define({
      name: TRANSACTION_BOUNDARY_INTERVAL_CONFIG,
      type: 'LONG',
      defaultValue: null,
      validator: Validators.custom('[0,...]', (name, v) => {
        if (v !== null && (v as number) < 0) throw ConfigError.invalid(name, v, 'Value must be at least 0');
      }),
      importance: 'LOW',
      group: 'Exactly Once Support',
      orderInGroup: 4,
      width: 'SHORT',
      displayName: 'Transaction boundary interval',
      documentation:
        "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector tasks. If unset, defaults to the value of the worker-level 'offset.flush.interval.ms' property.",
    })
    .define({
      name: OFFSETS_STORAGE_TOPIC_CONFIG,
      type: 'STRING',
      defaultValue: null,
      importance: 'LOW',
      group: 'offsets.topic',
      orderInGroup: 1,
      width: 'LONG',
      displayName: 'Offsets topic',
      documentation:
        'The name of a separate offsets topic to use for this connector. Only applicable in distributed mode; in standalone mode, setting this property will have no effect.',
    });
  return dlqKeys(def, true);
}

export function sinkConnectorConfigDef(versions: PluginVersionDefaults = {}): ConfigDef {
  const def = commonConnectorConfigDef(versions)
    .define({
      name: TOPICS_CONFIG,
      type: 'LIST',
      defaultValue: '',
      importance: 'HIGH',
      group: 'Common',
      orderInGroup: 4,
      width: 'LONG',
      displayName: 'Topics',
      documentation: 'List of topics to consume, separated by commas',
    })
    .define({
      name: TOPICS_REGEX_CONFIG,
      type: 'STRING',
      defaultValue: '',
      validator: Validators.regex(),
      importance: 'HIGH',
      group: 'Common',
      orderInGroup: 4,
      width: 'LONG',
      displayName: 'Topics regex',
      documentation:
        'Regular expression giving topics to consume. Under the hood, the regex is compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be specified.',
    });
  return dlqKeys(def, false);
}

/** Framework keys for a connector kind (used by /connector-plugins/{p}/config and validation). */
export function frameworkConfigDef(kind: 'source' | 'sink', versions: PluginVersionDefaults = {}): ConfigDef {
  return kind === 'source' ? sourceConnectorConfigDef(versions) : sinkConnectorConfigDef(versions);
}

export function configError(name: string, message: string, value: unknown = null): ConfigValueResult {
  return { name, value, recommendedValues: [], errors: [message], visible: true };
}

/**
 * A KIP-158 count (`topic.creation.default.partitions`, `….replication.factor`): a positive integer, or -1 for the
 * broker's default, with Connect's TopicCreationConfig messages. Not in the spec (Connect defines them per creation
 * group), so validation and the settings both read them here: a value the worker would otherwise have to guess at
 * ("abc", 0, 1.5) is refused naming the key.
 */
export function topicCreationCount(name: string, raw: unknown): number | null {
  if (raw === undefined || raw === null) return null;
  const n = parseValue({ name, type: 'INT' }, raw) as number;
  if (n === -1 || n > 0) return n;
  const what = name.endsWith('.partitions')
    ? "Number of partitions must be positive, or -1 to use the broker's default"
    : "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default";
  throw ConfigError.invalid(name, raw, what);
}

/** Checks of the topic-creation keys outside the spec (a source's topics, and the topics a sink creates). */
export function topicCreationChecks(props: RawConfig): ConfigValueResult[] {
  const out: ConfigValueResult[] = [];
  for (const name of [TOPIC_CREATION_DEFAULT_PARTITIONS_CONFIG, TOPIC_CREATION_DEFAULT_REPLICATION_FACTOR_CONFIG]) {
    try {
      topicCreationCount(name, props[name]);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      out.push(configError(name, e.message, props[name] ?? null));
    }
  }
  return out;
}

/** How a sink task's consumer fetches: the `consumer.override.*` fetch keys the worker honours (kafkajs options). */
export interface ConsumerFetchSettings {
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
  readonly minBytes?: number;
  readonly maxWaitTimeInMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly readUncommitted?: boolean;
  readonly fromBeginning?: boolean;
  readonly maxPollRecords?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A whole number of at least `least`, as the consumer override `name` (Connect's INT parsing and messages). */
function wholeAtLeast(least: number) {
  return (name: string, raw: unknown): number => {
    const n = parseValue({ name, type: 'INT' }, raw) as number;
    if (n < least) throw ConfigError.invalid(name, raw, `Value must be at least ${least} (a whole number)`);
    return n;
  };
}

function choiceOf<T>(choices: Readonly<Record<string, T>>, why = '') {
  return (name: string, raw: unknown): T => {
    const key = String(raw).trim().toLowerCase();
    if (!Object.hasOwn(choices, key)) {
      throw ConfigError.invalid(name, raw, `String must be one of: ${Object.keys(choices).join(', ')}${why}`);
    }
    return choices[key]!;
  };
}

/**
 * The Kafka consumer configs a sink connector may override (`consumer.override.<config>`, Connect's client override
 * policy `All`), each with its parser into the consumer option it sets. Others under the prefix are passed over
 * (listed by docs/worker.md), except `group.id`.
 */
const CONSUMER_OVERRIDES: ReadonlyArray<
  readonly [string, (name: string, raw: unknown) => Partial<Mutable<ConsumerFetchSettings>>]
> = [
  ['max.partition.fetch.bytes', (n, r) => ({ maxBytesPerPartition: wholeAtLeast(1)(n, r) })],
  ['fetch.max.bytes', (n, r) => ({ maxBytes: wholeAtLeast(1)(n, r) })],
  ['fetch.min.bytes', (n, r) => ({ minBytes: wholeAtLeast(0)(n, r) })],
  ['fetch.max.wait.ms', (n, r) => ({ maxWaitTimeInMs: wholeAtLeast(0)(n, r) })],
  ['session.timeout.ms', (n, r) => ({ sessionTimeoutMs: wholeAtLeast(1)(n, r) })],
  ['heartbeat.interval.ms', (n, r) => ({ heartbeatIntervalMs: wholeAtLeast(1)(n, r) })],
  ['max.poll.records', (n, r) => ({ maxPollRecords: wholeAtLeast(1)(n, r) })],
  [
    'isolation.level',
    (n, r) => ({ readUncommitted: choiceOf({ read_committed: false, read_uncommitted: true })(n, r) }),
  ],
  [
    'auto.offset.reset',
    (n, r) => ({
      fromBeginning: choiceOf(
        { earliest: true, latest: false },
        ' (none, which fails a task whose group has no committed offset, is not supported)',
      )(n, r),
    }),
  ],
];
export const CONSUMER_OVERRIDE_PREFIX = 'consumer.override.';

/** Kafka's consumer refuses a heartbeat interval not below the session timeout (at join, failing the task). */
function heartbeatBelowSession(settings: ConsumerFetchSettings, props: RawConfig): void {
  const { sessionTimeoutMs = 10_000, heartbeatIntervalMs } = settings;
  if (heartbeatIntervalMs === undefined || heartbeatIntervalMs < sessionTimeoutMs) return;
  const name = `${CONSUMER_OVERRIDE_PREFIX}heartbeat.interval.ms`;
  throw ConfigError.invalid(
    name,
    props[name],
    `Must be lower than the session timeout (${sessionTimeoutMs} ms; typically a third of it)`,
  );
}

/** Parses the consumer overrides; throws ConfigError naming the key and value when one is out of range. */
export function consumerFetchSettings(props: RawConfig): ConsumerFetchSettings {
  const out: Mutable<ConsumerFetchSettings> = {};
  for (const [config, parse] of CONSUMER_OVERRIDES) {
    const name = CONSUMER_OVERRIDE_PREFIX + config;
    const raw = props[name];
    if (raw === undefined || raw === null) continue;
    Object.assign(out, parse(name, raw));
  }
  heartbeatBelowSession(out, props);
  return out;
}

/** Checks of the consumer overrides (sinks), as validation reports them. */
export function consumerOverrideChecks(props: RawConfig): ConfigValueResult[] {
  const out: ConfigValueResult[] = [];
  for (const [config] of CONSUMER_OVERRIDES) {
    const name = CONSUMER_OVERRIDE_PREFIX + config;
    try {
      consumerFetchSettings({ [name]: props[name] });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      out.push(configError(name, e.message, props[name] ?? null));
    }
  }
  if (out.length === 0) {
    try {
      consumerFetchSettings(props);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const name = `${CONSUMER_OVERRIDE_PREFIX}heartbeat.interval.ms`;
      out.push(configError(name, e.message, props[name] ?? null));
    }
  }
  return out;
}

export const PRODUCER_COMPRESSION_OVERRIDE = 'producer.override.compression.type';

/**
 * `producer.override.compression.type` of a source connector: the codec its records are written with, instead of
 * the worker's `producer.compression.type`; null when unset. The other producer overrides are passed over.
 */
export function producerCompressionOverride(props: RawConfig): Compression | null {
  const raw = props[PRODUCER_COMPRESSION_OVERRIDE];
  if (raw === undefined || raw === null) return null;
  const known = compressionNamed(String(raw));
  if (known === undefined) {
    throw ConfigError.invalid(PRODUCER_COMPRESSION_OVERRIDE, raw, `String must be one of: ${COMPRESSIONS.join(', ')}`);
  }
  return known;
}

/** Checks of the producer overrides (sources), as validation reports them. */
export function producerOverrideChecks(props: RawConfig): ConfigValueResult[] {
  try {
    producerCompressionOverride(props);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return [configError(PRODUCER_COMPRESSION_OVERRIDE, e.message, props[PRODUCER_COMPRESSION_OVERRIDE] ?? null)];
  }
}

/** Sink-only cross-field checks (SinkConnectorConfig.validate). */
export function sinkTopicChecks(props: RawConfig): ConfigValueResult[] {
  const topics = String(props[TOPICS_CONFIG] ?? '').trim();
  const regex = String(props[TOPICS_REGEX_CONFIG] ?? '').trim();
  // Empty entries are skipped when the sink subscribes (connector-settings.ts), so `topics= , ` names no topic.
  const list = topics === '' ? [] : topics.split(/\s*,\s*/).filter((t) => t !== '');
  const out: ConfigValueResult[] = [];
  if (list.length > 0 && regex !== '') {
    const msg = 'topics and topics.regex are mutually exclusive options, but both are set.';
    out.push(configError(TOPICS_CONFIG, msg), configError(TOPICS_REGEX_CONFIG, msg));
  } else if (list.length === 0 && regex === '') {
    const msg = 'Must configure one of topics or topics.regex';
    out.push(configError(TOPICS_CONFIG, msg), configError(TOPICS_REGEX_CONFIG, msg));
  }
  // The worker creates each topic before it subscribes: a name Kafka refuses would fail the task, not name the key.
  for (const t of list) {
    const why = topicNameProblem(t);
    if (why !== null)
      out.push(configError(TOPICS_CONFIG, `Invalid value ${topics} for configuration topics: ${why}: ${t}`));
  }
  const dlq = String(props[DLQ_TOPIC_NAME_CONFIG] ?? '').trim();
  if (dlq !== '') {
    let clash = list.includes(dlq);
    if (!clash && regex !== '') {
      try {
        clash = new RegExp(`^(?:${regex})$`).test(dlq);
      } catch {
        // the regex key reports its own error
      }
    }
    if (clash) {
      out.push(
        configError(
          DLQ_TOPIC_NAME_CONFIG,
          `The DLQ topic '${dlq}' may not be included in the list of topics ('topics=${topics}') or match the regex ('topics.regex=${regex}') to consume from`,
        ),
      );
    }
  }
  return out;
}

/** The multi-line 400 message Connect builds in AbstractHerder.maybeAddConfigErrors. */
export function configErrorsMessage(infos: ConfigInfos): string {
  const lines: string[] = [];
  for (const c of infos.configs) lines.push(...c.value.errors);
  return (
    `Connector configuration is invalid and contains the following ${infos.error_count} error(s):\n` +
    lines.map((l) => `${l}\n`).join('') +
    'You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`'
  );
}
