import {
  DataError,
  type Field,
  Headers,
  type Schema,
  SchemaBuilder,
  type SourceOffset,
  type SourcePartition,
  type SourceRecord,
  Struct,
  StructValues,
  recordWithValues,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../../transforms/support.js';
import type { OutboxSettings } from './config.js';
import { type RawRow, type TableInfo, keyPartString, keyString, qualified } from './model.js';

/**
 * Debezium-shaped events: key = primary key struct (`<prefix>.<schema>.<table>.Key`), value = Envelope
 * {before, after, source, op, ts_ms} whose row schema is `<prefix>.<schema>.<table>.Value`.
 */

export const CONNECTOR_NAME = 'erpstream';
export const VERSION_HEADER = 'erpstream.version';
export const EVENT_ID_HEADER = 'erpstream.event.id';

export const SOURCE_SCHEMA: Schema = SchemaBuilder.struct()
  .name('io.erpstream.connector.Source')
  .field('version', SchemaBuilder.string().build())
  .field('connector', SchemaBuilder.string().build())
  .field('name', SchemaBuilder.string().build())
  .field('ts_ms', SchemaBuilder.int64().build())
  .field(
    'snapshot',
    SchemaBuilder.string()
      .optional()
      .name('io.debezium.data.Enum')
      .version(1)
      .parameter('allowed', 'true,last,false,incremental')
      .defaultValue('false')
      .build(),
  )
  .field('db', SchemaBuilder.string().build())
  .field('sequence', SchemaBuilder.string().optional().build())
  .field('schema', SchemaBuilder.string().build())
  .field('table', SchemaBuilder.string().build())
  .field('change_seq', SchemaBuilder.int64().optional().build())
  .field('txId', SchemaBuilder.int64().optional().build())
  .build();

export interface TableSchemas {
  readonly table: TableInfo;
  readonly topic: string;
  readonly key: Schema;
  readonly value: Schema;
  readonly envelope: Schema;
  /** Converters of the key columns, in key order (resolved once, not per row). */
  readonly keyConverters: ReadonlyArray<(raw: unknown) => unknown>;
  /** Positions of the key columns among the Value fields, in key order. */
  readonly keyValuePositions: readonly number[];
}

export function buildTableSchemas(prefix: string, table: TableInfo): TableSchemas {
  if (table.keyColumns.length === 0) {
    throw new DataError(`Table ${qualified(table.id)} has no primary key; change-table capture needs one to read rows`);
  }
  const base = `${prefix}.${table.id.schema}.${table.id.table}`;
  const kb = SchemaBuilder.struct().name(`${base}.Key`);
  for (const k of table.keyColumns) kb.field(k, SchemaBuilder.from(columnOf(table, k).schema).optional(false).build());
  const vb = SchemaBuilder.struct().name(`${base}.Value`);
  for (const c of table.columns) vb.field(c.name, c.schema);
  const value = vb.optional().build();
  const envelope = SchemaBuilder.struct()
    .name(`${base}.Envelope`)
    .version(1)
    .field('before', value)
    .field('after', value)
    .field('source', SOURCE_SCHEMA)
    .field('op', SchemaBuilder.string().build())
    .field('ts_ms', SchemaBuilder.int64().optional().build())
    .build();
  const keyConverters = table.keyColumns.map((k) => columnOf(table, k).convert);
  const keyValuePositions = table.keyColumns.map((k) => table.columns.indexOf(columnOf(table, k)));
  return { table, topic: base, key: kb.build(), value, envelope, keyConverters, keyValuePositions };
}

function columnOf(table: TableInfo, name: string) {
  const c = table.columns.find((x) => x.name === name);
  if (!c) throw new DataError(`Key column ${name} not found in ${qualified(table.id)}`, name);
  return c;
}

/** Raw row → Value struct, converting each column per the type map; names the column on bad data. */
export function rowStruct(schemas: TableSchemas, row: RawRow): Struct {
  const s = new Struct(schemas.value);
  const fields = schemas.value.fields!;
  const columns = schemas.table.columns;
  // Fields are built in column order, so positional writes skip the by-name lookup on this hot path.
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    try {
      s.putAt(fields[i]!, c.convert(row[c.name]));
    } catch (e) {
      throw new DataError(
        `Column ${qualified(schemas.table.id)}.${c.name} (${c.dbType}): ${(e as Error).message}`,
        c.name,
        { cause: e },
      );
    }
  }
  return s;
}

