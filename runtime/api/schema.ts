import { DataError, SchemaError, describeValue } from './errors.js';

/**
 * The Kafka Connect data model. Values are represented in JS as:
 * int8/int16/int32/float32/float64 → number; int64 → bigint; boolean; string; bytes → Uint8Array (Buffer);
 * array → unknown[]; map → Map<unknown, unknown>; struct → Struct. Logical types are in `logical.ts`.
 *
 * Schemas are immutable: transforms cache derived schemas by object identity (a WeakMap), so never
 * mutate one after `build()`.
 */
export type SchemaType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'map'
  | 'struct';

export const PRIMITIVE_TYPES: readonly SchemaType[] = [
  'int8',
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'boolean',
  'string',
  'bytes',
];

export interface Field {
  readonly name: string;
  readonly index: number;
  readonly schema: Schema;
}

export interface Schema {
  readonly type: SchemaType;
  readonly optional: boolean;
  readonly defaultValue?: unknown;
  readonly name?: string;
  readonly version?: number;
  readonly doc?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  /** struct only, in declaration order */
  readonly fields?: readonly Field[];
  /** map only */
  readonly keySchema?: Schema;
  /** map and array */
  readonly valueSchema?: Schema;
}

export interface SchemaAndValue {
  readonly schema: Schema | null;
  readonly value: unknown;
}

export class SchemaBuilder {
  private readonly props: {
    type: SchemaType;
    optional: boolean;
    defaultValue?: unknown;
    name?: string;
    version?: number;
    doc?: string;
    parameters?: Record<string, string>;
    fields?: Field[];
    keySchema?: Schema;
    valueSchema?: Schema;
  };
  /** The names in props.fields, for field()'s duplicate check. */
  private fieldNames: Set<string> | undefined;

  constructor(type: SchemaType) {
    this.props = { type, optional: false };
    if (type === 'struct') this.props.fields = [];
  }

  static int8(): SchemaBuilder {
    return new SchemaBuilder('int8');
  }
  static int16(): SchemaBuilder {
    return new SchemaBuilder('int16');
  }
  static int32(): SchemaBuilder {
    return new SchemaBuilder('int32');
  }
  static int64(): SchemaBuilder {
    return new SchemaBuilder('int64');
  }
  static float32(): SchemaBuilder {
    return new SchemaBuilder('float32');
  }
  static float64(): SchemaBuilder {
    return new SchemaBuilder('float64');
  }
  static bool(): SchemaBuilder {
    return new SchemaBuilder('boolean');
  }
  static string(): SchemaBuilder {
    return new SchemaBuilder('string');
  }
  static bytes(): SchemaBuilder {
    return new SchemaBuilder('bytes');
  }
  static struct(): SchemaBuilder {
    return new SchemaBuilder('struct');
  }
  static array(valueSchema: Schema): SchemaBuilder {
    const b = new SchemaBuilder('array');
    b.props.valueSchema = valueSchema;
    return b;
  }
  static map(keySchema: Schema, valueSchema: Schema): SchemaBuilder {
    const b = new SchemaBuilder('map');
    b.props.keySchema = keySchema;
    b.props.valueSchema = valueSchema;
    return b;
  }
  static type(type: SchemaType): SchemaBuilder {
    return new SchemaBuilder(type);
  }

  /** A builder pre-filled from an existing schema (fields, name, parameters, optionality, default). */
  static from(schema: Schema): SchemaBuilder {
    const b = new SchemaBuilder(schema.type);
    b.props.optional = schema.optional;
    if (schema.defaultValue !== undefined) b.props.defaultValue = schema.defaultValue;
    if (schema.name !== undefined) b.props.name = schema.name;
    if (schema.version !== undefined) b.props.version = schema.version;
    if (schema.doc !== undefined) b.props.doc = schema.doc;
    if (schema.parameters !== undefined) b.props.parameters = { ...schema.parameters };
    if (schema.keySchema !== undefined) b.props.keySchema = schema.keySchema;
    if (schema.valueSchema !== undefined) b.props.valueSchema = schema.valueSchema;
    if (schema.fields !== undefined) b.props.fields = [...schema.fields];
    return b;
  }

