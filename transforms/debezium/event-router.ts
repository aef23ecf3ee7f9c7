import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  DebeziumTime,
  ErpStreamError,
  Headers,
  type Logger,
  type RawConfig,
  type Schema,
  SchemaBuilder,
  Schemas,
  Struct,
  TIMESTAMP_NAME,
  type Transformation,
  type TransformationPlugin,
  Validators,
  boundedText,
  describeValue,
  isTombstone,
  newRecord,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';
import { Op, fieldSchemaOf, readEnvelope, readTopLevel } from './envelope.js';
import { expandJson, expandJsonSchemaless } from './json-expansion.js';
import { type LoggerAware, stderrLogger } from './plugin-logger.js';

/**
 * Debezium's outbox `EventRouter`: turns rows of an outbox table (as change events, or already unwrapped)
 * into domain events — topic from the aggregate type, key from the aggregate id, value from the payload,
 * event id in the `id` header.
 */

const CLASS_NAME = 'io.debezium.transforms.outbox.EventRouter';
const PAYLOAD = 'payload';
/** Characters of an expansion error in the warning: its message may quote the payload's keys, which have no limit. */
const MAX_LOGGED_ERROR = 1000;

export const eventRouterConfig = new ConfigDef()
  .define({
    name: 'table.op.invalid.behavior',
    type: 'STRING',
    defaultValue: 'warn',
    importance: 'MEDIUM',
    validator: Validators.in('warn', 'error', 'fatal'),
    documentation:
      'What to do with an UPDATE of an outbox row: warn or error (log at that level and drop it) or fatal ' +
      '(fail the task). DELETEs are always dropped: deleting outbox rows right after inserting them is the ' +
      'recommended way to keep the table empty.',
  })
  .define({
    name: 'table.field.event.id',
    type: 'STRING',
    defaultValue: 'id',
    importance: 'LOW',
    documentation: 'Column holding the event id; it becomes the `id` header.',
  })
  .define({
    name: 'table.field.event.key',
    type: 'STRING',
    defaultValue: 'aggregateid',
    importance: 'LOW',
    documentation: 'Column holding the event key (the aggregate id), which keeps one aggregate in one partition.',
  })
  .define({
    name: 'table.field.event.type',
    type: 'STRING',
    defaultValue: 'type',
    importance: 'LOW',
    documentation:
      'Column holding the event type. As in Debezium it is not emitted by itself; use ' +
      'table.fields.additional.placement=type:header:eventType to carry it.',
  })
  .define({
    name: 'table.field.event.timestamp',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'Column holding the event time (Timestamp, io.debezium.time.Timestamp/MicroTimestamp/NanoTimestamp, or ' +
      'epoch ms when schemaless); it becomes the Kafka timestamp. Default: the envelope ts_ms.',
  })
  .define({
    name: 'table.field.event.payload',
    type: 'STRING',
    defaultValue: 'payload',
    importance: 'LOW',
    documentation: 'Column holding the event payload.',
  })
  .define({
    name: 'table.field.event.schema.version',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'Column holding the version set on the value schema (only with envelope placements).',
  })
  .define({
    name: 'table.fields.additional.placement',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'Extra columns to carry, as column:placement[:alias]; placement is header, envelope (a field next to ' +
      'payload in the value) or partition (the Kafka partition, an integer column).',
    example: 'type:header:eventType,tenant:envelope',
  })
  .define({
    name: 'table.field.additional.missing',
    type: 'STRING',
    defaultValue: 'error',
    importance: 'LOW',
    validator: Validators.in('error', 'ignore'),
    documentation: 'When an additional column is not in the row: error (DataError) or ignore.',
  })
  .define({
    name: 'table.expand.json.payload',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    documentation:
      'Parse a JSON string payload into a struct (schema inferred from the JSON) or, schemaless, an object. ' +
      'A payload that does not parse is kept as the string, with a warning.',
  })
  .define({
    name: 'route.by.field',
    type: 'STRING',
    defaultValue: 'aggregatetype',
    importance: 'MEDIUM',
    documentation: 'Column whose value (routedByValue) selects the topic.',
  })
  .define({
    name: 'route.topic.regex',
    type: 'STRING',
    defaultValue: '(?<routedByValue>.*)',
    importance: 'LOW',
    validator: Validators.regex(),
    documentation: 'Regex matched against the whole routedByValue.',
  })
  .define({
    name: 'route.topic.replacement',
    type: 'STRING',
    defaultValue: 'outbox.event.${routedByValue}',
    importance: 'MEDIUM',
    documentation: 'Topic name built from the regex groups (Java syntax: ${name}, $1).',
  })
  .define({
    name: 'route.tombstone.on.empty.payload',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation: 'A null or empty payload becomes a tombstone (null value) for the event key.',
  });

