import {
  DATE_NAME,
  DECIMAL_NAME,
  DateType,
  Decimal,
  DecimalType,
  type Schema,
  SchemaBuilder,
  SchemaError,
  TIMESTAMP_NAME,
  TIME_NAME,
  TimeType,
  TimestampType,
  schemaEquals,
} from '../../api/index.js';
import { compileFromAvro, compileToAvro } from './avro-values.js';

/**
 * Connect schema ↔ Avro schema, as Confluent's AvroData maps them with `connect.meta.data=true`:
 * struct → record (name from the Connect name, else io.confluent.connect.avro.ConnectDefault), optional →
 * union with null (null first, default null; the value type first when there is a non-null default),
 * int8/int16 → int + `connect.type`, Decimal → bytes/decimal (precision from connect.decimal.precision,
 * default 64), Date/Time/Timestamp → int date / int time-millis / long timestamp-millis, maps with
 * string keys → map, other maps → array of io.confluent.connect.avro.MapEntry records. `connect.name`,
 * `connect.version`, `connect.doc`, `connect.parameters` carry what Avro cannot say, so the way back is
 * faithful. Values are converted by avro-values.ts.
 */

export type AvroSchema = string | AvroSchema[] | AvroObject;
export interface AvroObject {
  type: AvroSchema;
  [prop: string]: unknown;
}

export const AVRO_NAMESPACE = 'io.confluent.connect.avro';
export const DEFAULT_RECORD_NAME = 'ConnectDefault';
export const MAP_ENTRY_NAME = 'MapEntry';
export const ENUM_PARAM = 'io.confluent.connect.avro.Enum';
export const DEFAULT_DECIMAL_PRECISION = 64;

const CONNECT_NAME = 'connect.name';
const CONNECT_VERSION = 'connect.version';
const CONNECT_DOC = 'connect.doc';
const CONNECT_PARAMETERS = 'connect.parameters';
const CONNECT_TYPE = 'connect.type';
const AVRO_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface FromConnectContext {
  /** Full names already defined in this Avro schema, with the Connect schema they came from. */
  readonly named: Map<string, Schema>;
  defaultIndex: number;
  mapEntryIndex: number;
}

/** The Avro schema for a Connect schema (Confluent AvroData.fromConnectSchema). */
export function connectToAvroSchema(schema: Schema): AvroSchema {
  return fromConnect(schema, { named: new Map(), defaultIndex: 0, mapEntryIndex: 0 }, true);
}

function fromConnect(schema: Schema, ctx: FromConnectContext, wrapOptional: boolean): AvroSchema {
  const base = baseAvro(schema, ctx);
  if (!wrapOptional || !schema.optional) return base;
  const hasDefault = schema.defaultValue !== undefined && schema.defaultValue !== null;
  return hasDefault ? [base, 'null'] : ['null', base];
}

function sanitizeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

function splitName(fullName: string): { name: string; namespace?: string } {
  const parts = fullName.split('.').map(sanitizeName);
  const name = parts.pop()!;
  return parts.length > 0 ? { name, namespace: parts.join('.') } : { name };
}

function connectProps(schema: Schema, out: AvroObject): void {
  if (schema.version !== undefined) out[CONNECT_VERSION] = schema.version;
  if (schema.doc !== undefined) out[CONNECT_DOC] = schema.doc;
  if (schema.parameters !== undefined && Object.keys(schema.parameters).length > 0) {
    out[CONNECT_PARAMETERS] = { ...schema.parameters };
  }
  if (schema.name !== undefined) out[CONNECT_NAME] = schema.name;
}

const PRIMITIVE: Partial<Record<Schema['type'], string>> = {
  int8: 'int',
  int16: 'int',
  int32: 'int',
  int64: 'long',
  float32: 'float',
  float64: 'double',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
};