  get type(): SchemaType {
    return this.props.type;
  }

  optional(optional = true): this {
    this.props.optional = optional;
    return this;
  }
  required(): this {
    return this.optional(false);
  }
  name(name: string | undefined): this {
    if (name === undefined) delete this.props.name;
    else this.props.name = name;
    return this;
  }
  version(version: number | undefined): this {
    if (version === undefined) delete this.props.version;
    else this.props.version = version;
    return this;
  }
  doc(doc: string | undefined): this {
    if (doc === undefined) delete this.props.doc;
    else this.props.doc = doc;
    return this;
  }
  parameter(key: string, value: string): this {
    // In place (the builder owns its copy): a copy per parameter made a schema of n parameters cost n² (a JSON
    // record's schema with 50,000 parameters held the thread for minutes).
    const params = (this.props.parameters ??= {});
    if (key === '__proto__')
      Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
    else params[key] = value;
    return this;
  }
  parameters(params: Record<string, string>): this {
    this.props.parameters = { ...(this.props.parameters ?? {}), ...params };
    return this;
  }
  defaultValue(value: unknown): this {
    this.props.defaultValue = value;
    return this;
  }

  field(name: string, schema: Schema): this {
    if (this.props.type !== 'struct')
      throw new SchemaError(`Cannot add field "${name}" to a ${this.props.type} schema`);
    const fields = this.props.fields ?? [];
    // A set of the names, not a scan per field: a struct of n fields cost n² (a JSON record's schema of 20,000 fields
    // took a second, a Debezium outbox payload of 100,000 keys twenty). Rebuilt if the fields changed without it.
    let names = this.fieldNames;
    if (names === undefined || names.size !== fields.length)
      names = this.fieldNames = new Set(fields.map((f) => f.name));
    if (names.has(name)) throw new SchemaError(`Cannot create field because of field name duplication ${name}`);
    names.add(name);
    fields.push({ name, index: fields.length, schema });
    this.props.fields = fields;
    return this;
  }

  build(): Schema {
    const p = this.props;
    const schema: {
      -readonly [K in keyof Schema]: Schema[K];
    } = { type: p.type, optional: p.optional };
    if (p.name !== undefined) schema.name = p.name;
    if (p.version !== undefined) schema.version = p.version;
    if (p.doc !== undefined) schema.doc = p.doc;
    if (p.parameters !== undefined) schema.parameters = Object.freeze({ ...p.parameters });
    if (p.fields !== undefined) schema.fields = Object.freeze(p.fields.map((f, index) => ({ ...f, index })));
    if (p.keySchema !== undefined) schema.keySchema = p.keySchema;
    if (p.valueSchema !== undefined) schema.valueSchema = p.valueSchema;
    if (p.defaultValue !== undefined) {
      validateValue(schema as Schema, p.defaultValue, '<default>');
      schema.defaultValue = p.defaultValue;
    }
    return Object.freeze(schema) as Schema;
  }
}

function primitive(type: SchemaType, optional: boolean): Schema {
  return new SchemaBuilder(type).optional(optional).build();
}

export const Schemas = {
  INT8: primitive('int8', false),
  INT16: primitive('int16', false),
  INT32: primitive('int32', false),
  INT64: primitive('int64', false),
  FLOAT32: primitive('float32', false),
  FLOAT64: primitive('float64', false),
  BOOLEAN: primitive('boolean', false),
  STRING: primitive('string', false),
  BYTES: primitive('bytes', false),
  OPTIONAL_INT8: primitive('int8', true),
  OPTIONAL_INT16: primitive('int16', true),
  OPTIONAL_INT32: primitive('int32', true),
  OPTIONAL_INT64: primitive('int64', true),
  OPTIONAL_FLOAT32: primitive('float32', true),
  OPTIONAL_FLOAT64: primitive('float64', true),
  OPTIONAL_BOOLEAN: primitive('boolean', true),
  OPTIONAL_STRING: primitive('string', true),
  OPTIONAL_BYTES: primitive('bytes', true),
} as const;

