/**
 * The integration file's fields and the connector config keys they become, declared once: expansion
 * writes the keys from these tables, validation maps a connector-key error back to the field, and the JSON
 * Schema takes each field's description from the plugin's ConfigDef documentation of its key.
 */

export type FieldType = 'string' | 'integer' | 'boolean' | 'list' | 'pairs';

export interface Field {
  /** Name in the file (camelCase). */
  readonly f: string;
  /** Connector config key (relative to the section's key prefix). */
  readonly key: string;
  readonly type: FieldType;
  readonly oneOf?: readonly string[];
  /** Description when the key is not in a plugin's ConfigDef. */
  readonly doc?: string;
}

export interface Group {
  readonly f: string;
  readonly fields: readonly FieldSpec[];
  readonly doc: string;
}

export type FieldSpec = Field | Group;

export function isGroup(spec: FieldSpec): spec is Group {
  return 'fields' in spec;
}

const connection = (prefix: string, doc: string): Group => ({
  f: 'connection',
  doc,
  fields: [
    { f: 'url', key: `${prefix}.url`, type: 'string' },
    { f: 'user', key: `${prefix}.user`, type: 'string' },
    { f: 'password', key: `${prefix}.password`, type: 'string' },
  ],
});

/** `source:` (or a `kind: Source` document's `spec:`) → ErpSourceConnector keys. */
export const SOURCE_FIELDS: readonly FieldSpec[] = [
  connection('connection', 'The ERP database; use ${env:VAR} for credentials.'),
  {
    f: 'capture',
    doc: 'How changes are captured.',
    fields: [
      { f: 'mode', key: 'capture.mode', type: 'string' },
      { f: 'changeTable', key: 'change.table', type: 'string' },
      { f: 'keyColumns', key: 'change.table.key.columns', type: 'list' },
      { f: 'sequenceColumn', key: 'change.table.sequence.column', type: 'string' },
      { f: 'txidColumn', key: 'change.table.txid.column', type: 'string' },
      { f: 'timestampColumn', key: 'change.table.timestamp.column', type: 'string' },
      { f: 'gapTimeoutMs', key: 'gap.timeout.ms', type: 'integer' },
      { f: 'outboxTable', key: 'outbox.table', type: 'string' },
    ],
  },
  { f: 'topicPrefix', key: 'topic.prefix', type: 'string' },
  { f: 'snapshotMode', key: 'snapshot.mode', type: 'string' },
  { f: 'pollIntervalMs', key: 'poll.interval.ms', type: 'integer' },
  { f: 'maxBatchSize', key: 'max.batch.size', type: 'integer' },
  { f: 'heartbeatIntervalMs', key: 'heartbeat.interval.ms', type: 'integer' },
  { f: 'tasksMax', key: 'tasks.max', type: 'integer', doc: 'Kafka Connect: the most tasks the connector may run.' },
];

