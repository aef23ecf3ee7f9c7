import { DataError } from './errors.js';
import { Decimal } from './logical.js';

/**
 * JSON that keeps numbers exact. `JSON.parse` turns 9007199254740993 into ...992 and
 * 12345678901234.5678 into ...568, which is unacceptable for int64 keys and money, so we parse and
 * write JSON text ourselves.
 *
 * Parsed numbers: an integer literal is a `number` when it is a safe integer and a `bigint` otherwise;
 * a literal with a fraction or exponent is a `Decimal` (exact, with the scale as written: "1.50" has
 * scale 2). Objects are plain objects in key order; duplicate keys keep the last value, as Jackson does.
 */

/** A number whose JSON text is already decided (e.g. Java's "1.0" for a double); written verbatim. */
export class JsonNumberText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toJSON(): number {
    return Number(this.text);
  }
}

export type ExactJsonValue =
  null | boolean | number | bigint | string | Decimal | ExactJsonValue[] | { [key: string]: ExactJsonValue };

/** Where a top-level object member's value starts and ends in the text (used to cache envelope schemas). */
export type MemberSpanListener = (key: string, start: number, end: number) => void;

/**
 * How deeply arrays and objects may nest: Jackson's default (StreamReadConstraints.maxNestingDepth), so Kafka Connect's
 * JsonConverter refuses the same documents. Unbounded, a record of nested brackets overflowed the stack here or, past
 * the parser, in whatever walked the value next (schema and value conversion, transforms, the sink), with an error no
 * code named.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * The longest number literal: Jackson's default (StreamReadConstraints.maxNumberLength), so Connect's JsonConverter
 * refuses the same records. Unbounded, a record of a few million-digit numbers held the thread for seconds, in the
 * parse and again wherever the value was written as text.
 */
export const MAX_JSON_NUMBER_LENGTH = 1000;

export function parseJsonExact(text: string, onTopLevelMember?: MemberSpanListener): ExactJsonValue {
  const p = new ExactJsonParser(text);
  p.skipWs();
  const v = p.parseValue(onTopLevelMember);
  p.skipWs();
  if (p.pos < text.length) p.fail('Unexpected trailing content');
  return v;
}

/**
 * Parses one JSON value starting at `pos` (after optional whitespace) and returns it with the position
 * just after it; for callers that parse part of a text (e.g. an envelope's payload). `depth`: how many arrays and
 * objects of the whole text enclose it, so that MAX_JSON_DEPTH applies to the text as parseJsonExact would apply it.
 */
export function parseJsonValueAt(text: string, pos: number, depth = 0): { value: ExactJsonValue; end: number } {
  const p = new ExactJsonParser(text);
  p.depth = depth;
  p.pos = pos;
  p.skipWs();
  const value = p.parseValue();
  return { value, end: p.pos };
}

