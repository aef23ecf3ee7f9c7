import {
  DATE_NAME,
  DECIMAL_NAME,
  Decimal,
  type Field,
  type Schema,
  Struct,
  TIMESTAMP_NAME,
  TIME_NAME,
} from '../api/index.js';
import { parseJsonValueAt } from '../api/exact-json.js';
import { type JsonDataOptions, jsonToConnect } from './json-values.js';
import { smallUnscaledOfBase64 } from './small-decimal.js';

/**
 * A payload decoder compiled for one schema: JSON text → Connect value without the intermediate JSON tree of the
 * general path (parseJsonExact, then jsonToConnect), which is most of what a sink spends per record on an envelope
 * with schemas (objects built key by key, then read back by name).
 *
 * It is a shortcut, never a second opinion: structs, and the common leaves (strings, integers, booleans and nulls
 * written plainly), are read here; every other value is parsed by the exact parser and converted by jsonToConnect,
 * the reference. Whatever this code is not sure of — an escape in a key, a leaf it does not know, a value the
 * reference may reject, bad JSON — throws NOT_COMPILED, and the caller runs the general path, which answers with
 * the reference's value or its own error message and field path. So the result is the reference's whenever this
 * returns.
 */
export type CompiledJsonDecoder = (text: string, pos: number) => { value: unknown; end: number };

/** Thrown to send a payload to the general path; never seen by users. */
export const NOT_COMPILED: unique symbol = Symbol('not compiled');

interface Cursor {
  pos: number;
  /** Arrays and objects of the whole record open at `pos`: the exact parser's MAX_JSON_DEPTH counts them all. */
  depth: number;
}

type Decode = (t: string, c: Cursor) => unknown;

/** `depth`: how many arrays and objects enclose the payload (1: the envelope's). */
export function compileJsonDecoder(schema: Schema, options: Required<JsonDataOptions>, depth = 1): CompiledJsonDecoder {
  const decode = compile(schema, options);
  return (text, pos) => {
    const c = { pos, depth };
    skipWs(text, c);
    const value = decode(text, c);
    return { value, end: c.pos };
  };
}

/**
 * The names the reference converts by (Connect's logical types). Any other name (Debezium's `io.debezium.time.Date`,
 * `io.debezium.data.Enum`…) only labels its type, for the reference and for Struct's checks alike.
 */
const LOGICAL_NAMES: ReadonlySet<string> = new Set([DECIMAL_NAME, DATE_NAME, TIME_NAME, TIMESTAMP_NAME]);

function compile(schema: Schema, opts: Required<JsonDataOptions>): Decode {
  if (schema.name === DECIMAL_NAME) return decimal(schema, opts);
  // The other logical types and the rest: the reference converts the parsed leaf.
  if (schema.name !== undefined && schema.name !== null && LOGICAL_NAMES.has(schema.name)) return generic(schema, opts);
  switch (schema.type) {
    case 'struct':
      return compileStruct(schema, opts);
    case 'string':
      return leaf(schema, opts, (t, c) => (t.charCodeAt(c.pos) === 34 ? plainString(t, c) : NOT_COMPILED));
    case 'boolean':
      return leaf(schema, opts, (t, c) => {
        if (t.startsWith('true', c.pos)) {
          c.pos += 4;
          return true;
        }
        if (t.startsWith('false', c.pos)) {
          c.pos += 5;
          return false;
        }
        return NOT_COMPILED;
      });
    case 'int8':
      return leaf(schema, opts, intIn(-128, 127));
    case 'int16':
      return leaf(schema, opts, intIn(-32768, 32767));
    case 'int32':
      return leaf(schema, opts, intIn(-2147483648, 2147483647));
    case 'int64':
      return leaf(schema, opts, int64);
    default:
      return generic(schema, opts);
  }
}

/**
 * A leaf read by `read` (which answers NOT_COMPILED for anything it does not take plainly, without moving); a JSON
 * null, and what `read` leaves, go to the reference.
 */
function leaf(schema: Schema, opts: Required<JsonDataOptions>, read: Decode): Decode {
  const slow = generic(schema, opts);
  return (t, c) => {
    const from = c.pos;
    const v = read(t, c);
    if (v !== NOT_COMPILED) return v;
    c.pos = from;
    return slow(t, c);
  };
}