/** Fields of the sink section → LookupSinkConnector keys. */
export const SINK_FIELDS: readonly FieldSpec[] = [
  {
    f: 'lookup',
    doc: 'How the origin row is looked up for each id (default connection: the source’s).',
    fields: [
      connection('lookup.connection', 'The origin database (default: the source connection).'),
      { f: 'table', key: 'lookup.table', type: 'string' },
      { f: 'query', key: 'lookup.query', type: 'string' },
      { f: 'keyColumns', key: 'lookup.key.columns', type: 'list' },
      { f: 'idField', key: 'lookup.id.field', type: 'list' },
      { f: 'versionColumn', key: 'lookup.version.column', type: 'string' },
      { f: 'batchSize', key: 'lookup.batch.size', type: 'integer' },
      { f: 'entity', key: 'entity.name', type: 'string' },
    ],
  },
  {
    f: 'version',
    doc: 'Where the record version is read.',
    fields: [
      { f: 'header', key: 'version.header', type: 'string' },
      { f: 'field', key: 'version.field', type: 'string' },
    ],
  },
  {
    f: 'destination',
    doc: 'Where ready rows are delivered: a Kafka topic template, an HTTP endpoint or a database table.',
    fields: [
      { f: 'type', key: 'destination.type', type: 'string', oneOf: ['kafka', 'http', 'jdbc'] },
      { f: 'name', key: 'destination.name', type: 'string' },
      { f: 'topic', key: 'destination.topic', type: 'string' },
      { f: 'partitions', key: 'destination.topic.partitions', type: 'integer' },
      { f: 'url', key: 'destination.url', type: 'string' },
      { f: 'headers', key: 'destination.http.headers', type: 'list' },
      { f: 'authorization', key: 'destination.http.authorization', type: 'string' },
      connection('destination.connection', 'jdbc: the target database (default: the lookup connection).'),
      { f: 'table', key: 'destination.table', type: 'string' },
      { f: 'keyColumns', key: 'destination.key.columns', type: 'list' },
      { f: 'versionColumn', key: 'destination.version.column', type: 'string' },
      { f: 'deleteMode', key: 'destination.delete.mode', type: 'string' },
    ],
  },
  { f: 'tasksMax', key: 'tasks.max', type: 'integer', doc: 'Kafka Connect: the most tasks the connector may run.' },
];

/** One dependency under `sink.dependencies.<name>` → `dependencies.<name>.*`. */
export const DEPENDENCY_FIELDS: readonly Field[] = [
  { f: 'type', key: 'type', type: 'string', oneOf: ['ledger', 'sql', 'field'], doc: 'ledger | sql | field.' },
  { f: 'entity', key: 'entity', type: 'string', doc: 'ledger: the parent entity that must have been delivered.' },
  { f: 'destination', key: 'destination', type: 'string', doc: 'ledger: the destination name it was delivered to.' },
  { f: 'idField', key: 'id.field', type: 'list', doc: 'ledger: row columns holding the parent id.' },
  {
    f: 'query',
    key: 'query',
    type: 'string',
    doc: 'sql: a query with :named row values; ready when it returns a row.',
  },
  { f: 'field', key: 'field', type: 'string', doc: 'field: a row column that must not be null.' },
  {
    f: 'topics',
    key: 'topic',
    type: 'list',
    doc:
      'Topics whose records name entities to decide again at once (the registration table’s change topic): a new ' +
      'registration delivers, a removed one withdraws. The sink consumes them too.',
  },
  {
    f: 'tables',
    key: 'topic',
    type: 'list',
    doc: 'Source tables whose change topics (<topicPrefix>.<schema>.<table>) are such topics.',
  },
  {
    f: 'topicIdField',
    key: 'topic.id.field',
    type: 'list',
    doc: 'Fields of those records holding the entity id (after the sink’s transforms); default: the record key.',
  },
  {
    f: 'expires',
    key: 'expires',
    type: 'boolean',
    doc: 'Whether waiting on it ends in the DLQ after park.max.duration.ms (default: false for field, true otherwise).',
  },
];

/** Dependency fields that name topics; the expansion writes them itself (tables need the source's prefix). */
export const DEPENDENCY_TOPIC_FIELDS = ['topics', 'tables'] as const;

/** `errors:` → Kafka Connect's error-handling keys (Connect's own names and semantics). */
export const ERROR_FIELDS: readonly FieldSpec[] = [
  {
    f: 'tolerance',
    key: 'errors.tolerance',
    type: 'string',
    oneOf: ['none', 'all'],
    doc: 'none: fail the task on a bad record; all: skip it (to the DLQ when configured).',
  },
  {
    f: 'retryTimeoutMs',
    key: 'errors.retry.timeout',
    type: 'integer',
    doc: 'How long a failed operation is retried (ms); -1 forever.',
  },
  { f: 'log', key: 'errors.log.enable', type: 'boolean', doc: 'Log each error.' },
  {
    f: 'logMessages',
    key: 'errors.log.include.messages',
    type: 'boolean',
    doc: 'Include the record in the error log.',
  },
  {
    f: 'deadLetterQueue',
    doc: 'The dead-letter topic for records that fail (sinks).',
    fields: [
      {
        f: 'topic',
        key: 'errors.deadletterqueue.topic.name',
        type: 'string',
        doc: 'DLQ topic; ${customer} is replaced by the integration name.',
      },
      {
        f: 'replicationFactor',
        key: 'errors.deadletterqueue.topic.replication.factor',
        type: 'integer',
        doc: 'Replication factor of the DLQ topic when created.',
      },
      {
        f: 'contextHeaders',
        key: 'errors.deadletterqueue.context.headers.enable',
        type: 'boolean',
        doc: 'Add __connect.errors.* context headers.',
      },
    ],
  },
];