/**
 * rowStruct's values without the Struct (StructValues): the same conversions and the same error naming the column,
 * still while polling; only the Struct's own checks wait until something asks for the Struct.
 */
export function rowValues(schemas: TableSchemas, row: RawRow): StructValues {
  const columns = schemas.table.columns;
  const values = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    try {
      values[i] = c.convert(row[c.name]);
    } catch (e) {
      throw new DataError(
        `Column ${qualified(schemas.table.id)}.${c.name} (${c.dbType}): ${(e as Error).message}`,
        c.name,
        { cause: e },
      );
    }
  }
  return new StructValues(schemas.value, values);
}

/** keyOnlyRow's values: the key columns set, the other fields unset. */
export function keyOnlyValues(schemas: TableSchemas, key: readonly unknown[]): StructValues {
  const values = new Array<unknown>(schemas.table.columns.length).fill(undefined);
  const positions = schemas.keyValuePositions;
  for (let i = 0; i < positions.length; i++) values[positions[i]!] = schemas.keyConverters[i]!(key[i]);
  return new StructValues(schemas.value, values);
}

/** Key struct from key values (text, as the change table gave them, or raw row values). */
export function keyStruct(schemas: TableSchemas, key: readonly unknown[]): Struct {
  const s = new Struct(schemas.key);
  const fields = schemas.key.fields!;
  for (let i = 0; i < fields.length; i++) s.putAt(fields[i]!, schemas.keyConverters[i]!(key[i]));
  return s;
}

/** `before` of a delete when the last image is unknown: the key columns, other columns null. */
export function keyOnlyRow(schemas: TableSchemas, key: readonly unknown[]): Struct {
  const s = new Struct(schemas.value);
  schemas.table.keyColumns.forEach((k, i) => s.put(k, schemas.keyConverters[i]!(key[i])));
  return s;
}

export interface EventInput {
  schemas: TableSchemas;
  db: string;
  prefix: string;
  op: 'c' | 'u' | 'd' | 'r';
  key: Struct;
  before: Struct | null;
  after: Struct | null;
  /** The source version: change sequence (snapshot: the hand-off sequence), as decimal text. */
  version: string;
  eventId: string;
  sourceTsMs: number;
  snapshot: 'true' | 'last' | 'false' | 'incremental';
  changeSeq?: bigint;
  txId?: bigint;
  partition: SourcePartition;
  offset: SourceOffset;
  nowMs: number;
}

/** Fields by position, so the per-event structs skip the by-name lookup. */
function fieldsOf(schema: Schema, names: readonly string[]): Field[] {
  return names.map((n) => schema.fields!.find((f) => f.name === n)!);
}

const [
  SRC_VERSION,
  SRC_CONNECTOR,
  SRC_NAME,
  SRC_TS_MS,
  SRC_SNAPSHOT,
  SRC_DB,
  SRC_SEQUENCE,
  SRC_SCHEMA,
  SRC_TABLE,
  SRC_CHANGE_SEQ,
  SRC_TX_ID,
] = fieldsOf(SOURCE_SCHEMA, [
  'version',
  'connector',
  'name',
  'ts_ms',
  'snapshot',
  'db',
  'sequence',
  'schema',
  'table',
  'change_seq',
  'txId',
]) as [Field, Field, Field, Field, Field, Field, Field, Field, Field, Field, Field];
const SOURCE_FIELD_COUNT = SOURCE_SCHEMA.fields!.length;

/** The envelope's fields by position, per envelope schema (every table has its own). */
const envelopeFields = new WeakMap<Schema, Field[]>();

/** Events of one batch share their timestamps: the last conversion to int64 is reused. */
let lastMs = NaN;
let lastMsBig = 0n;
function int64Ms(ms: number): bigint {
  if (ms !== lastMs) {
    lastMsBig = BigInt(ms);
    lastMs = ms;
  }
  return lastMsBig;
}

