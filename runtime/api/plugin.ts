import { buildInfo } from './build-info.js';
import type { ConfigDef, ConfigValueResult, RawConfig } from './config.js';
import type {
  ConnectRecord,
  Headers,
  SinkRecord,
  SourceOffset,
  SourcePartition,
  SourceRecord,
  TopicPartition,
} from './record.js';
import type { SchemaAndValue, Schema } from './schema.js';

/**
 * The contracts plugins implement. Plugins import only `runtime/api`; the runtime hosts them.
 * Shapes follow Kafka Connect's (configure/apply/close, start/poll/stop, put/flush), made async where
 * Node needs it.
 */

/** erpstream's release version (package.json): what built-in plugins report and `erpstream --version` prints. */
export const ERPSTREAM_VERSION = buildInfo().version;

export type PluginType =
  'source' | 'sink' | 'converter' | 'header_converter' | 'transformation' | 'predicate' | 'config_provider';

/** Plugins log through this; the runtime adds connector/task context and redacts secrets. */
export interface Logger {
  trace(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(context: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** Single message transform. `apply` returns null to drop the record. */
export interface Transformation<R extends ConnectRecord = ConnectRecord> {
  configure(props: RawConfig): void | Promise<void>;
  apply(record: R): R | null;
  close(): void | Promise<void>;
}

export interface Predicate<R extends ConnectRecord = ConnectRecord> {
  configure(props: RawConfig): void | Promise<void>;
  test(record: R): boolean;
  close(): void | Promise<void>;
}

/** Converts between Connect data and bytes. Async because a registry may be involved. */
export interface Converter {
  configure(props: RawConfig, isKey: boolean): void | Promise<void>;
  fromConnectData(topic: string, headers: Headers, schema: Schema | null, value: unknown): Promise<Buffer | null>;
  toConnectData(topic: string, headers: Headers, bytes: Buffer | null): Promise<SchemaAndValue>;
  /**
   * Optional synchronous forms, which spare the worker a promise per record: the same result or error as the async
   * form, or `undefined` for "not now" (a schema not looked up yet), and the worker awaits the async form instead.
   */
  fromConnectDataSync?(
    topic: string,
    headers: Headers,
    schema: Schema | null,
    value: unknown,
  ): Buffer | null | undefined;
  toConnectDataSync?(topic: string, headers: Headers, bytes: Buffer | null): SchemaAndValue | undefined;
  close?(): void | Promise<void>;
}

export interface HeaderConverter {
  configure(props: RawConfig): void | Promise<void>;
  fromConnectHeader(topic: string, headerKey: string, schema: Schema | null, value: unknown): Buffer | null;
  toConnectHeader(topic: string, headerKey: string, bytes: Buffer | null): SchemaAndValue;
}

export interface ConnectorContext {
  /** Ask the runtime to call taskConfigs() again (tables added, etc.). */
  requestTaskReconfiguration(): void;
  raiseError(error: Error): void;
  readonly logger: Logger;
}

interface ConnectorBase {
  version(): string;
  initialize?(context: ConnectorContext): void;
  start(props: Readonly<Record<string, string>>): void | Promise<void>;
  taskConfigs(maxTasks: number): Array<Record<string, string>> | Promise<Array<Record<string, string>>>;
  stop(): void | Promise<void>;
  /** Extra validation beyond the spec (cross-field checks, connectivity). */
  validate?(props: Readonly<Record<string, string>>): ConfigValueResult[] | Promise<ConfigValueResult[]>;
}

export interface SourceConnector extends ConnectorBase {
  readonly kind: 'source';
  /** Exactly-once: whether this connector can support it with these props (KIP-618). */
  exactlyOnceSupport?(props: Readonly<Record<string, string>>): 'SUPPORTED' | 'UNSUPPORTED' | null;
  alterOffsets?(props: Readonly<Record<string, string>>, offsets: Map<SourcePartition, SourceOffset | null>): boolean;
}

export interface SinkConnector extends ConnectorBase {
  readonly kind: 'sink';
  alterOffsets?(props: Readonly<Record<string, string>>, offsets: Map<TopicPartition, bigint | null>): boolean;
}

export interface OffsetStorageReader {
  offset(partition: SourcePartition): Promise<SourceOffset | null>;
  offsets(partitions: SourcePartition[]): Promise<Map<SourcePartition, SourceOffset | null>>;
}

/** Kafka's answer for a produced record. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface TaskStatusReporter {
  /** Free-form progress shown in task status and logs (e.g. snapshot rows done / total). */
  progress(info: Record<string, unknown>): void;
}

export interface SourceTaskContext {
  readonly taskId: number;
  readonly connectorName: string;
  readonly offsetStorageReader: OffsetStorageReader;
  readonly logger: Logger;
  readonly status: TaskStatusReporter;
  /** With transaction.boundary=connector, the task defines transactions through this. */
  readonly transactionContext?: {
    commitTransaction(record?: SourceRecord): void;
    abortTransaction(record?: SourceRecord): void;
  };
}

export interface SourceTask {
  initialize(context: SourceTaskContext): void;
  start(props: Readonly<Record<string, string>>): Promise<void>;
  /** Returns records, or null/[] when there is nothing now. Should not block longer than ~poll interval. */
  poll(): Promise<SourceRecord[] | null>;
  /** Called after offsets up to the last acknowledged records were committed. */
  commit?(): Promise<void>;
  commitRecord?(record: SourceRecord, metadata: RecordMetadata | null): void;
  stop(): Promise<void>;
  version(): string;
}

export interface ErrantRecordReporter {
  /** Sends the record to the DLQ (when configured) with the error as context; resolves once written. */
  report(record: SinkRecord, error: Error): Promise<void>;
}

/** A record a plugin writes to Kafka itself, already serialized. */
export interface OutgoingKafkaRecord {
  readonly topic: string;
  readonly partition?: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, Buffer | string>>;
  readonly timestamp?: number;
}

export interface KafkaWriter {
  send(records: readonly OutgoingKafkaRecord[]): Promise<RecordMetadata[]>;
  /** Runs fn in one Kafka transaction (only for writers opened with a transactionalId). */
  transaction?<T>(fn: (tx: { send(records: readonly OutgoingKafkaRecord[]): Promise<void> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Kafka access the runtime lends to plugins that must write to Kafka themselves (a sink delivering to
 * per-customer topics, a durable park store). Plugins never import a Kafka client directly.
 */
export interface KafkaAccess {
  writer(options?: { transactionalId?: string; clientId?: string }): Promise<KafkaWriter>;
  ensureTopics(
    topics: ReadonlyArray<{ topic: string; partitions?: number; configs?: Readonly<Record<string, string>> }>,
  ): Promise<void>;
  /**
   * Reads a (compacted) topic from the beginning to its current end, e.g. to rebuild a ledger. Records of a
   * partition come in offset order; a returned promise is awaited before the next record (backpressure).
   */
  readAll(
    topic: string,
    onRecord: (
      key: Buffer | null,
      value: Buffer | null,
      partition: number,
      meta: { offset: bigint; headers: Readonly<Record<string, Buffer>> },
    ) => unknown,
  ): Promise<void>;
  /** Which of these topics exist (a read-only check; optional for runtimes without an admin client). */
  existingTopics?(topics: readonly string[]): Promise<string[]>;
  /** Serializes with the worker's converters for the given topic. */
  readonly converters?: {
    key: Converter;
    value: Converter;
  };
}

/**
 * A transform chain the runtime built for a plugin from the plugin's own keys (see SinkTaskContext.transforms).
 * It behaves like the connector-level chain: stages run in order, a stage with a predicate runs only when
 * `predicate.test(record) XOR negate`, a stage returning null drops the record.
 */
export interface RecordTransforms<R extends ConnectRecord = ConnectRecord> {
  /** The transform aliases in chain order (empty: records pass through unchanged). */
  readonly aliases: readonly string[];
  /**
   * The record after every stage, or null when a stage dropped it. A failing stage throws an ErpStreamError
   * whose message names its alias and class (and the field, when the transform named one).
   */
  apply(record: R): R | null;
  close(): Promise<void>;
}

export interface SinkTaskContext {
  readonly taskId: number;
  readonly connectorName: string;
  readonly logger: Logger;
  readonly status: TaskStatusReporter;
  /**
   * Moves consumption of these (owned) partitions to these offsets, before the next batch is read; the offsets are
   * committed, so a restart resumes there too.
   */
  offset(offsets: Map<TopicPartition, bigint>): void;
  pause(...partitions: TopicPartition[]): void;
  resume(...partitions: TopicPartition[]): void;
  requestCommit(): void;
  readonly errantRecordReporter: ErrantRecordReporter | null;
  assignment(): TopicPartition[];
  /** Present when the runtime is connected to Kafka. */
  readonly kafka?: KafkaAccess;
  /**
   * Builds a transform chain from the task's own keys under `prefix`, with Connect's `transforms` syntax:
   * `<prefix>transforms=a,b`, `<prefix>transforms.a.type=…`, `<prefix>transforms.a.predicate`/`negate`,
   * `<prefix>predicates=p`, `<prefix>predicates.p.type=…`. Plugins cannot build chains themselves (they never
   * import the runtime). Rejects with a ConfigError listing every problem, each naming its prefixed key (and so
   * the alias) and the class. Optional: a runtime without it cannot host plugins that need it.
   */
  transforms?(props: Readonly<Record<string, string>>, prefix: string): Promise<RecordTransforms<SinkRecord>>;
}

export interface SinkTask {
  initialize(context: SinkTaskContext): void;
  start(props: Readonly<Record<string, string>>): Promise<void>;
  put(records: SinkRecord[]): Promise<void>;
  /** Returns the offsets safe to commit (Connect's preCommit); default: everything put so far. */
  preCommit?(currentOffsets: Map<TopicPartition, bigint>): Promise<Map<TopicPartition, bigint>>;
  open?(partitions: TopicPartition[]): Promise<void>;
  close?(partitions: TopicPartition[]): Promise<void>;
  stop(): Promise<void>;
  version(): string;
}

interface PluginDescriptorBase {
  /** Fully qualified class name users write in configs, e.g. org.apache.kafka.connect.transforms.Cast$Value */
  readonly className: string;
  /** Simple-name aliases (Connect's PluginUtils aliases); `$Key`/`$Value` variants have none. */
  readonly aliases?: readonly string[];
  readonly version: string;
  /** The spec, declared once. */
  readonly config: ConfigDef;
  /** One-line summary for `plugins list` and docs. */
  readonly summary: string;
  /** A worked example for the docs, as connector config lines. */
  readonly example?: Readonly<Record<string, string>>;
  /**
   * Keys an earlier version honoured and this one no longer does, with what to use instead. A config that still
   * sets one is refused (validation error on the key; the chain does not start) rather than silently ignored.
   */
  readonly removedKeys?: Readonly<Record<string, string>>;
}

export interface TransformationPlugin extends PluginDescriptorBase {
  readonly type: 'transformation';
  create(): Transformation;
}
export interface PredicatePlugin extends PluginDescriptorBase {
  readonly type: 'predicate';
  create(): Predicate;
}
export interface ConverterPlugin extends PluginDescriptorBase {
  readonly type: 'converter';
  create(): Converter;
}
export interface HeaderConverterPlugin extends PluginDescriptorBase {
  readonly type: 'header_converter';
  create(): HeaderConverter;
}
export interface SourceConnectorPlugin extends PluginDescriptorBase {
  readonly type: 'source';
  create(): SourceConnector;
  createTask(): SourceTask;
}
export interface SinkConnectorPlugin extends PluginDescriptorBase {
  readonly type: 'sink';
  create(): SinkConnector;
  createTask(): SinkTask;
  /**
   * Key prefixes under which the tasks build their own transform chains through SinkTaskContext.transforms
   * (`delivery.` for `delivery.transforms=…`). The worker validates those chains with the connector's config, as it
   * validates `transforms`, so a bad chain is refused when the config is submitted, not when a task starts.
   */
  readonly transformChainPrefixes?: readonly string[];
}

export type PluginDescriptor =
  | TransformationPlugin
  | PredicatePlugin
  | ConverterPlugin
  | HeaderConverterPlugin
  | SourceConnectorPlugin
  | SinkConnectorPlugin;

/**
 * What a plugin package's `register` function is given (see docs on `plugin.path`): it adds each of the package's
 * components, the same descriptors the built-in plugins are. A name already taken is refused, never overridden.
 */
export interface PluginRegistrar {
  register(plugin: PluginDescriptor): void;
}

/** The entry a plugin package exports (default export, or a named `register`). */
export type PluginPackageEntry =
  | ((registrar: PluginRegistrar) => void | Promise<void>)
  | { register(registrar: PluginRegistrar): void | Promise<void> };
