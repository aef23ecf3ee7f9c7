import {
  DATE_NAME,
  DECIMAL_NAME,
  DataError,
  DateType,
  Decimal,
  DecimalType,
  type Schema,
  Struct,
  TIMESTAMP_NAME,
  TIME_NAME,
  TimeType,
  TimestampType,
  describeValue,
  jsTypeOf,
  schemaEquals,
} from '../api/index.js';
import { JsonNumberText } from '../api/exact-json.js';
import { javaBigDecimalToString, javaDoubleToString, javaFloatToString } from '../api/java-number-format.js';

/**
 * Connect values ↔ JSON values, as Kafka Connect's JsonConverter converts them (convertToJson /
 * convertToConnect). JSON values here are what `parseJsonExact` returns and what `stringifyJsonExact`
 * writes, so int64 and decimals stay exact. Schemas ↔ JSON are in json-schema.ts.
 */

export type DecimalFormat = 'BASE64' | 'NUMERIC';

export interface JsonDataOptions {
  /** BASE64 (Connect's default): unscaled two's complement, base64. NUMERIC: an exact JSON number. */
  readonly decimalFormat?: DecimalFormat;
  /** Connect's replace.null.with.default: a null field is written (and read) as its schema default. */
  readonly replaceNullWithDefault?: boolean;
}

export const DEFAULTS: Required<JsonDataOptions> = { decimalFormat: 'BASE64', replaceNullWithDefault: true };

export type JsonObject = { [key: string]: unknown };
export function isPlainObject(v: unknown): v is JsonObject {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Decimal) && !(v instanceof Uint8Array)
  );
}

function at(path: string): string {
  return path ? ` at "${path}"` : '';
}

function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/**
 * Connect value → JSON value for `stringifyJsonExact` (Java's convertToJson). Decimals are base64 text
 * or exact `Decimal` numbers; float32/float64 are `JsonNumberText` in Java's layout; int64 is a bigint.
 */
export function connectToJson(
  schema: Schema | null,
  value: unknown,
  options: JsonDataOptions = DEFAULTS,
  path = '',
): unknown {
  const opts = options === DEFAULTS ? DEFAULTS : { ...DEFAULTS, ...options };
  return toJson(schema, value, opts, path);
}