function baseAvro(schema: Schema, ctx: FromConnectContext): AvroSchema {
  switch (schema.type) {
    case 'struct':
      return recordAvro(schema, ctx);
    case 'array': {
      const out: AvroObject = { type: 'array', items: fromConnect(schema.valueSchema!, ctx, true) };
      connectProps(schema, out);
      return out;
    }
    case 'map': {
      const ks = schema.keySchema!;
      const vs = schema.valueSchema!;
      let out: AvroObject;
      if (ks.type === 'string' && !ks.optional) {
        out = { type: 'map', values: fromConnect(vs, ctx, true) };
      } else {
        ctx.mapEntryIndex++;
        const name = ctx.mapEntryIndex === 1 ? MAP_ENTRY_NAME : `${MAP_ENTRY_NAME}${ctx.mapEntryIndex}`;
        out = {
          type: 'array',
          items: {
            type: 'record',
            name,
            namespace: AVRO_NAMESPACE,
            fields: [fieldAvro('key', ks, ctx), fieldAvro('value', vs, ctx)],
          },
        };
      }
      connectProps(schema, out);
      return out;
    }
    default:
      break;
  }
  const primitive = PRIMITIVE[schema.type]!;
  const hasMeta =
    schema.name !== undefined ||
    schema.version !== undefined ||
    schema.doc !== undefined ||
    schema.parameters !== undefined ||
    schema.type === 'int8' ||
    schema.type === 'int16';
  if (!hasMeta) return primitive;
  if (schema.type === 'string' && schema.parameters?.[ENUM_PARAM] !== undefined) return enumAvro(schema, ctx);
  const out: AvroObject = { type: primitive };
  if (schema.type === 'int8' || schema.type === 'int16') out[CONNECT_TYPE] = schema.type;
  if (schema.name === DECIMAL_NAME) {
    out.scale = DecimalType.scaleOf(schema);
    out.precision = DecimalType.precisionOf(schema) ?? DEFAULT_DECIMAL_PRECISION;
  }
  connectProps(schema, out);
  switch (schema.name) {
    case DECIMAL_NAME:
      out.logicalType = 'decimal';
      break;
    case DATE_NAME:
      out.logicalType = 'date';
      break;
    case TIME_NAME:
      out.logicalType = 'time-millis';
      break;
    case TIMESTAMP_NAME:
      out.logicalType = 'timestamp-millis';
      break;
    default:
      break;
  }
  return out;
}

function enumAvro(schema: Schema, ctx: FromConnectContext): AvroSchema {
  const params = schema.parameters!;
  const fullName = params[ENUM_PARAM]!;
  const symbols = Object.keys(params)
    .filter((k) => k.startsWith(`${ENUM_PARAM}.`))
    .map((k) => params[k]!);
  if (ctx.named.has(fullName)) return fullName;
  ctx.named.set(fullName, schema);
  const out: AvroObject = { type: 'enum', ...splitName(fullName), symbols };
  connectProps(schema, out);
  return out;
}

function recordAvro(schema: Schema, ctx: FromConnectContext): AvroSchema {
  let fullName: string;
  let split: { name: string; namespace?: string };
  if (schema.name !== undefined) {
    split = splitName(schema.name);
    fullName = split.namespace ? `${split.namespace}.${split.name}` : split.name;
  } else {
    ctx.defaultIndex++;
    split = {
      name: ctx.defaultIndex === 1 ? DEFAULT_RECORD_NAME : `${DEFAULT_RECORD_NAME}${ctx.defaultIndex}`,
      namespace: AVRO_NAMESPACE,
    };
    fullName = `${AVRO_NAMESPACE}.${split.name}`;
  }
  const seen = ctx.named.get(fullName);
  if (seen !== undefined) {
    // Avro defines a name once; later uses refer to it (Debezium's before/after share "Value").
    if (schemaEquals(stripOuter(seen), stripOuter(schema))) return fullName;
    throw new SchemaError(
      `Two different struct schemas are named ${JSON.stringify(schema.name)}; Avro needs distinct record names`,
    );
  }
  ctx.named.set(fullName, schema);
  const out: AvroObject = { type: 'record', ...split };
  if (schema.doc !== undefined) out.doc = schema.doc;
  out.fields = (schema.fields ?? []).map((f) => fieldAvro(f.name, f.schema, ctx));
  connectProps(schema, out);
  return out;
}