/**
 * A decimal written as base64 of at most 6 bytes (what money and quantities take): read with number arithmetic,
 * without a Buffer and a BigInt shift per byte. Longer or unusual text, numbers (NUMERIC format) and a schema without
 * a usable scale: the reference.
 */
function decimal(schema: Schema, opts: Required<JsonDataOptions>): Decode {
  const slow = generic(schema, opts);
  const scale = Number(schema.parameters?.['scale']);
  if (!Number.isInteger(scale)) return slow;
  let valid: boolean;
  try {
    valid = new Decimal(0n, scale).scale === scale;
  } catch {
    valid = false;
  }
  if (!valid) return slow;
  return (t, c) => {
    const from = c.pos;
    if (t.charCodeAt(from) === 34) {
      const end = t.charCodeAt(from + 5) === 34 ? from + 5 : t.charCodeAt(from + 9) === 34 ? from + 9 : -1;
      if (end > from) {
        const n = smallUnscaledOfBase64(t, from + 1, end);
        if (n !== undefined) {
          c.pos = end + 1;
          return new Decimal(BigInt(n), scale);
        }
      }
    }
    return slow(t, c);
  };
}

/** The reference for one value: parsed exactly, converted by jsonToConnect; any failure leaves the compiled path. */
function generic(schema: Schema, opts: Required<JsonDataOptions>): Decode {
  return (t, c) => {
    const from = c.pos;
    // A plain string (base64 decimals and bytes, zoned timestamps) or short integer is what the exact parser would
    // make of it, without a parser of its own.
    let parsed: unknown = t.charCodeAt(from) === 34 ? plainString(t, c) : plainInteger(t, c);
    try {
      if (parsed === NOT_COMPILED) {
        const p = parseJsonValueAt(t, from, c.depth);
        parsed = p.value;
        c.pos = p.end;
      }
      return jsonToConnect(schema, parsed, opts);
    } catch {
      throw NOT_COMPILED;
    }
  };
}

function compileStruct(schema: Schema, opts: Required<JsonDataOptions>): Decode {
  const fields: readonly Field[] = schema.fields ?? [];
  const byName = new Map<string, { index: number; decode: Decode }>();
  const members = fields.map((f, index) => ({ index, decode: compile(f.schema, opts) }));
  fields.forEach((f, index) => byName.set(f.name, members[index]!));
  // Writers put the members in schema order: the next one is tried as text first, without slicing out its key.
  const quoted = fields.map((f) => JSON.stringify(f.name));
  // Missing members and nulls: the reference decides (default, null, or an error for a required field), the same
  // way every time for a field, so once.
  const whenNull = fields.map((f) => nullOutcome(f.schema, opts));
  const n = fields.length;
  const unset: unknown[] = fields.map(() => undefined);
  const self = generic(schema, opts);
  return (t, c) => {
    if (t.charCodeAt(c.pos) === 110 /* n */) return self(t, c);
    if (t.charCodeAt(c.pos) !== 123 /* { */) throw NOT_COMPILED;
    c.pos++;
    c.depth++;
    skipWs(t, c);
    // Packed, so `undefined` (unset: missing or null) is a value Struct keeps as it is.
    const values = unset.slice();
    if (t.charCodeAt(c.pos) === 125 /* } */) c.pos++;
    else {
      let next = 0;
      for (;;) {
        if (t.charCodeAt(c.pos) !== 34) throw NOT_COMPILED;
        let f: { index: number; decode: Decode } | undefined;
        if (next < n && t.startsWith(quoted[next]!, c.pos)) {
          c.pos += quoted[next]!.length;
          f = members[next];
        } else {
          const key = plainString(t, c);
          if (key === NOT_COMPILED) throw NOT_COMPILED;
          f = byName.get(key);
        }
        if (f !== undefined) next = f.index + 1;
        skipWs(t, c);
        if (t.charCodeAt(c.pos) !== 58 /* : */) throw NOT_COMPILED;
        c.pos++;
        skipWs(t, c);
        if (f === undefined) {
          // A member the schema does not name: parsed (it must be valid JSON) and ignored, as the reference does.
          try {
            c.pos = parseJsonValueAt(t, c.pos, c.depth).end;
          } catch {
            throw NOT_COMPILED;
          }
        } else if (t.startsWith('null', c.pos)) {
          c.pos += 4;
          values[f.index] = undefined;
        } else {
          // A repeated member: the last one counts, as in the reference (and Jackson). Decoders never answer
          // undefined, so it keeps meaning unset.
          values[f.index] = f.decode(t, c);
        }
        skipWs(t, c);
        const d = t.charCodeAt(c.pos);
        if (d === 44 /* , */) {
          c.pos++;
          skipWs(t, c);
        } else if (d === 125 /* } */) {
          c.pos++;
          break;
        } else throw NOT_COMPILED;
      }
    }
    c.depth--;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === undefined || v === null) {
        const o = whenNull[i]!;
        if (!o.ok) throw NOT_COMPILED;
        // The reference leaves a null field unset.
        values[i] = o.value === null ? undefined : o.value;
      }
    }
    try {
      // Checks each value as the reference's putAt does.
      return Struct.adopt(schema, values);
    } catch {
      throw NOT_COMPILED;
    }
  };
}