export function changeEvent(e: EventInput): SourceRecord {
  const source = new Struct(SOURCE_SCHEMA)
    .putAt(SRC_VERSION!, PLUGIN_VERSION)
    .putAt(SRC_CONNECTOR!, CONNECTOR_NAME)
    .putAt(SRC_NAME!, e.prefix)
    .putAt(SRC_TS_MS!, int64Ms(e.sourceTsMs))
    .putAt(SRC_SNAPSHOT!, e.snapshot)
    .putAt(SRC_DB!, e.db)
    .putAt(SRC_SEQUENCE!, e.version)
    .putAt(SRC_SCHEMA!, e.schemas.table.id.schema)
    .putAt(SRC_TABLE!, e.schemas.table.id.table);
  if (e.changeSeq !== undefined) source.putAt(SRC_CHANGE_SEQ!, e.changeSeq);
  if (e.txId !== undefined) source.putAt(SRC_TX_ID!, e.txId);
  const envelope = e.schemas.envelope;
  let ef = envelopeFields.get(envelope);
  if (ef === undefined) {
    ef = fieldsOf(envelope, ['before', 'after', 'source', 'op', 'ts_ms']);
    envelopeFields.set(envelope, ef);
  }
  const value = new Struct(envelope)
    .putAt(ef[0]!, e.before)
    .putAt(ef[1]!, e.after)
    .putAt(ef[2]!, source)
    .putAt(ef[3]!, e.op)
    .putAt(ef[4]!, int64Ms(e.nowMs));
  return {
    topic: e.schemas.topic,
    kafkaPartition: null,
    keySchema: e.schemas.key,
    key: e.key,
    valueSchema: envelope,
    value,
    timestamp: e.nowMs,
    // What Headers.of gives, without the entries array in between.
    headers: Object.freeze([
      { key: VERSION_HEADER, value: e.version, schema: null },
      { key: EVENT_ID_HEADER, value: e.eventId, schema: null },
    ]),
    sourcePartition: e.partition,
    sourceOffset: e.offset,
  };
}

/** changeEvent's input with the before/after rows as StructValues (rowValues, keyOnlyValues). */
export interface EventValuesInput extends Omit<EventInput, 'before' | 'after'> {
  before: StructValues | null;
  after: StructValues | null;
}

/**
 * The record changeEvent builds, with its value as StructValues (recordWithValues) and the envelope Struct built only
 * when something reads `value` (a transform, a converter without StructValues, a test): a JSON drain writes the bytes
 * straight from the values, without the four Structs per event that were most of its young-generation garbage.
 */
export function changeEventValues(e: EventValuesInput): SourceRecord {
  const source = new Array<unknown>(SOURCE_FIELD_COUNT);
  source[SRC_VERSION!.index] = PLUGIN_VERSION;
  source[SRC_CONNECTOR!.index] = CONNECTOR_NAME;
  source[SRC_NAME!.index] = e.prefix;
  source[SRC_TS_MS!.index] = int64Ms(e.sourceTsMs);
  source[SRC_SNAPSHOT!.index] = e.snapshot;
  source[SRC_DB!.index] = e.db;
  source[SRC_SEQUENCE!.index] = e.version;
  source[SRC_SCHEMA!.index] = e.schemas.table.id.schema;
  source[SRC_TABLE!.index] = e.schemas.table.id.table;
  // Unset (not null) without them, as changeEvent leaves them.
  source[SRC_CHANGE_SEQ!.index] = e.changeSeq;
  source[SRC_TX_ID!.index] = e.txId;
  const envelope = e.schemas.envelope;
  let ef = envelopeFields.get(envelope);
  if (ef === undefined) {
    ef = fieldsOf(envelope, ['before', 'after', 'source', 'op', 'ts_ms']);
    envelopeFields.set(envelope, ef);
  }
  const values = new Array<unknown>(5);
  values[ef[0]!.index] = e.before;
  values[ef[1]!.index] = e.after;
  values[ef[2]!.index] = new StructValues(SOURCE_SCHEMA, source);
  values[ef[3]!.index] = e.op;
  values[ef[4]!.index] = int64Ms(e.nowMs);
  return recordWithValues(
    {
      topic: e.schemas.topic,
      kafkaPartition: null,
      keySchema: e.schemas.key,
      key: e.key,
      timestamp: e.nowMs,
      headers: Object.freeze([
        { key: VERSION_HEADER, value: e.version, schema: null },
        { key: EVENT_ID_HEADER, value: e.eventId, schema: null },
      ]),
      sourcePartition: e.partition,
      sourceOffset: e.offset,
    },
    new StructValues(envelope, values),
  );
}