const FIELD_INDEX = new WeakMap<Schema, Map<string, Field>>();

/** Name → field, computed once per schema object (schemas are immutable). */
export function fieldIndex(schema: Schema): Map<string, Field> {
  let index = FIELD_INDEX.get(schema);
  if (index === undefined) {
    index = new Map((schema.fields ?? []).map((f) => [f.name, f]));
    FIELD_INDEX.set(schema, index);
  }
  return index;
}

export function field(schema: Schema, name: string): Field | undefined {
  return fieldIndex(schema).get(name);
}

/** What every Struct of one schema shares, computed once per schema object. */
interface StructLayout {
  readonly index: Map<string, Field>;
  readonly checks: readonly ValueCheck[];
  /**
   * A packed array of `undefined`, one per field: a new struct's values are a copy of it. Copying a
   * packed array is about twice as fast as `new Array(n).fill(undefined)`, and a holey array (plain
   * `new Array(n)`) would make `every`/`valuesEqual` skip unset fields.
   */
  readonly unset: readonly unknown[];
}

const LAYOUTS = new WeakMap<Schema, StructLayout>();

function layoutOf(schema: Schema): StructLayout {
  let layout = LAYOUTS.get(schema);
  if (layout === undefined) {
    const unset: unknown[] = [];
    for (let i = 0; i < (schema.fields?.length ?? 0); i++) unset.push(undefined);
    layout = { index: fieldIndex(schema), checks: fieldChecks(schema), unset };
    LAYOUTS.set(schema, layout);
  }
  return layout;
}

/**
 * Which field of a source struct schema each copied field of a target struct schema takes its value
 * from: compiled once per schema pair by a transform that derives the target from the source, then
 * applied per record with `Struct.copyFields`.
 *
 * A value is checked again only when it can fail the target's check: a source value was checked against
 * the source field's schema when it was put, so when both fields share one schema object (and the check
 * is shallow: type, logical class, struct schema identity) the check would pass again. Unset and null
 * values are always checked, since a struct may leave required fields unset until `validate()`.
 */
export class StructCopyPlan {
  readonly source: Schema;
  readonly target: Schema;
  /** Per copied field: source position, target position, whether to run the target field's check. */
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly recheck: Uint8Array;
  /** The source field's default, applied to a null value when `replaceNullWithDefault` is asked for. */
  readonly defaults: readonly unknown[];

  constructor(source: Schema, target: Schema, pairs: ReadonlyArray<readonly [from: Field, to: Field]>) {
    if (source.type !== 'struct' || target.type !== 'struct') {
      throw new SchemaError(`A struct copy needs struct schemas, got ${source.type} and ${target.type}`);
    }
    this.source = source;
    this.target = target;
    this.from = new Int32Array(pairs.length);
    this.to = new Int32Array(pairs.length);
    this.recheck = new Uint8Array(pairs.length);
    const defaults: unknown[] = [];
    pairs.forEach(([from, to], k) => {
      if (source.fields?.[from.index] !== from || target.fields?.[to.index] !== to) {
        throw new SchemaError(`Field ${from.name} → ${to.name} does not belong to the schemas of this copy`);
      }
      this.from[k] = from.index;
      this.to[k] = to.index;
      this.recheck[k] = from.schema === to.schema && hasShallowCheck(to.schema) ? 0 : 1;
      defaults.push(from.schema.defaultValue ?? null);
    });
    this.defaults = defaults;
  }
}

/** A check that only looks at the value itself, not at elements a caller could have changed since. */
function hasShallowCheck(schema: Schema): boolean {
  return schema.type !== 'array' && schema.type !== 'map';
}

/**
 * The values array Struct.adopt hands to the next constructor call, which takes and clears it first thing: the
 * constructor's public signature stays `(schema)`, and no other construction can pick the array up.
 */