function toJson(schema: Schema | null, value: unknown, opts: Required<JsonDataOptions>, path: string): unknown {
  if (value === null || value === undefined) {
    if (schema === null) return null;
    if (schema.defaultValue !== undefined && schema.defaultValue !== null && opts.replaceNullWithDefault) {
      return toJson(schema, schema.defaultValue, opts, path);
    }
    if (schema.optional) return null;
    throw new DataError(
      `Conversion error: null value for field that is required and has no default value${at(path)}`,
      path || undefined,
    );
  }
  if (schema === null) return schemalessToJson(value, opts, path);
  switch (schema.name) {
    case DECIMAL_NAME: {
      if (!(value instanceof Decimal)) throw invalid(schema, value, path, 'Decimal');
      const d = rescale(value, DecimalType.scaleOf(schema), path);
      return opts.decimalFormat === 'NUMERIC'
        ? new JsonNumberText(javaBigDecimalToString(d.unscaled, d.scale))
        : base64(d.toBytes());
    }
    case DATE_NAME:
      if (!(value instanceof Date)) throw invalid(schema, value, path, 'Date');
      return DateType.fromLogical(value);
    case TIME_NAME:
      if (!(value instanceof Date)) throw invalid(schema, value, path, 'Date');
      return TimeType.fromLogical(value);
    case TIMESTAMP_NAME:
      if (!(value instanceof Date)) throw invalid(schema, value, path, 'Date');
      return TimestampType.fromLogical(value);
    default:
      break;
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(schema, value, path, 'an integer');
      return value;
    case 'int64':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      throw invalid(schema, value, path, 'a bigint');
    case 'float32':
    case 'float64': {
      if (typeof value !== 'number') throw invalid(schema, value, path, 'a number');
      // Jackson writes NaN and infinities as strings (WRITE_NAN_AS_STRINGS).
      if (!Number.isFinite(value)) return javaDoubleToString(value);
      return new JsonNumberText(schema.type === 'float32' ? javaFloatToString(value) : javaDoubleToString(value));
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(schema, value, path, 'a boolean');
      return value;
    case 'string':
      if (typeof value !== 'string') throw invalid(schema, value, path, 'a string');
      return value;
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw invalid(schema, value, path, 'bytes');
      return base64(value);
    case 'array': {
      if (!Array.isArray(value)) throw invalid(schema, value, path, 'an array');
      const vs = schema.valueSchema!;
      return value.map((x, i) => toJson(vs, x, opts, `${path}[${i}]`));
    }
    case 'map': {
      if (!(value instanceof Map)) throw invalid(schema, value, path, 'a Map');
      const ks = schema.keySchema!;
      const vs = schema.valueSchema!;
      if (ks.type === 'string') {
        // A Map, not an object: keys like "1" would otherwise jump to the front and change the text.
        const obj = new Map<string, unknown>();
        for (const [k, v] of value)
          obj.set(String(toJson(ks, k, opts, path)), toJson(vs, v, opts, `${path}[${String(k)}]`));
        return obj;
      }
      return [...value].map(([k, v]) => [toJson(ks, k, opts, path), toJson(vs, v, opts, `${path}[${String(k)}]`)]);
    }
    case 'struct': {
      if (!(value instanceof Struct)) throw invalid(schema, value, path, 'a Struct');
      if (value.schema !== schema && !schemaEquals(value.schema, schema)) {
        throw new DataError(`Mismatching schema${at(path)}.`, path || undefined);
      }
      const obj: JsonObject = {};
      for (const f of schema.fields ?? []) {
        const v = opts.replaceNullWithDefault ? value.getAt(f) : value.getWithoutDefault(f.name);
        setMember(obj, f.name, toJson(f.schema, v, opts, child(path, f.name)));
      }
      return obj;
    }
  }
}

function schemalessToJson(value: unknown, opts: Required<JsonDataOptions>, path: string): unknown {
  switch (typeof value) {
    case 'boolean':
    case 'string':
    case 'bigint':
      return value;
    case 'number':
      if (!Number.isFinite(value)) return javaDoubleToString(value);
      return Number.isInteger(value) ? value : new JsonNumberText(javaDoubleToString(value));
    default:
      break;
  }
  if (value instanceof Decimal) return opts.decimalFormat === 'NUMERIC' ? value : value.toString();
  if (value instanceof Uint8Array) return base64(value);
  if (value instanceof Struct) return toJson(value.schema, value, opts, path);
  if (Array.isArray(value)) return value.map((x, i) => toJson(null, x, opts, `${path}[${i}]`));
  if (value instanceof Map) {
    const objectMode = [...value.keys()].every((k) => typeof k === 'string');
    if (!objectMode)
      return [...value].map(([k, v]) => [toJson(null, k, opts, path), toJson(null, v, opts, `${path}[${String(k)}]`)]);
    const obj: JsonObject = {};
    for (const [k, v] of value) setMember(obj, k as string, toJson(null, v, opts, child(path, k as string)));
    return obj;
  }
  if (isPlainObject(value) && !(value instanceof Date)) {
    const obj: JsonObject = {};
    for (const [k, v] of Object.entries(value)) setMember(obj, k, toJson(null, v, opts, child(path, k)));
    return obj;
  }
  throw new DataError(
    `${jsTypeOf(value)} ${describeValue(value)} has no corresponding schema type and no schema was given${at(path)}`,
    path || undefined,
  );
}

function setMember(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function invalid(schema: Schema, value: unknown, path: string, expected: string): DataError {
  const type = schema.name ? `${schema.type} (${schema.name})` : schema.type;
  return new DataError(
    `Invalid value for schema type ${type}${at(path)}: expected ${expected}, got ${jsTypeOf(value)} ${describeValue(value)}`,
    path || undefined,
  );
}

/** Rescales without rounding; Java fails with "mismatching scale", we accept lossless rescales. */
function rescale(d: Decimal, scale: number, path: string): Decimal {
  if (d.scale === scale) return d;
  try {
    return d.setScale(scale);
  } catch (e) {
    throw new DataError(
      `Decimal ${d.toString()} does not fit the schema's scale ${scale} without rounding${at(path)}`,
      path || undefined,
      { cause: e },
    );
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decimal.fromBytes, its refusal (a size or scale out of range) naming the field. */
function decimalFromBytes(bytes: Buffer, scale: number, path: string): Decimal {
  return withPath(path, () => Decimal.fromBytes(bytes, scale));
}

/** `read()`, a refusal of its (a value out of range) naming the field when it has none. */
function withPath<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!path || !(e instanceof DataError) || e.fieldPath !== undefined) throw e;
    throw new DataError(`Field "${path}": ${e.message}`, path, { cause: e });
  }
}

function fromBase64(text: string, schema: Schema, path: string): Buffer {
  if (!BASE64_RE.test(text)) throw invalid(schema, text, path, 'base64 text');
  return Buffer.from(text, 'base64');
}

/**
 * JSON value (from `parseJsonExact`, or plain `JSON.parse` output) → Connect value (Java's
 * convertToConnect). Stricter than Java: a wrong JSON type is an error naming the field, not a silent 0.
 */
export function jsonToConnect(
  schema: Schema | null,
  value: unknown,
  options: JsonDataOptions = DEFAULTS,
  path = '',
): unknown {
  const opts = options === DEFAULTS ? DEFAULTS : { ...DEFAULTS, ...options };
  return toConnect(schema, value, opts, path);
}

function toConnect(schema: Schema | null, value: unknown, opts: Required<JsonDataOptions>, path: string): unknown {
  if (schema === null) return inferValue(value);
  if (value === null || value === undefined) {
    if (schema.defaultValue !== undefined && schema.defaultValue !== null && opts.replaceNullWithDefault) {
      return schema.defaultValue;
    }
    if (schema.optional) return null;
    throw new DataError(`Invalid null value for required ${schema.type} field${at(path)}`, path || undefined);
  }
  switch (schema.name) {
    case DECIMAL_NAME: {
      const scale = DecimalType.scaleOf(schema);
      let d: Decimal;
      if (typeof value === 'string') d = decimalFromBytes(fromBase64(value, schema, path), scale, path);
      else if (value instanceof Decimal) d = value;
      else if (typeof value === 'bigint') d = new Decimal(value, 0);
      else if (typeof value === 'number' && Number.isFinite(value)) d = Decimal.parse(String(value));
      else throw invalid(schema, value, path, 'base64 text or a number');
      // NUMERIC text may be written with fewer fraction digits ("1.5" for scale 2): align when lossless.
      if (d.scale !== scale) {
        try {
          d = d.setScale(scale);
        } catch {
          // keep the written scale, as Java does
        }
      }
      return d;
    }
    case DATE_NAME:
      return withPath(path, () => DateType.toLogical(intValue(schema, value, path, -2147483648, 2147483647)));
    case TIME_NAME:
      return TimeType.toLogical(intValue(schema, value, path, -2147483648, 2147483647));
    case TIMESTAMP_NAME:
      return withPath(path, () => TimestampType.toLogical(longValue(schema, value, path)));
    default:
      break;
  }
  switch (schema.type) {
    case 'int8':
      return intValue(schema, value, path, -128, 127);
    case 'int16':
      return intValue(schema, value, path, -32768, 32767);
    case 'int32':
      return intValue(schema, value, path, -2147483648, 2147483647);
    case 'int64':
      return longValue(schema, value, path);
    case 'float32':
      return Math.fround(floatValue(schema, value, path));
    case 'float64':
      return floatValue(schema, value, path);
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(schema, value, path, 'true or false');
      return value;
    case 'string':
      if (typeof value !== 'string') throw invalid(schema, value, path, 'a JSON string');
      return value;
    case 'bytes':
      if (typeof value !== 'string') throw invalid(schema, value, path, 'base64 text');
      return fromBase64(value, schema, path);
    case 'array': {
      if (!Array.isArray(value)) throw invalid(schema, value, path, 'a JSON array');
      const vs = schema.valueSchema!;
      return value.map((x, i) => toConnect(vs, x, opts, `${path}[${i}]`));
    }
    case 'map': {
      const ks = schema.keySchema!;
      const vs = schema.valueSchema!;
      const out = new Map<unknown, unknown>();
      if (ks.type === 'string') {
        if (!isPlainObject(value)) {
          throw new DataError(
            `Maps with string fields should be encoded as JSON objects, but found ${jsTypeOf(value)}${at(path)}`,
            path || undefined,
          );
        }
        for (const [k, v] of Object.entries(value)) out.set(k, toConnect(vs, v, opts, `${path}[${k}]`));
        return out;
      }
      if (!Array.isArray(value)) {
        throw new DataError(
          `Maps with non-string fields should be encoded as JSON array of tuples, but found ${jsTypeOf(value)}${at(path)}`,
          path || undefined,
        );
      }
      for (const entry of value) {
        if (!Array.isArray(entry) || entry.length !== 2) {
          throw new DataError(
            `Found invalid map entry instead of array tuple: ${describeValue(entry)}${at(path)}`,
            path || undefined,
          );
        }
        const k = toConnect(ks, entry[0], opts, `${path}.<key>`);
        out.set(k, toConnect(vs, entry[1], opts, `${path}[${String(k)}]`));
      }
      return out;
    }
    case 'struct': {
      if (!isPlainObject(value)) {
        throw new DataError(
          `Structs should be encoded as JSON objects, but found ${jsTypeOf(value)}${at(path)}`,
          path || undefined,
        );
      }
      const s = new Struct(schema);
      for (const f of schema.fields ?? []) {
        // Own members only: a field named like an Object.prototype member (toString, constructor) is missing, not a
        // function.
        const member = Object.hasOwn(value, f.name) ? value[f.name] : undefined;
        const v = toConnect(f.schema, member, opts, child(path, f.name));
        if (v !== null) s.putAt(f, v);
      }
      return s;
    }
  }
}

function intValue(schema: Schema, value: unknown, path: string, lo: number, hi: number): number {
  let n: unknown = value;
  if (typeof value === 'bigint') n = Number(value);
  else if (value instanceof Decimal) n = integralOf(value);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi) {
    throw invalid(schema, value, path, `an integer in [${lo}, ${hi}]`);
  }
  return n;
}