class ExactJsonParser {
  pos = 0;
  /** Arrays and objects open at `pos`. */
  depth = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    const ch = this.pos < this.text.length ? ` ${JSON.stringify(this.text[this.pos])}` : ' (end of input)';
    throw new DataError(`${what}${ch} at ${this.where()}`);
  }

  private where(): string {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    const column = this.pos - before.lastIndexOf('\n');
    return `position ${this.pos} (line ${line}, column ${column})`;
  }

  skipWs(): void {
    const t = this.text;
    let i = this.pos;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.pos = i;
  }

  parseValue(onMember?: MemberSpanListener): ExactJsonValue {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 123 /* { */:
        return this.parseObject(onMember);
      case 91 /* [ */:
        return this.parseArray();
      case 34 /* " */:
        return this.parseString();
      case 116 /* t */:
        return this.literal('true', true);
      case 102 /* f */:
        return this.literal('false', false);
      case 110 /* n */:
        return this.literal('null', null);
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.parseNumber();
        return this.fail(this.pos >= this.text.length ? 'Unexpected end of JSON input' : 'Unexpected character');
    }
  }

  private literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    return this.fail('Unexpected character');
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) {
      throw new DataError(
        `Nesting depth ${this.depth} at ${this.where()} exceeds the maximum allowed (${MAX_JSON_DEPTH} arrays and objects, as in Kafka Connect's JsonConverter): flatten the document at its source, or let errors.tolerance=all route the record to the dead letter queue`,
      );
    }
  }

  private parseObject(onMember?: MemberSpanListener): { [key: string]: ExactJsonValue } {
    const obj: { [key: string]: ExactJsonValue } = {};
    this.enter();
    this.pos++;
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      this.depth--;
      return obj;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 34) this.fail('Expected a string key');
      const key = this.parseString();
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 58) this.fail("Expected ':'");
      this.pos++;
      this.skipWs();
      const start = this.pos;
      const value = this.parseValue();
      onMember?.(key, start, this.pos);
      // Assigning "__proto__" would set the prototype instead of a key.
      if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true });
      else obj[key] = value;
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        this.skipWs();
      } else if (c === 125) {
        this.pos++;
        this.depth--;
        return obj;
      } else this.fail("Expected ',' or '}'");
    }
  }

  private parseArray(): ExactJsonValue[] {
    const arr: ExactJsonValue[] = [];
    this.enter();
    this.pos++;
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      this.depth--;
      return arr;
    }
    for (;;) {
      arr.push(this.parseValue());
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        this.skipWs();
      } else if (c === 93) {
        this.pos++;
        this.depth--;
        return arr;
      } else this.fail("Expected ',' or ']'");
    }
  }

  private parseString(): string {
    const t = this.text;
    const start = ++this.pos;
    // Fast path: no escapes.
    let i = start;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 34) {
        this.pos = i + 1;
        return t.slice(start, i);
      }
      if (c === 92) break;
      if (c < 32 || Number.isNaN(c)) {
        this.pos = i;
        this.fail(Number.isNaN(c) ? 'Unterminated string' : 'Control character in string');
      }
      i++;
    }
    let out = t.slice(start, i);
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) {
        this.pos = i;
        this.fail('Unterminated string');
      }
      if (c === 34) {
        this.pos = i + 1;
        return out;
      }
      if (c < 32) {
        this.pos = i;
        this.fail('Control character in string');
      }
      if (c !== 92) {
        out += t[i];
        i++;
        continue;
      }
      const e = t[i + 1];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = t.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = i;
            this.fail('Invalid unicode escape');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          this.pos = i;
          this.fail('Invalid escape');
      }
      i += 2;
    }
  }

  private parseNumber(): number | bigint | Decimal {
    const t = this.text;
    const start = this.pos;
    let i = start;
    if (t.charCodeAt(i) === 45) i++;
    const intStart = i;
    while (isDigit(t.charCodeAt(i))) i++;
    if (i === intStart) {
      this.pos = i;
      this.fail('Invalid number');
    }
    if (t.charCodeAt(intStart) === 48 && i - intStart > 1) {
      this.pos = intStart;
      this.fail('Leading zero in number');
    }
    let integral = true;
    if (t.charCodeAt(i) === 46) {
      integral = false;
      i++;
      const fs = i;
      while (isDigit(t.charCodeAt(i))) i++;
      if (i === fs) {
        this.pos = i;
        this.fail('Invalid number');
      }
    }
    const e = t.charCodeAt(i);
    if (e === 101 || e === 69) {
      integral = false;
      i++;
      const s = t.charCodeAt(i);
      if (s === 43 || s === 45) i++;
      const es = i;
      while (isDigit(t.charCodeAt(i))) i++;
      if (i === es) {
        this.pos = i;
        this.fail('Invalid number');
      }
    }
    if (i - start > MAX_JSON_NUMBER_LENGTH) {
      this.pos = start;
      this.fail(`Number of ${i - start} characters (at most ${MAX_JSON_NUMBER_LENGTH}, as Kafka Connect reads JSON)`);
    }
    this.pos = i;
    const lit = t.slice(start, i);
    if (!integral) return Decimal.parse(lit);
    if (i - intStart <= 15) return Number(lit);
    const big = BigInt(lit);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Writes JSON text: bigint and Decimal exactly, JsonNumberText verbatim, bytes as base64, Map as an
 * object (string keys), Date as ISO text; undefined object members are left out (as JSON.stringify).
 * `indent` pretty-prints for humans.
 */
export function stringifyJsonExact(value: unknown, indent = 0): string {
  return write(value, indent > 0 ? ' '.repeat(indent) : '', '');
}

// Characters Jackson (Connect's JSON library, 2.16) escapes: quote, backslash, controls, and UTF-16
// surrogates (it writes emoji as "\uD83D\uDE9A"); everything else is written as is.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES: Record<number, string> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  12: '\\f',
  13: '\\r',
  34: '\\"',
  92: '\\\\',
};

/** A JSON string literal escaped exactly as Jackson does, so our bytes equal Kafka Connect's. */
export function quoteJson(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let out = '"';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32 && c !== 34 && c !== 92 && (c < 0xd800 || c > 0xdfff)) continue;
    out += text.slice(from, i) + (SHORT_ESCAPES[c] ?? `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`);
    from = i + 1;
  }
  return `${out}${text.slice(from)}"`;
}

// Keys repeat record after record (field names): keep their quoted form.
const quotedKeys = new Map<string, string>();
function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = quoteJson(k);
    if (quotedKeys.size < 10_000) quotedKeys.set(k, q);
  }
  return q;
}

function write(v: unknown, step: string, pad: string): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return quoteJson(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw new DataError(`Cannot write ${v} as a JSON number`);
      return String(v);
    case 'object':
      break;
    default:
      throw new DataError(`Cannot write a ${typeof v} as JSON`);
  }
  const inner = pad + step;
  const nl = step ? `\n${inner}` : '';
  const end = step ? `\n${pad}` : '';
  const colon = step ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i > 0 ? ',' : '') + nl + write(v[i], step, inner);
    return `${s}${end}]`;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    if (v instanceof JsonNumberText) return v.text;
    if (v instanceof Decimal) return v.toString();
    if (v instanceof Uint8Array) {
      return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
    }
    if (v instanceof Date) return JSON.stringify(v.toISOString());
    if (v instanceof Map) {
      let s = '{';
      let first = true;
      for (const [k, x] of v) {
        if (x === undefined) continue;
        s += (first ? '' : ',') + nl + quoteKey(String(k)) + colon + write(x, step, inner);
        first = false;
      }
      return first ? '{}' : `${s}${end}}`;
    }
  }
  const obj = v as Record<string, unknown>;
  let s = '{';
  let first = true;
  for (const k of Object.keys(obj)) {
    const x = obj[k];
    if (x === undefined) continue;
    s += (first ? '' : ',') + nl + quoteKey(k) + colon + write(x, step, inner);
    first = false;
  }
  return first ? '{}' : `${s}${end}}`;
}

/**
 * Canonical JSON: object keys sorted, no whitespace. Offsets are looked up by their serialized key, so
 * the same partition must always serialize to the same bytes (Connect's `["<connector>",{partition}]`).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