type Placement = 'header' | 'envelope' | 'partition';
interface AdditionalField {
  readonly column: string;
  readonly placement: Placement;
  readonly alias: string;
}

export function parseAdditionalPlacement(items: readonly string[]): AdditionalField[] {
  const key = 'table.fields.additional.placement';
  return items.map((item) => {
    const parts = item.split(':').map((p) => p.trim());
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
      throw ConfigError.invalid(key, item, 'Expected column:placement[:alias]');
    }
    const placement = parts[1]!.toLowerCase();
    if (placement !== 'header' && placement !== 'envelope' && placement !== 'partition') {
      throw ConfigError.invalid(key, item, 'Placement must be header, envelope or partition');
    }
    return { column: parts[0]!, placement, alias: parts[2] ?? parts[0]! };
  });
}

/** Java's Matcher.replaceFirst replacement syntax (${name}, $1, \$) in JS String.replace syntax. */
export function javaReplacementToJs(replacement: string): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === '\\' && i + 1 < replacement.length) {
      const next = replacement[++i]!;
      out += next === '$' ? '$$' : next;
    } else if (c === '$' && replacement[i + 1] === '{') {
      const end = replacement.indexOf('}', i);
      out += `$<${replacement.slice(i + 2, end)}>`;
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

class EventRouter implements Transformation, LoggerAware {
  private log: Logger = stderrLogger({ transform: CLASS_NAME });
  private invalidOp = 'warn';
  private fieldId = 'id';
  private fieldKey = 'aggregateid';
  private fieldTimestamp: string | null = null;
  private fieldPayload = PAYLOAD;
  private fieldSchemaVersion: string | null = null;
  private additional: AdditionalField[] = [];
  private missingAdditional = 'error';
  private expandJsonPayload = false;
  private routeByField = 'aggregatetype';
  private routeRegex = /^(?:.*)$/;
  private routeReplacement = '';
  private tombstoneOnEmpty = false;
  private readonly valueSchemas = new WeakMap<Schema, Map<string, Schema>>();

  setLogger(logger: Logger): void {
    this.log = logger;
  }

  configure(props: RawConfig): void {
    const c = eventRouterConfig.parse(props);
    this.invalidOp = c.string('table.op.invalid.behavior');
    this.fieldId = c.string('table.field.event.id');
    this.fieldKey = c.string('table.field.event.key');
    this.fieldTimestamp = c.stringOrNull('table.field.event.timestamp') || null;
    this.fieldPayload = c.string('table.field.event.payload');
    this.fieldSchemaVersion = c.stringOrNull('table.field.event.schema.version') || null;
    this.additional = parseAdditionalPlacement(c.list('table.fields.additional.placement'));
    this.missingAdditional = c.string('table.field.additional.missing');
    this.expandJsonPayload = c.bool('table.expand.json.payload');
    this.routeByField = c.string('route.by.field');
    this.routeRegex = new RegExp(`^(?:${c.string('route.topic.regex')})$`);
    this.routeReplacement = javaReplacementToJs(c.string('route.topic.replacement'));
    this.tombstoneOnEmpty = c.bool('route.tombstone.on.empty.payload');
  }

  apply(record: ConnectRecord): ConnectRecord | null {
    // Tombstones of the outbox table itself carry nothing to route.
    if (isTombstone(record)) return null;
    const env = readEnvelope(record.valueSchema, record.value);
    let row: unknown;
    let rowSchema: Schema | null;
    if (env) {
      if (env.op === Op.DELETE) return null;
      if (env.op === Op.UPDATE) return this.unexpectedUpdate(record);
      row = env.after;
      rowSchema = env.rowSchema;
    } else if (this.isOutboxRow(record.value)) {
      row = record.value;
      rowSchema = record.valueSchema;
    } else {
      // Heartbeats, schema-change events and other non-outbox records pass through, as in Debezium.
      return record;
    }
    if (row === null || row === undefined) return null;
    return this.route(record, row, rowSchema, env ? readTopLevel(env.value, 'ts_ms') : undefined);
  }

  close(): void {}

  private isOutboxRow(value: unknown): boolean {
    return readTopLevel(value, this.fieldPayload) !== undefined || readTopLevel(value, this.fieldId) !== undefined;
  }

  private unexpectedUpdate(record: ConnectRecord): null {
    const msg = `Unexpected update of an outbox row (key ${describeValue(String(record.key))}) on ${record.topic}`;
    if (this.invalidOp === 'fatal') throw new ErpStreamError('ERPSTREAM_OUTBOX_UPDATE', `${msg}, fail.`);
    if (this.invalidOp === 'error') this.log.error(`${msg}, ignored`);
    else this.log.warn(`${msg}, ignored`);
    return null;
  }

  private require(row: unknown, rowSchema: Schema | null, column: string, what: string): unknown {
    const v = readTopLevel(row, column);
    if (v === undefined) {
      const where = rowSchema ? 'the outbox row schema' : 'the outbox row';
      throw new DataError(`EventRouter: ${what} column "${column}" is not in ${where}`, column);
    }
    return v;
  }

  private route(record: ConnectRecord, row: unknown, rowSchema: Schema | null, envTs: unknown): ConnectRecord {
    const eventId = this.require(row, rowSchema, this.fieldId, 'event id');
    let payload = this.require(row, rowSchema, this.fieldPayload, 'payload');
    let payloadSchema = fieldSchemaOf(rowSchema, this.fieldPayload);
    const routedBy = this.require(row, rowSchema, this.routeByField, 'route.by.field');
    if (routedBy === null || String(routedBy) === '') {
      throw new DataError(`EventRouter: route.by.field column "${this.routeByField}" is null`, this.routeByField);
    }
    const routedByValue = String(routedBy);
    const topic = this.routeRegex.test(routedByValue)
      ? routedByValue.replace(this.routeRegex, this.routeReplacement)
      : routedByValue;

    let expanded = false;
    if (this.expandJsonPayload && typeof payload === 'string' && /^\s*[[{]/.test(payload)) {
      try {
        if (rowSchema) {
          const e = expandJson(payload, this.fieldPayload);
          payload = e.value;
          payloadSchema = e.schema;
        } else {
          payload = expandJsonSchemaless(payload);
        }
        expanded = true;
      } catch (e) {
        // The key and the message are the record's data: shortened, so that a large poison record does not become a
        // log line of its size (nor copy more personal data into the log than it takes to find the record).
        this.log.warn('JSON expansion failed; payload kept as a string', {
          key: describeValue(String(record.key)),
          error: boundedText((e as Error).message, MAX_LOGGED_ERROR),
        });
      }
    } else if (this.expandJsonPayload && payload !== null && typeof payload !== 'string') {
      this.log.warn('Expand JSON payload is on but the payload is not a string', {
        key: describeValue(String(record.key)),
      });
    }

    let headers = Headers.add(record.headers, 'id', eventId, fieldSchemaOf(rowSchema, this.fieldId));
    let partition = record.kafkaPartition;
    const envelopeExtras: Array<[AdditionalField, unknown]> = [];
    for (const a of this.additional) {
      const v = readTopLevel(row, a.column);
      if (v === undefined) {
        if (this.missingAdditional === 'ignore') continue;
        throw new DataError(`EventRouter: additional column "${a.column}" is not in the outbox row`, a.column);
      }
      if (a.placement === 'header') headers = Headers.add(headers, a.alias, v, fieldSchemaOf(rowSchema, a.column));
      else if (a.placement === 'partition') partition = partitionOf(a.column, v);
      else envelopeExtras.push([a, v]);
    }

    const key = readTopLevel(row, this.fieldKey) ?? null;
    const keySchema = rowSchema ? (fieldSchemaOf(rowSchema, this.fieldKey) ?? Schemas.OPTIONAL_STRING) : null;
    const timestamp = this.timestampOf(row, rowSchema, envTs, record.timestamp);
    const base = { topic, kafkaPartition: partition, keySchema, key, headers, timestamp };

    const empty = payload === null || payload === undefined || (typeof payload === 'string' && payload.trim() === '');
    if (empty && this.tombstoneOnEmpty) return newRecord(record, { ...base, valueSchema: null, value: null });

    const hasEnvelopeFields = this.additional.some((a) => a.placement === 'envelope');
    if (!hasEnvelopeFields) return newRecord(record, { ...base, valueSchema: payloadSchema, value: payload });

    if (!rowSchema) {
      const value: Record<string, unknown> = { [PAYLOAD]: payload };
      for (const [a, v] of envelopeExtras) value[a.alias] = v;
      return newRecord(record, { ...base, valueSchema: null, value });
    }
    const version = this.fieldSchemaVersion === null ? undefined : readTopLevel(row, this.fieldSchemaVersion);
    const schema = this.valueSchema(rowSchema, payloadSchema, routedByValue, version, expanded);
    const value = new Struct(schema).put(PAYLOAD, payload);
    for (const [a, v] of envelopeExtras) value.put(a.alias, v);
    return newRecord(record, { ...base, valueSchema: schema, value });
  }

  /** The value struct {payload, envelope extras}, named like Debezium's (<row ns>.<routedBy>.<Value>). */
  private valueSchema(
    rowSchema: Schema,
    payloadSchema: Schema | null,
    routedBy: string,
    version: unknown,
    expanded: boolean,
  ): Schema {
    const cacheKey = `${routedBy}\u0000${String(version ?? '')}`;
    let perRow = this.valueSchemas.get(rowSchema);
    const hit = expanded ? undefined : perRow?.get(cacheKey);
    if (hit) return hit;
    const original = rowSchema.name;
    const lastDot = original?.lastIndexOf('.') ?? -1;
    const name =
      original === undefined
        ? routedBy
        : lastDot === -1
          ? `${routedBy}.${original}`
          : `${original.slice(0, lastDot + 1)}${routedBy}.${original.slice(lastDot + 1)}`;
    const b = SchemaBuilder.struct().name(name);
    if (typeof version === 'number') b.version(version);
    b.field(PAYLOAD, payloadSchema ?? Schemas.OPTIONAL_STRING);
    for (const a of this.additional) {
      if (a.placement === 'envelope') b.field(a.alias, fieldSchemaOf(rowSchema, a.column) ?? Schemas.OPTIONAL_STRING);
    }
    const schema = b.build();
    if (!expanded) {
      perRow ??= new Map();
      perRow.set(cacheKey, schema);
      this.valueSchemas.set(rowSchema, perRow);
    }
    return schema;
  }

  private timestampOf(row: unknown, rowSchema: Schema | null, envTs: unknown, fallback: number | null): number | null {
    if (this.fieldTimestamp !== null) {
      const v = this.require(row, rowSchema, this.fieldTimestamp, 'timestamp');
      if (v !== null) {
        const name = fieldSchemaOf(rowSchema, this.fieldTimestamp)?.name;
        if (v instanceof Date) return v.getTime();
        if (typeof v === 'bigint' || typeof v === 'number') {
          const n = BigInt(v);
          if (name === DebeziumTime.MICRO_TIMESTAMP) return Number(n / 1000n);
          if (name === DebeziumTime.NANO_TIMESTAMP) return Number(n / 1_000_000n);
          if (name === undefined || name === DebeziumTime.TIMESTAMP || name === TIMESTAMP_NAME) return Number(n);
        }
        throw new DataError(
          `EventRouter: unsupported event timestamp ${describeValue(v)} in column "${this.fieldTimestamp}"` +
            (name ? ` (${name})` : ''),
          this.fieldTimestamp,
        );
      }
    }
    if (typeof envTs === 'bigint' || typeof envTs === 'number') return Number(envTs);
    return fallback;
  }
}

function partitionOf(column: string, v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new DataError(
      `EventRouter: partition column "${column}" holds ${describeValue(v)}, not a partition number`,
      column,
    );
  }
  return n;
}

export const eventRouterPlugin: TransformationPlugin = {
  type: 'transformation',
  className: CLASS_NAME,
  aliases: ['EventRouter'],
  version: PLUGIN_VERSION,
  config: eventRouterConfig,
  summary: "Routes outbox-table rows as domain events (Debezium's outbox EventRouter)",
  example: {
    'transforms.outbox.type': CLASS_NAME,
    'transforms.outbox.table.fields.additional.placement': 'type:header:eventType',
    'transforms.outbox.table.expand.json.payload': 'true',
  },
  create: () => new EventRouter(),
};