/** The ERP transform sections → `transforms.<alias>.*`, in chain order. */
export interface ChainSection {
  readonly section: 'clean' | 'translate' | 'correlation' | 'domain';
  readonly alias: string;
  readonly className: string;
  readonly fields: readonly FieldSpec[];
}

export const CHAIN_SECTIONS: readonly ChainSection[] = [
  {
    section: 'clean',
    alias: 'clean',
    className: 'erpstream.transforms.CleanSchema',
    fields: [
      { f: 'renames', key: 'renames', type: 'pairs' },
      { f: 'stripPrefixes', key: 'strip.prefixes', type: 'list' },
      { f: 'case', key: 'case', type: 'string' },
      { f: 'trimStrings', key: 'trim.strings', type: 'boolean' },
      { f: 'blankToNull', key: 'blank.to.null', type: 'boolean' },
      { f: 'booleanFields', key: 'boolean.fields', type: 'list' },
      { f: 'decimalFields', key: 'decimal.fields', type: 'pairs' },
      { f: 'dropFields', key: 'drop.fields', type: 'list' },
      { f: 'mappingFile', key: 'mapping.file', type: 'string' },
    ],
  },
  {
    section: 'translate',
    alias: 'codes',
    className: 'erpstream.transforms.TranslateCodes',
    fields: [
      { f: 'fields', key: 'fields', type: 'pairs' },
      { f: 'tablesFile', key: 'tables.file', type: 'string' },
      { f: 'connectionUrl', key: 'tables.connection.url', type: 'string' },
      { f: 'connectionUser', key: 'tables.connection.user', type: 'string' },
      { f: 'connectionPassword', key: 'tables.connection.password', type: 'string' },
      { f: 'query', key: 'tables.query', type: 'string' },
      { f: 'refreshIntervalMs', key: 'tables.refresh.interval.ms', type: 'integer' },
      { f: 'onMiss', key: 'on.miss', type: 'string' },
    ],
  },
  {
    section: 'correlation',
    alias: 'correlate',
    className: 'erpstream.transforms.CorrelationKey',
    fields: [
      { f: 'fields', key: 'fields', type: 'list' },
      { f: 'topicFields', key: 'topic.fields', type: 'list' },
      { f: 'keyMode', key: 'key.mode', type: 'string' },
      { f: 'headerName', key: 'header.name', type: 'string' },
    ],
  },
  {
    section: 'domain',
    alias: 'domain',
    className: 'erpstream.transforms.DomainRouter',
    fields: [
      { f: 'field', key: 'domain.field', type: 'string' },
      { f: 'mapping', key: 'domain.mapping', type: 'pairs' },
      { f: 'mappingFile', key: 'domain.mapping.file', type: 'string' },
      { f: 'topicFormat', key: 'topic.format', type: 'string' },
      { f: 'onMissing', key: 'on.missing', type: 'string' },
    ],
  },
];

/** Labels written into every generated connector's config, so the cluster itself says who owns what. */
export const LABEL_MANAGED_BY = 'erpstream.managed-by';
export const MANAGED_BY = 'erpstream-integrations';
export const LABEL_INTEGRATION = 'erpstream.integration';
export const LABEL_SOURCE = 'erpstream.source';

export const ERP_SOURCE_CLASS = 'erpstream.ErpSourceConnector';
export const LOOKUP_SINK_CLASS = 'erpstream.LookupSinkConnector';