function integralOf(d: Decimal): number | undefined {
  try {
    return Number(d.setScale(0).unscaled);
  } catch {
    return undefined;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function longValue(schema: Schema, value: unknown, path: string): bigint {
  let b: bigint | undefined;
  if (typeof value === 'bigint') b = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) b = BigInt(value);
  else if (value instanceof Decimal && integralOf(value) !== undefined) b = value.setScale(0).unscaled;
  if (b === undefined || b < INT64_MIN || b > INT64_MAX) throw invalid(schema, value, path, 'a 64-bit integer');
  return b;
}

function floatValue(schema: Schema, value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Decimal) return Number(value.toString());
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  throw invalid(schema, value, path, 'a JSON number');
}

/**
 * Schemaless JSON → Connect value, as Java infers it: integral numbers are int64 (bigint), others
 * float64; objects stay plain objects (our model for schemaless struct-like values).
 */
export function inferValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? BigInt(value) : value;
    case 'bigint':
    case 'string':
    case 'boolean':
      return value;
    default:
      break;
  }
  if (value instanceof Decimal) return Number(value.toString());
  if (Array.isArray(value)) return value.map(inferValue);
  if (isPlainObject(value)) {
    const obj: JsonObject = {};
    for (const [k, v] of Object.entries(value)) setMember(obj, k, inferValue(v));
    return obj;
  }
  return value;
}
