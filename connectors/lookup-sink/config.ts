import { ConfigDef, ConfigError, type ParsedConfig, type RawConfig, Validators } from '../../runtime/api/index.js';
import { dialectOf } from './sql/client.js';
import { compileTemplate, type SqlTemplate } from './sql/named-params.js';
import { compileTopicTemplate, type TextTemplate } from './template.js';

const G_LOOKUP = 'Lookup';
const G_VERSION = 'Version';
const G_DEPS = 'Dependencies';
const G_DEST = 'Destination';
const G_STATE = 'Ledger and parking';
const G_SHAPE = 'Delivery shaping';
const G_OPS = 'Operations';

/** Prefix of the delivery chain's keys (`delivery.transforms=…`), built by the runtime (SinkTaskContext.transforms). */
export const DELIVERY_PREFIX = 'delivery.';

const urlValidator = Validators.custom('postgresql://, mysql://, mariadb:// or sqlserver:// URL', (name, value) => {
  if (value !== null && value !== undefined) dialectOf(String(value), name);
});

/** Plain SQL identifiers (optionally schema-qualified): our own table names are never taken from data. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
const identifierValidator = Validators.custom('SQL identifier, optionally schema.table', (name, value) => {
  if (value !== null && value !== undefined && !IDENTIFIER.test(String(value))) {
    throw ConfigError.invalid(name, value, 'Expected an identifier such as erp.document or erpstream_ledger');
  }
});
const identifierListValidator = Validators.custom('list of SQL identifiers', (name, value) => {
  for (const v of (value as string[] | null) ?? []) {
    if (!IDENTIFIER.test(v)) throw ConfigError.invalid(name, v, 'Expected a column name');
  }
});

export const DESTINATION_TYPES = ['kafka', 'jdbc', 'http'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];
export const DEPENDENCY_TYPES = ['ledger', 'sql', 'field'] as const;

export const lookupSinkConfigDef = new ConfigDef()
  .define({
    name: 'lookup.connection.url',
    type: 'STRING',
    importance: 'HIGH',
    group: G_LOOKUP,
    validator: urlValidator,
    documentation:
      'Origin database: postgresql://host:5432/db, mysql://host:3306/db (or mariadb://), sqlserver://host:1433/db. ' +
      'Credentials may be in the URL or in lookup.connection.user / lookup.connection.password (which win).',
    example: 'postgresql://127.0.0.1:5432/erp',
  })
  .define({
    name: 'lookup.connection.user',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_LOOKUP,
    documentation: 'Origin database user (overrides a user in lookup.connection.url).',
  })
  .define({
    name: 'lookup.connection.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'HIGH',
    group: G_LOOKUP,
    documentation: 'Origin database password (overrides one in lookup.connection.url). Never logged.',
  })
  .define({
    name: 'lookup.table',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_LOOKUP,
    validator: identifierValidator,
    documentation: 'Origin table read for each batch of ids (SELECT * … WHERE key IN (…)). Give this or lookup.query.',
    example: 'erp.document',
  })
  .define({
    name: 'lookup.query',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_LOOKUP,
    width: 'LONG',
    documentation:
      'Origin query for a batch of ids, with :ids expanded to bound parameters (tuples for compound keys), e.g. ' +
      '`SELECT d.*, dd.domain FROM erp.document d LEFT JOIN erp.document_domain dd USING (document_id) ' +
      'WHERE d.document_id IN (:ids)`. Its result must contain lookup.key.columns. Give this or lookup.table.',
  })
  .define({
    name: 'lookup.key.columns',
    type: 'LIST',
    importance: 'HIGH',
    group: G_LOOKUP,
    validator: Validators.all(Validators.nonEmptyList(), identifierListValidator),
    documentation:
      'Columns of the origin row that identify the entity, in the order of the id parts. Rows are matched to ' +
      'records by these.',
    example: 'document_id',
  })
  .define({
    name: 'lookup.id.field',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: G_LOOKUP,
    documentation:
      'Where the id is read from: empty = the record key (a primitive, or a struct/map holding the key columns); ' +
      'otherwise one field path per key column in the record value (dotted paths; in a Debezium envelope the ' +
      'path is read from `after`, or `before` for deletes).',
  })
  .define({
    name: 'lookup.version.column',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_LOOKUP,
    documentation:
      'Optional column of the origin row holding its version, in the same version space as the records. When newer ' +
      'than the record version the delivery is labelled with it (the record of that newer version is then dropped as ' +
      'delivered); when older, the read is behind the event (a lagging replica) and the record is parked until it ' +
      'catches up.',
  })
  .define({
    name: 'lookup.batch.size',
    type: 'INT',
    defaultValue: 500,
    importance: 'MEDIUM',
    group: G_LOOKUP,
    validator: Validators.between(1, 5000),
    documentation: 'Most ids in one lookup query (one query per batch of ids, never one per record).',
  })
  .define({
    name: 'entity.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_LOOKUP,
    documentation:
      'Entity name in the delivery ledger (e.g. person, phone, document): what other connectors name in their ' +
      'ledger dependencies. Defaults to lookup.table; required with lookup.query.',
  })
  .define({
    name: 'version.header',
    type: 'STRING',
    defaultValue: 'erpstream.version',
    importance: 'MEDIUM',
    group: G_VERSION,
    documentation:
      'Header holding the source version (an integer, decimal text or 0x-hex) when version.field is empty.',
  })
  .define({
    name: 'version.field',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_VERSION,
    documentation:
      'Field path in the record value holding the version instead of the header (`source.sequence` in a Debezium ' +
      'envelope, for example). A version at or below the delivered one is dropped and counted.',
  })
  .define({
    name: 'dependencies',
    type: 'LIST',
    defaultValue: '',
    importance: 'HIGH',
    group: G_DEPS,
    documentation:
      'Names of the checks a looked-up row must pass before it is delivered; each is configured under ' +
      'dependencies.<name>.* (type = ledger | sql | field). See docs/lookup-sink.md.',
  })
  .define({
    name: 'destination.type',
    type: 'STRING',
    importance: 'HIGH',
    group: G_DEST,
    validator: Validators.in(...DESTINATION_TYPES),
    documentation:
      'Where ready rows go: kafka (a topic per customer/domain), jdbc (a version-guarded upsert) or http (POST JSON ' +
      'to a URL per customer/domain).',
  })
  .define({
    name: 'destination.name',
    type: 'STRING',
    defaultValue: 'default',
    importance: 'HIGH',
    group: G_DEST,
    validator: Validators.nonEmptyString(),
    documentation:
      'Logical destination in the delivery ledger. Connectors delivering to the same place (persons and phones of ' +
      'one integration) share it, so ledger dependencies see each other’s deliveries.',
  })
  .define({
    name: 'destination.topic',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_DEST,
    documentation:
      'kafka: topic template; ${column} is replaced by the row’s value, ${entity} and ${id} by the entity name ' +
      'and id. Example: ${domain}.documents.',
  })
  .define({
    name: 'destination.topic.partitions',
    type: 'INT',
    defaultValue: 1,
    importance: 'LOW',
    group: G_DEST,
    validator: Validators.atLeast(1),
    documentation: 'kafka: partitions of destination topics that do not exist yet (they are created explicitly).',
  })
  .define({
    name: 'destination.kafka.transactional.id',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_DEST,
    documentation:
      'kafka: when set, each batch of deliveries is written in one Kafka transaction (read_committed consumers see ' +
      'all of it or none); the task id is appended so tasks never fence each other.',
  })
  .define({
    name: 'destination.connection.url',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_DEST,
    validator: urlValidator,
    documentation: 'jdbc: target database URL (default: lookup.connection.url).',
  })
  .define({
    name: 'destination.connection.user',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_DEST,
    documentation: 'jdbc: target database user.',
  })
  .define({
    name: 'destination.connection.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_DEST,
    documentation: 'jdbc: target database password. Never logged.',
  })
  .define({
    name: 'destination.table',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_DEST,
    documentation:
      'jdbc: target table, or a template like ${domain}_documents (the result must be a plain identifier). ' +
      'Only the row columns the table has are written.',
  })
  .define({
    name: 'destination.key.columns',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: G_DEST,
    validator: identifierListValidator,
    documentation: 'jdbc: primary key columns of the target table (default: lookup.key.columns).',
  })
  .define({
    name: 'destination.version.column',
    type: 'STRING',
    defaultValue: 'erpstream_version',
    importance: 'MEDIUM',
    group: G_DEST,
    validator: identifierValidator,
    documentation:
      'jdbc: target column holding the delivered version; the upsert only overwrites a row whose version is lower.',
  })
  .define({
    name: 'destination.withdraw.mode',
    type: 'STRING',
    defaultValue: 'delete',
    importance: 'MEDIUM',
    group: G_DEST,
    validator: Validators.in('delete', 'ignore'),
    documentation:
      'What a destination gets when the entity no longer routes to it (its registration was removed, or the ' +
      'row moved to another domain): delete (a tombstone for kafka, a DELETE for jdbc, the delete event for http) ' +
      'or ignore (the destination keeps what it has; the ledger forgets it).',
  })
  .define({
    name: 'destination.delete.mode',
    type: 'STRING',
    defaultValue: 'delete',
    importance: 'MEDIUM',
    group: G_DEST,
    validator: Validators.in('delete', 'ignore'),
    documentation:
      'What an origin row that no longer exists produces: delete (a tombstone for kafka, a DELETE for jdbc) or ' +
      'ignore (only recorded in the ledger).',
  })
  .define({
    name: 'destination.url',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_DEST,
    documentation:
      'http: URL template the row is POSTed to as JSON, e.g. https://hooks.example.com/${domain}/documents. Every ' +
      'request carries Idempotency-Key: <entity>:<id>:<version>.',
  })
  .define({
    name: 'destination.http.headers',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    group: G_DEST,
    documentation: 'http: extra request headers as "Name: value" items (e.g. an Authorization header).',
  })
  .define({
    name: 'destination.http.authorization',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_DEST,
    documentation: 'http: value of the Authorization header (e.g. "Bearer …"). Never logged or shown.',
  })
  .define({
    name: 'destination.http.timeout.ms',
    type: 'LONG',
    defaultValue: 10_000,
    importance: 'MEDIUM',
    group: G_DEST,
    validator: Validators.atLeast(1),
    documentation: 'http: timeout of one request; a timeout is retried.',
  })
  .define({
    name: 'destination.http.retry.max.attempts',
    type: 'INT',
    defaultValue: 5,
    importance: 'MEDIUM',
    group: G_DEST,
    validator: Validators.atLeast(1),
    documentation:
      'http: attempts per request for timeouts, 408, 429 and 5xx before the batch fails as retriable (4xx go to the DLQ at once).',
  })
  .define({
    name: 'destination.http.retry.initial.ms',
    type: 'LONG',
    defaultValue: 200,
    importance: 'LOW',
    group: G_DEST,
    validator: Validators.atLeast(0),
    documentation: 'http: first retry delay; doubled per attempt, with jitter.',
  })
  .define({
    name: 'destination.http.retry.max.ms',
    type: 'LONG',
    defaultValue: 10_000,
    importance: 'LOW',
    group: G_DEST,
    validator: Validators.atLeast(0),
    documentation: 'http: longest retry delay.',
  })
  .define({
    name: 'destination.http.breaker.failure.threshold',
    type: 'INT',
    defaultValue: 5,
    importance: 'LOW',
    group: G_DEST,
    validator: Validators.atLeast(1),
    documentation: 'http: consecutive failures that open the circuit breaker (requests then fail fast).',
  })
  .define({
    name: 'destination.http.breaker.reset.ms',
    type: 'LONG',
    // As the worker's outage backoff (at most 5 s): a receiver that is back is written to within about 5 s.
    defaultValue: 5_000,
    importance: 'LOW',
    group: G_DEST,
    validator: Validators.atLeast(1),
    documentation:
      'http: how long the breaker stays open before one trial request is let through (a receiver that came back is written to after at most this long).',
  })
  .define({
    name: 'destination.http.delete.method',
    type: 'STRING',
    defaultValue: 'DELETE',
    importance: 'LOW',
    group: G_DEST,
    validator: Validators.in('DELETE', 'POST'),
    documentation:
      'http: method of the delete event sent when the origin row is gone; its body is {"entity","id","version","deleted":true}.',
  })
  .define({
    name: 'destination.http.max.in.flight',
    type: 'INT',
    defaultValue: 4,
    importance: 'LOW',
    group: G_DEST,
    validator: Validators.between(1, 64),
    documentation: 'http: concurrent requests per task (each key is in at most one request at a time).',
  })
  .define({
    name: 'delivery.transforms',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: G_SHAPE,
    documentation:
      'Aliases of transformations applied to each delivered record (value: the looked-up row, schemaless; key: the ' +
      'entity id; headers: erpstream.version, erpstream.entity, erpstream.id) before the destination writes it. Each ' +
      'alias is configured under delivery.transforms.<alias>.* exactly like Connect’s transforms.<alias>.* (type, ' +
      'predicate, negate and the transformation’s own keys). A record the chain fails on goes to the DLQ; one it ' +
      'drops is counted (filtered) and not delivered. See docs/lookup-sink.md.',
    example: 'clean,codes',
  })
  .define({
    name: 'delivery.predicates',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    group: G_SHAPE,
    documentation:
      'Aliases of predicates the delivery transforms refer to (delivery.transforms.<alias>.predicate); each is ' +
      'configured under delivery.predicates.<alias>.*.',
  })
  .define({
    name: 'ledger.connection.url',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_STATE,
    validator: urlValidator,
    documentation: 'Database of the delivery ledger and the park table (default: lookup.connection.url).',
  })
  .define({
    name: 'ledger.connection.user',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_STATE,
    documentation: 'Ledger database user.',
  })
  .define({
    name: 'ledger.connection.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'LOW',
    group: G_STATE,
    documentation: 'Ledger database password. Never logged.',
  })
  .define({
    name: 'ledger.table',
    type: 'STRING',
    defaultValue: 'erpstream_delivery_ledger',
    importance: 'MEDIUM',
    group: G_STATE,
    validator: identifierValidator,
    documentation: '(destination, entity, id) → delivered version; created if absent.',
  })
  .define({
    name: 'park.table',
    type: 'STRING',
    defaultValue: 'erpstream_parked',
    importance: 'MEDIUM',
    group: G_STATE,
    validator: identifierValidator,
    documentation: 'Records waiting for a dependency, one row per key (the newest version); created if absent.',
  })
  .define({
    name: 'park.max.duration.ms',
    type: 'LONG',
    defaultValue: 86_400_000,
    importance: 'MEDIUM',
    group: G_STATE,
    validator: Validators.atLeast(0),
    documentation:
      'How long a key may stay parked (from its first parking) before its record goes to the DLQ with the reason.',
  })
  .define({
    name: 'park.retry.initial.ms',
    type: 'LONG',
    defaultValue: 1000,
    importance: 'LOW',
    group: G_STATE,
    validator: Validators.atLeast(1),
    documentation: 'First re-check of a parked record after this long; doubled per attempt, with jitter.',
  })
  .define({
    name: 'park.retry.max.ms',
    type: 'LONG',
    defaultValue: 300_000,
    importance: 'LOW',
    group: G_STATE,
    validator: Validators.atLeast(1),
    documentation:
      'Longest wait between re-checks of a parked record. Each re-check is a lookup: with many parked keys, a longer ' +
      'wait keeps the re-check load down (records waiting on a ledger dependency are woken by the delivery anyway).',
  })
  .define({
    name: 'park.check.interval.ms',
    type: 'LONG',
    defaultValue: 500,
    importance: 'LOW',
    group: G_STATE,
    validator: Validators.atLeast(10),
    documentation:
      'How often the task looks for parked records due for a re-check. While the park is known to hold nothing ' +
      'for this destination and entity, the look is skipped (an exact count every 10 s notices rows parked elsewhere).',
  })
  .define({
    name: 'redelivery.table',
    type: 'STRING',
    defaultValue: 'erpstream_redelivery',
    importance: 'LOW',
    group: G_STATE,
    validator: identifierValidator,
    documentation:
      'Targeted re-deliveries (repair, replay) queued for this connector, one row per entity with its progress; in ' +
      'the ledger database, created if absent (with <table>_requests).',
  })
  .define({
    name: 'redelivery.rate.per.sec',
    type: 'INT',
    defaultValue: 500,
    importance: 'LOW',
    group: G_STATE,
    validator: Validators.atLeast(1),
    documentation:
      'Most entities per second a task re-delivers for a repair or replay, so a large one does not starve the live ' +
      'stream or flood the destination.',
  })
  .define({
    name: 'redelivery.poll.interval.ms',
    type: 'LONG',
    defaultValue: 1000,
    importance: 'LOW',
    group: G_STATE,
    validator: Validators.atLeast(10),
    documentation:
      'How often a task looks for queued re-deliveries right after it found some (or a look failed); each look ' +
      'that finds the queue empty doubles the wait up to redelivery.poll.interval.max.ms.',
  })
  .define({
    name: 'redelivery.poll.interval.max.ms',
    type: 'LONG',
    defaultValue: 10_000,
    importance: 'LOW',
    group: G_STATE,
    validator: Validators.atLeast(10),
    documentation:
      'The longest wait of an idle task between looks at its re-delivery queue (at least ' +
      'redelivery.poll.interval.ms). A repair or replay requested through a worker that runs one of the ' +
      "connector's tasks brings that task's next look within redelivery.poll.interval.ms; a task on another worker " +
      'starts within this time.',
  })
  .define({
    name: 'erpstream.integration',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_OPS,
    documentation:
      "The customer (integration) this sink delivers for. `erpstream integrations apply` writes it (the file's " +
      'metadata.name); the console, `erpstream trace` and the /erpstream/v1 endpoints group by it. Unset: the ' +
      'connector name stands for the customer. It changes nothing in how records are processed.',
  });

/** What every dependency type shares: whether waiting on it can expire, and the topics announcing its rows. */
interface DependencyCommon {
  readonly name: string;
  /**
   * Whether a record waiting on this past park.max.duration.ms goes to the DLQ. A field dependency (a registration)
   * does not expire: "not for this customer yet" is a waiting state, not an error.
   */
  readonly expires: boolean;
  /** Topics whose records name entities to re-evaluate at once (the registration table's change topic). */
  readonly topics: readonly string[];
  /**
   * Field paths of those records holding the entity id parts; empty: the record key (by the key column names, or
   * by position when it has as many fields), else value fields named like the key columns.
   */
  readonly topicIdFields: readonly string[];
}