/** A delete's tombstone: tombstoneFor without reading (so building) the delete's value. */
export function tombstoneOf(record: SourceRecord): SourceRecord {
  return {
    topic: record.topic,
    kafkaPartition: record.kafkaPartition,
    keySchema: record.keySchema,
    key: record.key,
    valueSchema: null,
    value: null,
    timestamp: record.timestamp,
    headers: record.headers,
    sourcePartition: record.sourcePartition,
    sourceOffset: record.sourceOffset,
  };
}

/** The tombstone after a delete: same key, null value, same offset (compaction drops the key). */
export function tombstoneFor(record: SourceRecord): SourceRecord {
  return { ...record, valueSchema: null, value: null };
}

const OUTBOX_KEY_SCHEMA = SchemaBuilder.string().optional().build();

export interface OutboxEventInput {
  outbox: OutboxSettings;
  table: TableInfo;
  raw: RawRow;
  version: string;
  partition: SourcePartition;
  offset: SourceOffset;
  nowMs: number;
}

/**
 * Debezium's outbox event router applied at the source: topic from the routing column through the template,
 * key = aggregate id (string), value = payload (its column's schema, e.g. io.debezium.data.Json), header `id`.
 */
export function outboxEvent(e: OutboxEventInput): SourceRecord {
  const o = e.outbox;
  const column = (name: string) => {
    const c = e.table.columns.find((x) => x.name === name);
    if (!c) throw new DataError(`Outbox column ${name} not found in ${qualified(e.table.id)}`, name);
    return c;
  };
  const routed = e.raw[o.routeColumn];
  const topic = o.topicReplacement
    .split('${routedByValue}')
    .join(routed === null || routed === undefined ? '' : String(routed));
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new DataError(
      `Outbox row ${e.version}: column ${o.routeColumn} value ${JSON.stringify(routed)} routes to ${JSON.stringify(topic)}, ` +
        'which is not a valid Kafka topic name (outbox.route.topic.replacement)',
      o.routeColumn,
    );
  }
  const key = e.raw[o.keyColumn];
  const payload = column(o.payloadColumn);
  const id = e.raw[o.idColumn];
  const idText = id === null || id === undefined ? e.version : String(column(o.idColumn).convert(id));
  const type = e.raw[o.typeColumn];
  return {
    topic,
    kafkaPartition: null,
    keySchema: OUTBOX_KEY_SCHEMA,
    key: key === null || key === undefined ? null : String(key),
    valueSchema: payload.schema,
    value: payload.convert(e.raw[o.payloadColumn]),
    timestamp: e.nowMs,
    headers: Headers.of({
      id: idText,
      eventType: type === null || type === undefined ? '' : String(type),
      [VERSION_HEADER]: e.version,
      [EVENT_ID_HEADER]: idText,
    }),
    sourcePartition: e.partition,
    sourceOffset: e.offset,
  };
}

const HEARTBEAT_KEY = SchemaBuilder.struct()
  .name('io.debezium.connector.common.ServerNameKey')
  .field('serverName', SchemaBuilder.string().build())
  .build();
const HEARTBEAT_VALUE = SchemaBuilder.struct()
  .name('io.debezium.connector.common.Heartbeat')
  .field('ts_ms', SchemaBuilder.int64().build())
  .build();

/** Debezium's heartbeat record; it carries a table's offset so quiet tables still commit their position. */
export function heartbeatRecord(
  topic: string,
  prefix: string,
  partition: SourcePartition,
  offset: SourceOffset,
  nowMs: number,
): SourceRecord {
  return {
    topic,
    kafkaPartition: null,
    keySchema: HEARTBEAT_KEY,
    key: new Struct(HEARTBEAT_KEY).put('serverName', prefix),
    valueSchema: HEARTBEAT_VALUE,
    value: new Struct(HEARTBEAT_VALUE).put('ts_ms', BigInt(nowMs)),
    timestamp: nowMs,
    headers: Headers.empty,
    sourcePartition: partition,
    sourceOffset: offset,
  };
}

/** A key in its converted (canonical) form, as a map key (change rows and read rows alike); one column needs no JSON. */
export function canonicalKey(schemas: TableSchemas, values: readonly unknown[]): string {
  const converters = schemas.keyConverters;
  if (converters.length === 1) return keyPartString(converters[0]!(values[0]));
  return keyString(converters.map((convert, i) => convert(values[i])));
}