/** Optionality and defaults belong to the field, not the record type. */
function stripOuter(schema: Schema): Schema {
  if (!schema.optional && schema.defaultValue === undefined) return schema;
  return SchemaBuilder.from(schema).optional(false).defaultValue(undefined).build();
}

function fieldAvro(name: string, schema: Schema, ctx: FromConnectContext): AvroObject {
  // avsc decodes records by assigning `this[name]`, which for "__proto__" sets the prototype instead.
  if (!AVRO_NAME_RE.test(name) || name === '__proto__') {
    throw new SchemaError(
      `Field name ${JSON.stringify(name)} is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*); rename it (e.g. with ReplaceField's renames) before the AvroConverter`,
    );
  }
  const out: AvroObject = { name, type: fromConnect(schema, ctx, true) };
  if (schema.doc !== undefined) out.doc = schema.doc;
  if (schema.defaultValue !== undefined && schema.defaultValue !== null) {
    out.default = defaultToAvroJson(schema, schema.defaultValue);
  } else if (schema.optional) {
    out.default = null;
  }
  return out;
}

/** A Connect default as Avro JSON (bytes as ISO-8859-1 text, as the Avro spec says). */
function defaultToAvroJson(schema: Schema, value: unknown): unknown {
  const v = compileToAvro(schema)(value);
  return avroValueToJson(v);
}