let adoptNext: unknown[] | undefined;

/** A struct value bound to a struct schema. */
export class Struct {
  readonly schema: Schema;
  private readonly values: unknown[];
  private readonly index: Map<string, Field>;
  private readonly checks: readonly ValueCheck[];

  constructor(schema: Schema) {
    const adopted = adoptNext;
    adoptNext = undefined;
    if (schema.type !== 'struct') throw new DataError(`Struct requires a struct schema, got ${schema.type}`);
    const layout = layoutOf(schema);
    this.schema = schema;
    this.index = layout.index;
    this.checks = layout.checks;
    this.values = adopted ?? layout.unset.slice();
  }

  /**
   * A struct over `values` (one per field, in schema order; `undefined` for unset), taken as they are instead of
   * copied: for decoders that build the array themselves. Each set value is checked as putAt checks it; the caller
   * must not touch the array afterwards.
   */
  static adopt(schema: Schema, values: unknown[]): Struct {
    const fields = schema.fields ?? [];
    if (values.length !== fields.length) throw new DataError(`Struct values do not match the schema's fields`);
    adoptNext = values;
    const s = new Struct(schema);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== undefined) s.checks[i]!(v, fields[i]!.name);
    }
    return s;
  }

  /**
   * Copies the fields `plan` names from `source` (a struct of `plan.source`) into this struct (of
   * `plan.target`), as `putAt(to, readField(source, from))` would: an unset value is copied as null, and
   * with `replaceNullWithDefault` a null takes the source field's default.
   */
  copyFields(source: Struct, plan: StructCopyPlan, replaceNullWithDefault = false): this {
    if (plan.source !== source.schema || plan.target !== this.schema) {
      throw new DataError('Struct copy plan used with structs of other schemas');
    }
    const src = source.values;
    const dst = this.values;
    const { from, to, recheck, defaults } = plan;
    const fields = this.schema.fields!;
    for (let k = 0; k < from.length; k++) {
      const t = to[k]!;
      let v = src[from[k]!];
      if (v === undefined || v === null) {
        v = replaceNullWithDefault ? defaults[k] : null;
        this.checks[t]!(v, fields[t]!.name);
      } else if (recheck[k] === 1) {
        this.checks[t]!(v, fields[t]!.name);
      }
      dst[t] = v;
    }
    return this;
  }

  private fieldOrThrow(name: string): Field {
    const f = this.index.get(name);
    if (!f) throw new DataError(`${name} is not a valid field name`, name);
    return f;
  }

  /** Positional read, for hot loops that walk `schema.fields` (Connect's get(Field)). */
  getAt(f: Field): unknown {
    const v = this.values[f.index];
    return v === undefined || v === null ? (f.schema.defaultValue ?? null) : v;
  }

  /** Positional read without defaults (Connect's getWithoutDefault(Field)). */
  rawAt(f: Field): unknown {
    const v = this.values[f.index];
    return v === undefined ? null : v;
  }

  /** Positional write with the same validation as put; `f` must be a field of this struct's schema. */
  putAt(f: Field, value: unknown): this {
    this.checks[f.index]!(value, f.name);
    this.values[f.index] = value;
    return this;
  }

  /** The value, or the field's default when the value is null or unset (as Connect's Struct.get does). */
  get(name: string): unknown {
    const f = this.fieldOrThrow(name);
    const v = this.values[f.index];
    return v === undefined || v === null ? (f.schema.defaultValue ?? null) : v;
  }

  /** The value without applying defaults. */
  getWithoutDefault(name: string): unknown {
    const v = this.values[this.fieldOrThrow(name).index];
    return v === undefined ? null : v;
  }

  put(name: string, value: unknown): this {
    const f = this.fieldOrThrow(name);
    this.checks[f.index]!(value, name);
    this.values[f.index] = value;
    return this;
  }

  /** Checks that every required field without a default has a value. */
  validate(): void {
    validateValue(this.schema, this, '');
  }

  toString(): string {
    const parts = (this.schema.fields ?? []).map((f) => `${f.name}=${stringifyValue(this.values[f.index])}`);
    return `Struct{${parts.join(',')}}`;
  }

  equals(other: unknown): boolean {
    return other instanceof Struct && schemaEquals(this.schema, other.schema) && valuesEqual(this.values, other.values);
  }
}

function stringifyValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof Struct) return v.toString();
  return String(v);
}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

const LOGICAL_VALIDATORS = new Map<string, (value: unknown) => boolean>();

/** Logical types register how their JS representation is checked (see logical.ts). */
export function registerLogicalValidator(name: string, check: (value: unknown) => boolean): void {
  LOGICAL_VALIDATORS.set(name, check);
}

function typeError(schema: Schema, value: unknown, path: string): DataError {
  const where = path ? ` for field: "${path}"` : '';
  const expected = schema.name ? `${schema.type} (${schema.name})` : schema.type;
  return new DataError(
    `Invalid Java object for schema with type ${expected}: ${jsTypeOf(value)} ${describeValue(value)}${where}`,
    path || undefined,
  );
}

export function jsTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Struct) return 'Struct';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Map) return 'Map';
  if (value instanceof Date) return 'Date';
  if (Array.isArray(value)) return 'Array';
  return typeof value;
}

type ValueCheck = (value: unknown, path: string) => void;
const CHECKS = new WeakMap<Schema, ValueCheck>();

/**
 * A small check function per schema object, compiled once: puts are the hottest path of every
 * transform, and one monomorphic closure per field beats re-walking the generic validator. Anything
 * unusual falls through to validateValue, which produces the error message.
 */
const FIELD_CHECKS = new WeakMap<Schema, readonly ValueCheck[]>();

function fieldChecks(schema: Schema): readonly ValueCheck[] {
  let checks = FIELD_CHECKS.get(schema);
  if (checks === undefined) {
    checks = (schema.fields ?? []).map((f) => checkFor(f.schema));
    FIELD_CHECKS.set(schema, checks);
  }
  return checks;
}

function checkFor(schema: Schema): ValueCheck {
  let check = CHECKS.get(schema);
  if (check === undefined) {
    check = compileCheck(schema);
    CHECKS.set(schema, check);
  }
  return check;
}

function compileCheck(schema: Schema): ValueCheck {
  const nullable = schema.optional || schema.defaultValue !== undefined;
  const slow: ValueCheck = (v, p) => validateValue(schema, v, p);
  const logical = schema.name === undefined ? undefined : LOGICAL_VALIDATORS.get(schema.name);
  if (logical) {
    return (v, p) => {
      if (v === null || v === undefined ? !nullable : !logical(v)) slow(v, p);
    };
  }
  switch (schema.type) {
    case 'string':
      return (v, p) => {
        if (typeof v !== 'string' && !((v === null || v === undefined) && nullable)) slow(v, p);
      };
    case 'int64':
      return (v, p) => {
        if (typeof v !== 'bigint' && !((v === null || v === undefined) && nullable)) slow(v, p);
      };
    case 'boolean':
      return (v, p) => {
        if (typeof v !== 'boolean' && !((v === null || v === undefined) && nullable)) slow(v, p);
      };
    case 'float32':
    case 'float64':
      return (v, p) => {
        if (typeof v !== 'number' && !((v === null || v === undefined) && nullable)) slow(v, p);
      };
    case 'int8':
    case 'int16':
    case 'int32': {
      const [lo, hi] = INT_RANGES[schema.type]!;
      return (v, p) => {
        if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) return;
        if (!((v === null || v === undefined) && nullable)) slow(v, p);
      };
    }
    case 'bytes':
      return (v, p) => {
        if (!(v instanceof Uint8Array) && !((v === null || v === undefined) && nullable)) slow(v, p);
      };
    case 'struct':
      // A Struct built for this very schema object was checked field by field as it was filled.
      return (v, p) => {
        if (v instanceof Struct && v.schema === schema) return;
        if (!((v === null || v === undefined) && nullable)) slow(v, p);
      };
    default:
      return slow;
  }
}

