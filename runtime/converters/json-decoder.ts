import { type Field, type Schema, Struct } from '../api/index.js';
import { parseJsonValueAt } from '../api/exact-json.js';
import { type JsonDataOptions, jsonToConnect } from './json-values.js';

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

function compile(schema: Schema, opts: Required<JsonDataOptions>): Decode {
  // Logical types and the rest: the reference converts the parsed leaf.
  if (schema.name !== undefined && schema.name !== null && schema.type !== 'struct') return generic(schema, opts);
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
  fields.forEach((f, index) => byName.set(f.name, { index, decode: compile(f.schema, opts) }));
  // Missing members and nulls: the reference decides (default, null, or an error for a required field), the same
  // way every time for a field, so once.
  const whenNull = fields.map((f) => nullOutcome(f.schema, opts));
  const n = fields.length;
  const self = generic(schema, opts);
  return (t, c) => {
    if (t.charCodeAt(c.pos) === 110 /* n */) return self(t, c);
    if (t.charCodeAt(c.pos) !== 123 /* { */) throw NOT_COMPILED;
    c.pos++;
    c.depth++;
    skipWs(t, c);
    const values: unknown[] = new Array(n);
    const seen = new Uint8Array(n);
    if (t.charCodeAt(c.pos) === 125 /* } */) c.pos++;
    else {
      for (;;) {
        if (t.charCodeAt(c.pos) !== 34) throw NOT_COMPILED;
        const key = plainString(t, c);
        if (key === NOT_COMPILED) throw NOT_COMPILED;
        skipWs(t, c);
        if (t.charCodeAt(c.pos) !== 58 /* : */) throw NOT_COMPILED;
        c.pos++;
        skipWs(t, c);
        const f = byName.get(key);
        if (f === undefined) {
          // A member the schema does not name: parsed (it must be valid JSON) and ignored, as the reference does.
          try {
            c.pos = parseJsonValueAt(t, c.pos, c.depth).end;
          } catch {
            throw NOT_COMPILED;
          }
        } else if (t.startsWith('null', c.pos)) {
          c.pos += 4;
          seen[f.index] = 0;
          values[f.index] = undefined;
        } else {
          // A repeated member: the last one counts, as in the reference (and Jackson).
          values[f.index] = f.decode(t, c);
          seen[f.index] = 1;
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
    const s = new Struct(schema);
    for (let i = 0; i < n; i++) {
      let v = values[i];
      if (seen[i] === 0) {
        const o = whenNull[i]!;
        if (!o.ok) throw NOT_COMPILED;
        v = o.value;
      }
      // The reference leaves a null field unset; putAt validates as its putAt does.
      if (v !== null) {
        try {
          s.putAt(fields[i]!, v);
        } catch {
          throw NOT_COMPILED;
        }
      }
    }
    return s;
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
