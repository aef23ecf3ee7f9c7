import {
  DATE_NAME,
  DECIMAL_NAME,
  DataError,
  DateType,
  Decimal,
  DecimalType,
  type Field,
  type Schema,
  Struct,
  TIMESTAMP_NAME,
  TIME_NAME,
  TimeType,
  TimestampType,
  describeValue,
  jsTypeOf,
  largeTwosComplement,
  schemaEquals,
} from '../../api/index.js';

/**
 * Connect values ↔ the values avsc reads and writes, for the Avro schemas avro-schema.ts maps to: each
 * Connect schema compiles once into a function, cached by schema identity. int64 values are bigints
 * (Timestamps are written as epoch-millis numbers, which the long type also takes); decimals are the
 * unscaled two's complement bytes; string-keyed maps are objects, other maps arrays of {key, value}.
 */

const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Java BigInteger.toByteArray of the unscaled value; plain number arithmetic when it fits (most money). */
export function unscaledBytes(u: bigint): Buffer {
  if (u < SAFE_MIN || u > SAFE_MAX) return largeTwosComplement(u);
  let n = Number(u);
  let len = 1;
  // Smallest length whose signed range holds n.
  while (n < -(2 ** (8 * len - 1)) || n >= 2 ** (8 * len - 1)) len++;
  const out = Buffer.allocUnsafe(len);
  for (let i = len - 1; i >= 0; i--) {
    const byte = ((n % 256) + 256) % 256;
    out[i] = byte;
    n = (n - byte) / 256;
  }
  return out;
}

type Convert = (value: unknown) => unknown;

const toAvroCache = new WeakMap<Schema, Convert>();
const fromAvroCache = new WeakMap<Schema, Convert>();

function bad(schema: Schema, value: unknown, path: string, expected: string): DataError {
  const type = schema.name ? `${schema.type} (${schema.name})` : schema.type;
  return new DataError(
    `Invalid value for Avro conversion of ${type}${path ? ` at "${path}"` : ''}: expected ${expected}, got ${jsTypeOf(value)} ${describeValue(value)}`,
    path || undefined,
  );
}

/** Connect value → the value avsc writes, for this schema (compiled once per schema object). */
export function compileToAvro(schema: Schema, path = ''): Convert {
  const cached = toAvroCache.get(schema);
  if (cached && path === '') return cached;
  const base = toAvroBase(schema, path);
  const hasDefault = schema.defaultValue !== undefined && schema.defaultValue !== null;
  const fn: Convert = (v) => {
    if (v === null || v === undefined) {
      if (hasDefault) return base(schema.defaultValue);
      if (schema.optional) return null;
      throw new DataError(
        `Invalid value: null used for required field: "${path || '<root>'}", schema type: ${schema.type}`,
        path || undefined,
      );
    }
    return base(v);
  };
  if (path === '') toAvroCache.set(schema, fn);
  return fn;
}

function toAvroBase(schema: Schema, path: string): Convert {
  switch (schema.name) {
    case DECIMAL_NAME: {
      const scale = DecimalType.scaleOf(schema);
      return (v) => {
        if (!(v instanceof Decimal)) throw bad(schema, v, path, 'a Decimal');
        let d = v;
        if (d.scale !== scale) {
          try {
            d = d.setScale(scale);
          } catch (e) {
            throw new DataError(
              `Decimal ${v.toString()} does not fit the schema's scale ${scale} without rounding${path ? ` at "${path}"` : ''}`,
              path || undefined,
              { cause: e },
            );
          }
        }
        return unscaledBytes(d.unscaled);
      };
    }
    case DATE_NAME:
      return (v) => {
        if (!(v instanceof Date)) throw bad(schema, v, path, 'a Date');
        return DateType.fromLogical(v);
      };
    case TIME_NAME:
      return (v) => {
        if (!(v instanceof Date)) throw bad(schema, v, path, 'a Date');
        return TimeType.fromLogical(v);
      };
    case TIMESTAMP_NAME:
      return (v) => {
        if (!(v instanceof Date)) throw bad(schema, v, path, 'a Date');
        // The long type takes safe-integer numbers: no BigInt per timestamp.
        return v.getTime();
      };
    default:
      break;
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return (v) => {
        if (typeof v !== 'number') throw bad(schema, v, path, 'a number');
        return v;
      };
    case 'int64':
      return (v) => {
        if (typeof v === 'bigint') return v;
        if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
        throw bad(schema, v, path, 'a bigint');
      };
    case 'boolean':
      return (v) => {
        if (typeof v !== 'boolean') throw bad(schema, v, path, 'a boolean');
        return v;
      };
    case 'string':
      return (v) => {
        if (typeof v !== 'string') throw bad(schema, v, path, 'a string');
        return v;
      };
    case 'bytes':
      return (v) => {
        if (!(v instanceof Uint8Array)) throw bad(schema, v, path, 'bytes');
        return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      };
    case 'array': {
      const item = compileToAvro(schema.valueSchema!, `${path}[]`);
      return (v) => {
        if (!Array.isArray(v)) throw bad(schema, v, path, 'an array');
        return v.map(item);
      };
    }
    case 'map': {
      const k = compileToAvro(schema.keySchema!, `${path}.<key>`);
      const val = compileToAvro(schema.valueSchema!, `${path}[]`);
      if (schema.keySchema!.type === 'string' && !schema.keySchema!.optional) {
        return (v) => {
          if (!(v instanceof Map)) throw bad(schema, v, path, 'a Map');
          const out: Record<string, unknown> = {};
          for (const [key, x] of v) out[key as string] = val(x);
          return out;
        };
      }
      return (v) => {
        if (!(v instanceof Map)) throw bad(schema, v, path, 'a Map');
        return [...v].map(([key, x]) => ({ key: k(key), value: val(x) }));
      };
    }
    case 'struct': {
      const fields = schema.fields ?? [];
      const converters = fields.map((f) => compileToAvro(f.schema, path ? `${path}.${f.name}` : f.name));
      const build = recordBuilder(fields, converters);
      return (v) => {
        if (!(v instanceof Struct)) throw bad(schema, v, path, 'a Struct');
        if (v.schema !== schema && !schemaEquals(v.schema, schema)) {
          throw new DataError(`Struct schema does not match${path ? ` at "${path}"` : ''}`, path || undefined);
        }
        return build(v);
      };
    }
  }
}