/** Validates a value against a schema; throws DataError naming the field path and the value's type. */
export function validateValue(schema: Schema, value: unknown, path = ''): void {
  if (value === null || value === undefined) {
    if (schema.optional || schema.defaultValue !== undefined) return;
    throw new DataError(
      `Invalid value: null used for required field: "${path || '<root>'}", schema type: ${schema.type}`,
      path || undefined,
    );
  }
  if (schema.name !== undefined) {
    const logical = LOGICAL_VALIDATORS.get(schema.name);
    if (logical) {
      if (!logical(value)) throw typeError(schema, value, path);
      return;
    }
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32': {
      const range = INT_RANGES[schema.type]!;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
        throw typeError(schema, value, path);
      }
      return;
    }
    case 'int64':
      if (typeof value !== 'bigint') throw typeError(schema, value, path);
      return;
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw typeError(schema, value, path);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw typeError(schema, value, path);
      return;
    case 'string':
      if (typeof value !== 'string') throw typeError(schema, value, path);
      return;
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw typeError(schema, value, path);
      return;
    case 'array': {
      if (!Array.isArray(value)) throw typeError(schema, value, path);
      const vs = schema.valueSchema!;
      value.forEach((v, i) => validateValue(vs, v, `${path}[${i}]`));
      return;
    }
    case 'map': {
      if (!(value instanceof Map)) throw typeError(schema, value, path);
      for (const [k, v] of value) {
        validateValue(schema.keySchema!, k, `${path}.<key>`);
        validateValue(schema.valueSchema!, v, `${path}[${String(k)}]`);
      }
      return;
    }
    case 'struct': {
      if (!(value instanceof Struct)) throw typeError(schema, value, path);
      if (value.schema !== schema && !schemaEquals(value.schema, schema)) {
        throw new DataError(`Struct schemas do not match${path ? ` for field: "${path}"` : ''}.`, path || undefined);
      }
      for (const f of schema.fields ?? []) {
        validateValue(f.schema, value.getWithoutDefault(f.name), path ? `${path}.${f.name}` : f.name);
      }
      return;
    }
  }
}

/** Structural schema equality (Connect's ConnectSchema.equals). */
export function schemaEquals(a: Schema | null | undefined, b: Schema | null | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  if (
    a.type !== b.type ||
    a.optional !== b.optional ||
    a.name !== b.name ||
    a.version !== b.version ||
    a.doc !== b.doc ||
    !valuesEqual(a.defaultValue, b.defaultValue) ||
    !recordEquals(a.parameters, b.parameters)
  ) {
    return false;
  }
  if (!schemaEquals(a.keySchema, b.keySchema) && (a.keySchema || b.keySchema)) return false;
  if (!schemaEquals(a.valueSchema, b.valueSchema) && (a.valueSchema || b.valueSchema)) return false;
  const af = a.fields ?? [];
  const bf = b.fields ?? [];
  if (af.length !== bf.length) return false;
  return af.every((f, i) => f.name === bf[i]!.name && schemaEquals(f.schema, bf[i]!.schema));
}

function recordEquals(a?: Readonly<Record<string, string>>, b?: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => a![k] === b?.[k]);
}

/** Deep equality for Connect values (bigint, bytes, Date, Map, Struct aware). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  if (a instanceof Struct) return a.equals(b);
  if (a instanceof Uint8Array) {
    return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !valuesEqual(v, b.get(k))) return false;
    return true;
  }
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object') {
    if (typeof (a as { equals?: unknown }).equals === 'function') {
      return (a as { equals(o: unknown): boolean }).equals(b);
    }
    const ak = Object.keys(a as object);
    const bk = Object.keys(b as object);
    return (
      ak.length === bk.length &&
      ak.every((k) => valuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}
