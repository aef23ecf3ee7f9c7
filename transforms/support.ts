import {
  type ConfigDef,
  type ConnectRecord,
  DataError,
  ERPSTREAM_VERSION,
  type Schema,
  Struct,
  type Transformation,
  type TransformationPlugin,
  jsTypeOf,
} from '../runtime/api/index.js';

/**
 * Shared plumbing for SMTs: the $Key/$Value split, Connect's require* checks with its messages, and a
 * small identity-keyed schema cache so no schema is rebuilt per record.
 */

export type Side = 'key' | 'value';

export function operatingSchema(record: ConnectRecord, side: Side): Schema | null {
  return side === 'key' ? record.keySchema : record.valueSchema;
}

export function operatingValue(record: ConnectRecord, side: Side): unknown {
  return side === 'key' ? record.key : record.value;
}

export function withOperating<R extends ConnectRecord>(
  record: R,
  side: Side,
  schema: Schema | null,
  value: unknown,
): R {
  // Literal spreads keep the record's shape (a generic merge of a changes object is measurably slower).
  return side === 'key' ? { ...record, keySchema: schema, key: value } : { ...record, valueSchema: schema, value };
}

/** Schemaless "struct-like" values are plain JS objects (Connect's Map<String,Object>). */
export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function requireStruct(value: unknown, purpose: string): Struct {
  if (!(value instanceof Struct)) {
    throw new DataError(`Only Struct objects supported for [${purpose}], found: ${jsTypeOf(value)}`);
  }
  return value;
}

export function requireStructOrNull(value: unknown, purpose: string): Struct | null {
  return value === null || value === undefined ? null : requireStruct(value, purpose);
}

export function requireMap(value: unknown, purpose: string): PlainObject {
  if (!isPlainObject(value)) {
    throw new DataError(`Only Map objects supported in absence of schema for [${purpose}], found: ${jsTypeOf(value)}`);
  }
  return value;
}

export function requireMapOrNull(value: unknown, purpose: string): PlainObject | null {
  return value === null || value === undefined ? null : requireMap(value, purpose);
}

export function requireSchema(schema: Schema | null, purpose: string): Schema {
  if (schema === null) throw new DataError(`Schema required for [${purpose}]`);
  return schema;
}

/** Reads a struct field honouring `replace.null.with.default` (KIP-1040). */
export function getField(struct: Struct, name: string, replaceNullWithDefault: boolean): unknown {
  return replaceNullWithDefault ? struct.get(name) : struct.getWithoutDefault(name);
}

/**
 * Caches derived schemas by the identity of the input schema. Schemas are immutable, so identity is a
 * safe key; the WeakMap lets unused schemas be collected. A bounded LRU like Connect's would evict
 * schemas a long-running chain still uses; identity keys avoid that without growing without bound.
 */
export class SchemaCache<V = Schema> {
  private readonly map = new WeakMap<Schema, V>();

  get(schema: Schema): V | undefined {
    return this.map.get(schema);
  }

  set(schema: Schema, value: V): V {
    this.map.set(schema, value);
    return value;
  }

  getOrCompute(schema: Schema, compute: (s: Schema) => V): V {
    const hit = this.map.get(schema);
    if (hit !== undefined) return hit;
    const v = compute(schema);
    this.map.set(schema, v);
    return v;
  }
}

/**
 * Declares the `$Key` and `$Value` variants of a Connect SMT from one implementation. Like Connect, the
 * variants get no simple-name alias (their simple names would collide).
 */
export function keyValueVariants(options: {
  className: string;
  summary: string;
  config: ConfigDef;
  version?: string;
  create: (side: Side) => Transformation;
  example?: Readonly<Record<string, string>>;
  removedKeys?: Readonly<Record<string, string>>;
}): TransformationPlugin[] {
  return (['key', 'value'] as const).map((side) => ({
    type: 'transformation',
    className: `${options.className}$${side === 'key' ? 'Key' : 'Value'}`,
    aliases: [],
    version: options.version ?? PLUGIN_VERSION,
    config: options.config,
    summary: `${options.summary} (record ${side})`,
    ...(options.example ? { example: options.example } : {}),
    ...(options.removedKeys ? { removedKeys: options.removedKeys } : {}),
    create: () => options.create(side),
  }));
}

/** The version our built-in plugins report (Connect shows it in GET /connector-plugins). */
export const PLUGIN_VERSION = ERPSTREAM_VERSION;