export interface LedgerDependency extends DependencyCommon {
  readonly type: 'ledger';
  readonly entity: string;
  readonly destination: string;
  /** Row columns holding the parent id parts. */
  readonly idFields: readonly string[];
}
export interface SqlDependency extends DependencyCommon {
  readonly type: 'sql';
  readonly query: SqlTemplate;
}
export interface FieldDependency extends DependencyCommon {
  readonly type: 'field';
  readonly field: string;
}
export type Dependency = LedgerDependency | SqlDependency | FieldDependency;

export interface DbSettings {
  url: string;
  user: string | null;
  password: string | null;
  urlKey: string;
}

export interface LookupSinkSettings {
  lookup: DbSettings;
  lookupTable: string | null;
  lookupQuery: SqlTemplate | null;
  keyColumns: string[];
  idFields: string[];
  versionColumn: string | null;
  batchSize: number;
  entity: string;
  versionHeader: string;
  versionField: string | null;
  dependencies: Dependency[];
  destination: {
    type: DestinationType;
    name: string;
    deleteMode: 'delete' | 'ignore';
    /** What a destination gets when the entity no longer routes to it (a removed registration). */
    withdrawMode: 'delete' | 'ignore';
    topic: TextTemplate | null;
    topicPartitions: number;
    transactionalId: string | null;
    db: DbSettings;
    table: TextTemplate | null;
    keyColumns: string[];
    versionColumn: string;
    http: HttpSettings | null;
  };
  ledger: DbSettings;
  ledgerTable: string;
  parkTable: string;
  parkMaxDurationMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  checkIntervalMs: number;
  redelivery: { table: string; ratePerSec: number; pollIntervalMs: number; pollIntervalMaxMs: number };
  /** Aliases of the delivery chain (delivery.transforms); empty: rows are delivered as looked up. */
  deliveryTransforms: string[];
}