/** What the reference makes of a JSON null (or a missing member) for a field's schema. */
function nullOutcome(schema: Schema, opts: Required<JsonDataOptions>): { ok: boolean; value?: unknown } {
  try {
    return { ok: true, value: jsonToConnect(schema, null, opts) };
  } catch {
    return { ok: false };
  }
}

/** A string without escapes (the usual case), or NOT_COMPILED (an escape, a control character, no end). */
function plainString(t: string, c: Cursor): string | typeof NOT_COMPILED {
  const start = c.pos + 1;
  let i = start;
  for (;;) {
    const ch = t.charCodeAt(i);
    if (ch === 34) {
      c.pos = i + 1;
      return t.slice(start, i);
    }
    if (ch === 92 || ch < 32 || Number.isNaN(ch)) return NOT_COMPILED;
    i++;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A plain integer literal in the int64 range (timestamps in µs and ns, LSNs), exact; else NOT_COMPILED. */
function int64(t: string, c: Cursor): bigint | typeof NOT_COMPILED {
  const from = c.pos;
  const end = integerEnd(t, from, 19);
  if (end < 0) return NOT_COMPILED;
  const b = BigInt(t.slice(from, end));
  if (b < INT64_MIN || b > INT64_MAX) return NOT_COMPILED;
  c.pos = end;
  return b;
}

/**
 * Where a plain integer literal starting at `from` ends (at most `maxDigits` digits, no leading zero, no fraction or
 * exponent after it), or -1.
 */
function integerEnd(t: string, from: number, maxDigits: number): number {
  let i = from;
  if (t.charCodeAt(i) === 45) i++;
  const digits = i;
  while (i < t.length) {
    const ch = t.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    i++;
  }
  const len = i - digits;
  if (len === 0 || len > maxDigits || (len > 1 && t.charCodeAt(digits) === 48)) return -1;
  const next = t.charCodeAt(i);
  if (next === 46 || next === 101 || next === 69) return -1;
  return i;
}

/**
 * A plain integer literal of at most 15 digits (the exact parser's `number` range), or NOT_COMPILED for anything
 * else (fractions, exponents, leading zeros, longer literals: the reference's rules apply).
 */
function plainInteger(t: string, c: Cursor): number | typeof NOT_COMPILED {
  const i = integerEnd(t, c.pos, 15);
  if (i < 0) return NOT_COMPILED;
  const n = Number(t.slice(c.pos, i));
  c.pos = i;
  return n;
}

function intIn(lo: number, hi: number): Decode {
  return (t, c) => {
    const from = c.pos;
    const n = plainInteger(t, c);
    if (n === NOT_COMPILED) return n;
    if (n < lo || n > hi) {
      c.pos = from;
      return NOT_COMPILED;
    }
    return n;
  };
}

function skipWs(t: string, c: Cursor): void {
  let i = c.pos;
  for (;;) {
    const ch = t.charCodeAt(i);
    if (ch === 32 || ch === 10 || ch === 13 || ch === 9) i++;
    else break;
  }
  c.pos = i;
}