function avroValueToJson(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (Array.isArray(v)) return v.map(avroValueToJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = avroValueToJson(x);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Avro → Connect schema

interface ToConnectContext {
  /** Named Avro types seen so far, by full name (for references). */
  readonly named: Map<string, AvroObject>;
  readonly cache: Map<AvroObject, Schema>;
  /** Records whose fields are being converted: one met again inside itself is a recursive schema. */
  readonly building: Set<AvroObject>;
}

/** The Connect schema for an Avro schema (Confluent AvroData.toConnectSchema). */
export function avroToConnectSchema(avro: AvroSchema): Schema {
  return toConnectSchema(avro, { named: new Map(), cache: new Map(), building: new Set() }, undefined, undefined);
}

function fullNameOf(obj: AvroObject, enclosingNs: string | undefined): string {
  const name = String(obj.name);
  if (name.includes('.')) return name;
  const ns = typeof obj.namespace === 'string' ? obj.namespace : enclosingNs;
  return ns ? `${ns}.${name}` : name;
}

function toConnectSchema(
  avro: AvroSchema,
  ctx: ToConnectContext,
  ns: string | undefined,
  fieldDefault: { value: unknown } | undefined,
): Schema {
  if (Array.isArray(avro)) {
    const nonNull = avro.filter((t) => t !== 'null' && !(isObj(t) && t.type === 'null'));
    if (nonNull.length !== 1 || avro.length !== 2) {
      throw new SchemaError(
        `Avro union ${JSON.stringify(avro)} is not supported; only unions of null and one type are`,
      );
    }
    const inner = toConnectSchema(nonNull[0]!, ctx, ns, undefined);
    const b = SchemaBuilder.from(inner).optional();
    if (fieldDefault !== undefined && fieldDefault.value !== null) {
      b.defaultValue(avroJsonToConnect(inner, fieldDefault.value));
    }
    return b.build();
  }
  let obj: AvroObject;
  if (typeof avro === 'string') {
    const named = ctx.named.get(avro) ?? (ns ? ctx.named.get(`${ns}.${avro}`) : undefined);
    if (named) return toConnectSchema(named, ctx, ns, fieldDefault);
    obj = { type: avro };
  } else {
    obj = avro;
  }
  const built = ctx.cache.get(obj) ?? baseConnect(obj, ctx, ns);
  if (isObj(avro)) ctx.cache.set(avro, built);
  if (fieldDefault === undefined || fieldDefault.value === null) return built;
  return SchemaBuilder.from(built).defaultValue(avroJsonToConnect(built, fieldDefault.value)).build();
}

function isObj(v: unknown): v is AvroObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function baseConnect(obj: AvroObject, ctx: ToConnectContext, ns: string | undefined): Schema {
  const type = obj.type;
  if (isObj(type) || Array.isArray(type)) return toConnectSchema(type, ctx, ns, undefined);
  let b: SchemaBuilder;
  const connectType = obj[CONNECT_TYPE];
  const logical = obj.logicalType;
  switch (type) {
    case 'int':
      b =
        connectType === 'int8'
          ? SchemaBuilder.int8()
          : connectType === 'int16'
            ? SchemaBuilder.int16()
            : SchemaBuilder.int32();
      if (logical === 'date') b = DateType.builder();
      else if (logical === 'time-millis') b = TimeType.builder();
      break;
    case 'long':
      b = logical === 'timestamp-millis' ? TimestampType.builder() : SchemaBuilder.int64();
      break;
    case 'float':
      b = SchemaBuilder.float32();
      break;
    case 'double':
      b = SchemaBuilder.float64();
      break;
    case 'boolean':
      b = SchemaBuilder.bool();
      break;
    case 'string':
      b = SchemaBuilder.string();
      break;
    case 'bytes':
    case 'fixed':
      if (logical === 'decimal') {
        const scale = typeof obj.scale === 'number' ? obj.scale : 0;
        const precision = typeof obj.precision === 'number' ? obj.precision : undefined;
        // connect.parameters (below) restores the Connect parameters exactly; otherwise derive them.
        b = isObj(obj[CONNECT_PARAMETERS])
          ? SchemaBuilder.bytes().name(DECIMAL_NAME).version(1)
          : DecimalType.builder(scale, precision);
      } else {
        b = SchemaBuilder.bytes();
      }
      if (type === 'fixed') ctx.named.set(fullNameOf(obj, ns), obj);
      break;
    case 'enum': {
      const fullName = fullNameOf(obj, ns);
      ctx.named.set(fullName, obj);
      b = SchemaBuilder.string().parameter(ENUM_PARAM, fullName);
      for (const s of (obj.symbols as string[] | undefined) ?? []) b.parameter(`${ENUM_PARAM}.${s}`, s);
      break;
    }
    case 'array': {
      const items = obj.items as AvroSchema;
      const mapEntry = mapEntryOf(items, ctx, ns);
      if (mapEntry) {
        b = SchemaBuilder.map(
          toConnectSchema(mapEntry.key.type as AvroSchema, ctx, AVRO_NAMESPACE, defaultOf(mapEntry.key)),
          toConnectSchema(mapEntry.value.type as AvroSchema, ctx, AVRO_NAMESPACE, defaultOf(mapEntry.value)),
        );
      } else {
        b = SchemaBuilder.array(toConnectSchema(items, ctx, ns, undefined));
      }
      break;
    }
    case 'map':
      b = SchemaBuilder.map(
        SchemaBuilder.string().build(),
        toConnectSchema(obj.values as AvroSchema, ctx, ns, undefined),
      );
      break;
    case 'record': {
      const fullName = fullNameOf(obj, ns);
      if (ctx.named.has(fullName) && ctx.cache.has(ctx.named.get(fullName)!))
        return ctx.cache.get(ctx.named.get(fullName)!)!;
      // A record that contains itself (a linked list, a tree) has no Connect schema, which is a finite tree: converting
      // it recursed until the stack overflowed, a RangeError for every record of that schema id.
      if (ctx.building.has(obj)) {
        throw new SchemaError(
          `Avro record ${JSON.stringify(fullName)} contains itself (a recursive schema), which a Connect schema cannot express; write these records with a schema without the cycle, or let errors.tolerance=all route them to the dead letter queue`,
        );
      }
      ctx.named.set(fullName, obj);
      ctx.building.add(obj);
      const innerNs = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined;
      b = SchemaBuilder.struct();
      if (!fullName.startsWith(`${AVRO_NAMESPACE}.${DEFAULT_RECORD_NAME}`)) b.name(fullName);
      if (typeof obj.doc === 'string') b.doc(obj.doc);
      for (const f of (obj.fields as AvroObject[] | undefined) ?? []) {
        b.field(String(f.name), toConnectSchema(f.type as AvroSchema, ctx, innerNs, defaultOf(f)));
      }
      ctx.building.delete(obj);
      break;
    }
    default:
      throw new SchemaError(`Avro type ${JSON.stringify(type)} is not supported`);
  }
  // connect.* properties restore exactly what the Connect schema had.
  if (typeof obj[CONNECT_NAME] === 'string') b.name(obj[CONNECT_NAME] as string);
  if (typeof obj[CONNECT_VERSION] === 'number') b.version(obj[CONNECT_VERSION] as number);
  if (typeof obj[CONNECT_DOC] === 'string') b.doc(obj[CONNECT_DOC] as string);
  const params = obj[CONNECT_PARAMETERS];
  if (typeof params === 'object' && params !== null && !Array.isArray(params)) {
    b.parameters(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));
  }
  return b.build();
}

function defaultOf(field: AvroObject): { value: unknown } | undefined {
  return 'default' in field ? { value: field.default } : undefined;
}

function mapEntryOf(
  items: AvroSchema,
  ctx: ToConnectContext,
  ns: string | undefined,
): { key: AvroObject; value: AvroObject } | undefined {
  let rec: AvroSchema | undefined = items;
  if (typeof rec === 'string') rec = ctx.named.get(rec) ?? ctx.named.get(`${ns}.${rec}`);
  if (!isObj(rec) || rec.type !== 'record') return undefined;
  const fullName = fullNameOf(rec, ns);
  if (!fullName.startsWith(`${AVRO_NAMESPACE}.${MAP_ENTRY_NAME}`)) return undefined;
  const fields = rec.fields as AvroObject[];
  const key = fields.find((f) => f.name === 'key');
  const value = fields.find((f) => f.name === 'value');
  if (!key || !value || fields.length !== 2) return undefined;
  ctx.named.set(fullName, rec);
  return { key, value };
}

/** An Avro JSON default → a Connect value. */
function avroJsonToConnect(schema: Schema, json: unknown): unknown {
  return compileFromAvro(schema)(avroJsonToAvroValue(schema, json));
}

function avroJsonToAvroValue(schema: Schema, json: unknown): unknown {
  if (json === null) return null;
  switch (schema.type) {
    case 'bytes':
      return typeof json === 'string' ? Buffer.from(json, 'latin1') : json;
    // Defaults may come from JSON.parse (numbers) or parseJsonExact (bigint, Decimal): normalize.
    case 'int64':
      return typeof json === 'number' || typeof json === 'string' ? BigInt(json) : json;
    case 'int8':
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return typeof json === 'bigint' || json instanceof Decimal ? Number(json.toString()) : json;
    case 'array':
      return (json as unknown[]).map((x) => avroJsonToAvroValue(schema.valueSchema!, x));
    case 'map':
      if (schema.keySchema!.type === 'string') {
        return Object.fromEntries(
          Object.entries(json as object).map(([k, v]) => [k, avroJsonToAvroValue(schema.valueSchema!, v)]),
        );
      }
      return (json as Array<{ key: unknown; value: unknown }>).map((e) => ({
        key: avroJsonToAvroValue(schema.keySchema!, e.key),
        value: avroJsonToAvroValue(schema.valueSchema!, e.value),
      }));
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? [])
        out[f.name] = avroJsonToAvroValue(f.schema, (json as Record<string, unknown>)[f.name] ?? null);
      return out;
    }
    default:
      return json;
  }
}
