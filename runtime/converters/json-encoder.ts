import {
  DATE_NAME,
  DECIMAL_NAME,
  DateType,
  Decimal,
  DecimalType,
  type Schema,
  Struct,
  StructValues,
  TIMESTAMP_NAME,
  TIME_NAME,
  TimeType,
  javaBigDecimalToString,
  javaDoubleToString,
  javaFloatToString,
  quoteJson,
  stringifyJsonExact,
} from '../api/index.js';
import { type JsonDataOptions, connectToJson } from './json-values.js';
import { base64OfSmallUnscaled } from './small-decimal.js';

/**
 * Per-schema compiled JSON payload writers: a schema is turned once into a tree of small functions that write a
 * value straight to JSON text, without the intermediate JSON object tree of `connectToJson` and the generic walk of
 * `stringifyJsonExact`. The text must be exactly what those two produce (json-encoder.test.ts compares both on
 * random schemas and values), so anything off the common path — a value of an unexpected type, a decimal of
 * another scale, a struct of an equal but not identical schema — gives up with NOT_COMPILED and the caller runs the
 * generic path, which writes the same text or throws its usual error.
 */

/** Thrown (never escapes the converter) when a value is off the compiled path; the generic path takes over. */
export const NOT_COMPILED: unique symbol = Symbol('not compiled');

type Encode = (v: unknown) => string;

function giveUp(): never {
  throw NOT_COMPILED;
}

/** The generic writer for a subtree the compiler does not specialise (maps, arrays): same text by construction. */
function generic(schema: Schema, opts: Required<JsonDataOptions>): Encode {
  return (v) => stringifyJsonExact(connectToJson(schema, v, opts));
}

export function compileJsonEncoder(schema: Schema, opts: Required<JsonDataOptions>): Encode {
  const body = compileNonNull(schema, opts);
  const replace = opts.replaceNullWithDefault && schema.defaultValue !== undefined && schema.defaultValue !== null;
  if (replace) {
    const dflt = schema.defaultValue;
    return (v) => (v === null || v === undefined ? body(dflt) : body(v));
  }
  if (schema.optional) return (v) => (v === null || v === undefined ? 'null' : body(v));
  return (v) => (v === null || v === undefined ? giveUp() : body(v));
}

function compileNonNull(schema: Schema, opts: Required<JsonDataOptions>): Encode {
  switch (schema.name) {
    case DECIMAL_NAME: {
      const scale = DecimalType.scaleOf(schema);
      if (opts.decimalFormat === 'NUMERIC') {
        return (v) => {
          if (!(v instanceof Decimal) || v.scale !== scale) return giveUp();
          return javaBigDecimalToString(v.unscaled, scale);
        };
      }
      return (v) => {
        if (!(v instanceof Decimal) || v.scale !== scale) return giveUp();
        return `"${base64OfSmallUnscaled(v.unscaled) ?? Buffer.from(v.toBytes()).toString('base64')}"`;
      };
    }
    case DATE_NAME:
      return (v) => (v instanceof Date ? String(DateType.fromLogical(v)) : giveUp());
    case TIME_NAME:
      return (v) => (v instanceof Date ? String(TimeType.fromLogical(v)) : giveUp());
    case TIMESTAMP_NAME:
      return (v) => {
        if (!(v instanceof Date)) return giveUp();
        const ms = v.getTime();
        // BigInt(ms).toString() for any integral ms (what the generic path writes); NaN makes BigInt throw there.
        return Number.isSafeInteger(ms) ? String(ms) : giveUp();
      };
    default:
      break;
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      return (v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : giveUp());
    case 'int64': {
      // Timestamps of one batch repeat: the last bigint's text is reused.
      let last = 0n;
      let lastText = '0';
      return (v) => {
        if (typeof v === 'bigint') {
          if (v !== last) {
            lastText = v.toString();
            last = v;
          }
          return lastText;
        }
        return typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : giveUp();
      };
    }
    case 'float32':
    case 'float64': {
      const text = schema.type === 'float32' ? javaFloatToString : javaDoubleToString;
      return (v) => {
        if (typeof v !== 'number') return giveUp();
        return Number.isFinite(v) ? text(v) : quoteJson(javaDoubleToString(v));
      };
    }
    case 'boolean':
      return (v) => (v === true ? 'true' : v === false ? 'false' : giveUp());
    case 'string': {
      // Many string fields repeat record after record (a source's name, table, op): one quoting per run.
      let last = '';
      let lastText = '""';
      return (v) => {
        if (typeof v !== 'string') return giveUp();
        if (v !== last) {
          lastText = quoteJson(v);
          last = v;
        }
        return lastText;
      };
    }
    case 'bytes':
      return (v) =>
        v instanceof Uint8Array
          ? `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"`
          : giveUp();
    case 'struct':
      return compileStruct(schema, opts);
    default:
      return generic(schema, opts);
  }
}

function compileStruct(schema: Schema, opts: Required<JsonDataOptions>): Encode {
  const fields = schema.fields ?? [];
  // The generic path builds a plain object, whose own-key order puts integer-like names first: take the order from
  // such an object, so that a field named "1" lands where it does there.
  const probe: Record<string, number> = Object.create(null) as Record<string, number>;
  fields.forEach((f, i) => (probe[f.name] = i));
  const order = Object.keys(probe).map((k) => fields[probe[k]!]!);
  const n = order.length;
  const heads = order.map((f, i) => `${i === 0 ? '{' : ','}${quoteJson(f.name)}:`);
  const encoders = order.map((f) => compileJsonEncoder(f.schema, opts));
  if (n === 0)
    return (v) => ((v instanceof Struct || v instanceof StructValues) && v.schema === schema ? '{}' : giveUp());
  // StructValues (a source connector's values without the Struct): the same fields, read by position (unset = null).
  const positions = order.map((f) => f.index);
  return (v) => {
    let s = '';
    if (v instanceof Struct && v.schema === schema) {
      for (let i = 0; i < n; i++) s += heads[i]! + encoders[i]!(v.rawAt(order[i]!));
    } else if (v instanceof StructValues && v.schema === schema) {
      const values = v.values;
      for (let i = 0; i < n; i++) s += heads[i]! + encoders[i]!(values[positions[i]!] ?? null);
    } else {
      return giveUp();
    }
    return `${s}}`;
  };
}