/**
 * A function returning the record as one object literal. V8 builds a literal with a fixed shape far
 * faster than an object grown key by key, and this runs for every record (avsc compiles its record
 * writers the same way). Names are embedded as JSON string literals; no other input reaches the code.
 */
function recordBuilder(fields: readonly Field[], converters: readonly Convert[]): (s: Struct) => unknown {
  // A literal "__proto__" key would set the prototype; a computed key defines the property.
  const key = (name: string) => (name === '__proto__' ? `["__proto__"]` : JSON.stringify(name));
  const members = fields.map((f, i) => `${key(f.name)}: c[${i}](s.getAt(f[${i}]))`).join(',\n');
  const factory = new Function('c', 'f', `return function (s) { return {\n${members}\n}; };`) as (
    c: readonly Convert[],
    f: readonly Field[],
  ) => (s: Struct) => unknown;
  return factory(converters, fields);
}

/** avsc value → Connect value, for this schema (compiled once per schema object). */
export function compileFromAvro(schema: Schema): Convert {
  const cached = fromAvroCache.get(schema);
  if (cached) return cached;
  const base = fromAvroBase(schema);
  const fn: Convert = (v) => (v === null || v === undefined ? null : base(v));
  fromAvroCache.set(schema, fn);
  return fn;
}

function fromAvroBase(schema: Schema): Convert {
  switch (schema.name) {
    case DECIMAL_NAME: {
      const scale = DecimalType.scaleOf(schema);
      // fromBytes bounds the size: the bytes come from the record.
      return (v) => Decimal.fromBytes(v as Uint8Array, scale);
    }
    case DATE_NAME:
      return (v) => DateType.toLogical(v as number);
    case TIME_NAME:
      return (v) => TimeType.toLogical(v as number);
    case TIMESTAMP_NAME:
      return (v) => TimestampType.toLogical(v as bigint);
    default:
      break;
  }
  switch (schema.type) {
    case 'array': {
      const item = compileFromAvro(schema.valueSchema!);
      return (v) => (v as unknown[]).map(item);
    }
    case 'map': {
      const k = compileFromAvro(schema.keySchema!);
      const val = compileFromAvro(schema.valueSchema!);
      if (schema.keySchema!.type === 'string' && !schema.keySchema!.optional) {
        return (v) => new Map(Object.entries(v as object).map(([key, x]) => [key, val(x)]));
      }
      return (v) => new Map((v as Array<{ key: unknown; value: unknown }>).map((e) => [k(e.key), val(e.value)]));
    }
    case 'struct': {
      const fields = (schema.fields ?? []).map((f) => ({ field: f, convert: compileFromAvro(f.schema) }));
      return (v) => {
        const s = new Struct(schema);
        const obj = v as Record<string, unknown>;
        for (const f of fields) {
          const x = f.convert(obj[f.field.name]);
          if (x !== null) s.putAt(f.field, x);
        }
        return s;
      };
    }
    default:
      return (v) => v;
  }
}