function db(c: ParsedConfig, prefix: string, fallback: DbSettings | null): DbSettings {
  const url = c.stringOrNull(`${prefix}.url`);
  if (url === null) {
    if (fallback === null) throw ConfigError.missing(`${prefix}.url`);
    return fallback;
  }
  return {
    url,
    user: c.stringOrNull(`${prefix}.user`),
    password: c.password(`${prefix}.password`)?.value() ?? null,
    urlKey: `${prefix}.url`,
  };
}

function parseDependencies(c: ParsedConfig, destination: string, keyColumns: readonly string[]): Dependency[] {
  const names = c.list('dependencies');
  if (new Set(names).size !== names.length)
    throw ConfigError.invalid('dependencies', names.join(','), 'Duplicate name');
  return names.map((name) => {
    const p = `dependencies.${name}.`;
    const sub = c.withPrefix(p);
    const need = (k: string): string => {
      const v = sub[k]?.trim();
      if (!v) throw ConfigError.missing(p + k);
      return v;
    };
    const type = need('type');
    const list = (k: string) =>
      (sub[k] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    const expiresText = sub.expires?.trim().toLowerCase();
    if (expiresText !== undefined && expiresText !== 'true' && expiresText !== 'false') {
      throw ConfigError.invalid(`${p}expires`, sub.expires, 'Expected true or false');
    }
    const topicIdFields = list('topic.id.field');
    if (topicIdFields.length > 0 && topicIdFields.length !== keyColumns.length) {
      throw ConfigError.invalid(
        `${p}topic.id.field`,
        topicIdFields.join(','),
        `Expected one field per key column (${keyColumns.join(', ')})`,
      );
    }
    const common = {
      name,
      expires: expiresText === undefined ? type !== 'field' : expiresText === 'true',
      topics: list('topic'),
      topicIdFields,
    };
    switch (type) {
      case 'ledger':
        return {
          ...common,
          type,
          entity: need('entity'),
          destination: sub.destination?.trim() || destination,
          idFields: need('id.field')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        };
      case 'sql':
        return { ...common, type, query: compileTemplate(`${p}query`, need('query')) };
      case 'field':
        return { ...common, type, field: need('field') };
      default:
        throw ConfigError.invalid(`${p}type`, type, `Expected one of: ${DEPENDENCY_TYPES.join(', ')}`);
    }
  });
}

/** A dependency topic the connector does not consume would never wake anything: refused, naming the key. */
function checkDependencyTopics(props: RawConfig, deps: Dependency[]): Dependency[] {
  const topics = typeof props.topics === 'string' ? props.topics : undefined;
  if (topics === undefined || topics.trim() === '' || props['topics.regex']) return deps;
  const consumed = new Set(topics.split(',').map((t) => t.trim()));
  for (const d of deps) {
    for (const t of d.topics) {
      if (!consumed.has(t)) {
        throw ConfigError.invalid(
          `dependencies.${d.name}.topic`,
          t,
          'The connector does not consume this topic: add it to topics, so its records can wake the entities',
        );
      }
    }
  }
  return deps;
}

/** The http destination's settings (destinations/http.ts). */
export interface HttpSettings {
  url: TextTemplate;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  maxAttempts: number;
  retryInitialMs: number;
  retryMaxMs: number;
  breakerFailures: number;
  breakerResetMs: number;
  deleteMethod: 'DELETE' | 'POST';
  maxInFlight: number;
}

function httpSettings(c: ParsedConfig, url: TextTemplate): HttpSettings {
  const headers: Record<string, string> = {};
  for (const item of c.list('destination.http.headers')) {
    const i = item.indexOf(':');
    if (i <= 0) throw ConfigError.invalid('destination.http.headers', item.split(':')[0], 'Expected "Name: value"');
    headers[item.slice(0, i).trim().toLowerCase()] = item.slice(i + 1).trim();
  }
  const auth = c.password('destination.http.authorization')?.value();
  if (auth) headers.authorization = auth;
  return {
    url,
    headers,
    timeoutMs: c.int('destination.http.timeout.ms'),
    maxAttempts: c.int('destination.http.retry.max.attempts'),
    retryInitialMs: c.int('destination.http.retry.initial.ms'),
    retryMaxMs: c.int('destination.http.retry.max.ms'),
    breakerFailures: c.int('destination.http.breaker.failure.threshold'),
    breakerResetMs: c.int('destination.http.breaker.reset.ms'),
    deleteMethod: c.string('destination.http.delete.method') as 'DELETE' | 'POST',
    maxInFlight: c.int('destination.http.max.in.flight'),
  };
}

/** Parses and cross-checks the whole config; throws ConfigError naming the key. */
export function parseLookupSinkConfig(props: RawConfig): LookupSinkSettings {
  const c = lookupSinkConfigDef.parse(props);
  const lookup = db(c, 'lookup.connection', null);
  const lookupTable = c.stringOrNull('lookup.table');
  const lookupQueryText = c.stringOrNull('lookup.query');
  if ((lookupTable === null) === (lookupQueryText === null)) {
    throw new ConfigError(
      'Give exactly one of lookup.table and lookup.query.',
      lookupTable ? 'lookup.query' : 'lookup.table',
    );
  }
  const lookupQuery = lookupQueryText === null ? null : compileTemplate('lookup.query', lookupQueryText);
  if (lookupQuery && !lookupQuery.names.includes('ids')) {
    throw ConfigError.invalid('lookup.query', lookupQueryText, 'The query must use :ids for the batch of ids');
  }
  const keyColumns = c.list('lookup.key.columns');
  const idFields = c.list('lookup.id.field');
  if (idFields.length > 0 && idFields.length !== keyColumns.length) {
    throw ConfigError.invalid(
      'lookup.id.field',
      idFields.join(','),
      `Expected one field per key column (${keyColumns.join(', ')})`,
    );
  }
  const entity = c.stringOrNull('entity.name') ?? lookupTable;
  if (!entity) throw new ConfigError('entity.name is required when lookup.query is used.', 'entity.name');
  const type = c.string('destination.type') as DestinationType;
  const name = c.string('destination.name');
  const topicText = c.stringOrNull('destination.topic');
  const tableText = c.stringOrNull('destination.table');
  if (type === 'kafka' && !topicText) throw ConfigError.missing('destination.topic');
  if (type === 'jdbc' && !tableText) throw ConfigError.missing('destination.table');
  const urlText = c.stringOrNull('destination.url');
  if (type === 'http' && !urlText) throw ConfigError.missing('destination.url');
  const destKeys = c.list('destination.key.columns');
  const ledger = db(c, 'ledger.connection', lookup);
  return {
    lookup,
    lookupTable,
    lookupQuery,
    keyColumns,
    idFields,
    versionColumn: c.stringOrNull('lookup.version.column'),
    batchSize: c.int('lookup.batch.size'),
    entity,
    versionHeader: c.string('version.header'),
    versionField: c.stringOrNull('version.field'),
    dependencies: checkDependencyTopics(props, parseDependencies(c, name, keyColumns)),
    destination: {
      type,
      name,
      deleteMode: c.string('destination.delete.mode') as 'delete' | 'ignore',
      withdrawMode: c.string('destination.withdraw.mode') as 'delete' | 'ignore',
      topic: topicText ? compileTopicTemplate('destination.topic', topicText) : null,
      topicPartitions: c.int('destination.topic.partitions'),
      transactionalId: c.stringOrNull('destination.kafka.transactional.id'),
      db: db(c, 'destination.connection', lookup),
      table: tableText ? compileTopicTemplate('destination.table', tableText) : null,
      keyColumns: destKeys.length > 0 ? destKeys : keyColumns,
      versionColumn: c.string('destination.version.column'),
      http: urlText ? httpSettings(c, compileTopicTemplate('destination.url', urlText)) : null,
    },
    ledger,
    ledgerTable: c.string('ledger.table'),
    parkTable: c.string('park.table'),
    parkMaxDurationMs: c.int('park.max.duration.ms'),
    retryInitialMs: c.int('park.retry.initial.ms'),
    retryMaxMs: c.int('park.retry.max.ms'),
    checkIntervalMs: c.int('park.check.interval.ms'),
    redelivery: {
      table: c.string('redelivery.table'),
      ratePerSec: c.int('redelivery.rate.per.sec'),
      pollIntervalMs: c.int('redelivery.poll.interval.ms'),
      pollIntervalMaxMs: Math.max(c.int('redelivery.poll.interval.ms'), c.int('redelivery.poll.interval.max.ms')),
    },
    deliveryTransforms: c.list('delivery.transforms'),
  };
}
