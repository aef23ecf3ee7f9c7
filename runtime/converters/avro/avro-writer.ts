import type { AvroObject, AvroSchema } from './avro-schema.js';

/**
 * A compiled Avro binary writer for the values avsc writes (avsc-types.ts: bigint longs, unions of null and one
 * type unwrapped), producing avsc's bytes without its per-value type dispatch (the union branch checks, the tap).
 * It is only an accelerator: whatever it does not cover (unions of several types, a field left undefined so a
 * default applies, an invalid value) makes it give up, and the caller writes with avsc, which also produces the
 * error message for invalid data.
 *
 * Same contract as avsc's Type.encode: returns the position after the value, or a negative number when the
 * buffer was too small (then nothing useful was written and the caller retries with a larger one).
 */
export type AvroEncoder = (value: unknown, buf: Buffer, pos: number) => number;

/** Thrown inside the writer when it does not cover a value; the caller falls back to avsc. */
export class NotCovered extends Error {
  constructor() {
    super('value not covered by the compiled Avro writer');
  }
}

export const EMPTY = Buffer.alloc(0);

export interface Out {
  buf: Buffer;
  pos: number;
}

export type Write = (o: Out, v: unknown) => void;

export function notCovered(): never {
  throw new NotCovered();
}

/** avsc's Tap.writeLong for numbers: integer arithmetic in the 31-bit range, floats beyond. */
export function writeLongNumber(o: Out, n: number): void {
  const buf = o.buf;
  if (n >= -1073741824 && n < 1073741824) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    for (;;) {
      const b = m & 0x7f;
      m >>= 7;
      if (m === 0) {
        buf[o.pos++] = b;
        return;
      }
      buf[o.pos++] = b | 0x80;
    }
  }
  let f = n >= 0 ? n * 2 : -n * 2 - 1;
  for (;;) {
    const b = f & 0x7f;
    f /= 128;
    if (f < 1) {
      buf[o.pos++] = b;
      return;
    }
    buf[o.pos++] = b | 0x80;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** writeLongNumber is exact while the zig-zag value (2|n| + 1) stays below 2^53. */
const EXACT = 2 ** 51;
const EXACT_BIG = BigInt(EXACT);

/** The zig-zag varint of a 64-bit value, as avsc writes it from the 8 bytes of avsc-types' long. */
export function writeLong(o: Out, v: unknown): void {
  let big: bigint;
  if (typeof v === 'bigint') {
    if (v > -EXACT_BIG && v < EXACT_BIG) return writeLongNumber(o, Number(v));
    if (v < INT64_MIN || v > INT64_MAX) notCovered();
    big = v;
  } else {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) notCovered();
    if (v > -EXACT && v < EXACT) return writeLongNumber(o, v);
    big = BigInt(v);
  }
  let z = big >= 0n ? big << 1n : ((-big - 1n) << 1n) | 1n;
  const buf = o.buf;
  while (z >= 0x80n) {
    buf[o.pos++] = Number(z & 0x7fn) | 0x80;
    z >>= 7n;
  }
  buf[o.pos++] = Number(z);
}

export function writeInt(o: Out, v: unknown): void {
  if (v !== ((v as number) | 0)) notCovered();
  writeLongNumber(o, v as number);
}

function writeNull(_o: Out, v: unknown): void {
  if (v !== null) notCovered();
}

export function writeBoolean(o: Out, v: unknown): void {
  if (typeof v !== 'boolean') notCovered();
  o.buf[o.pos++] = v ? 1 : 0;
}

export function writeFloat(o: Out, v: unknown): void {
  if (typeof v !== 'number') notCovered();
  const at = o.pos;
  o.pos += 4;
  if (o.pos <= o.buf.length) o.buf.writeFloatLE(v as number, at);
}

export function writeDouble(o: Out, v: unknown): void {
  if (typeof v !== 'number') notCovered();
  const at = o.pos;
  o.pos += 8;
  if (o.pos <= o.buf.length) o.buf.writeDoubleLE(v as number, at);
}

export function writeRaw(o: Out, b: Buffer): void {
  const at = o.pos;
  o.pos += b.length;
  if (o.pos <= o.buf.length) b.copy(o.buf, at);
}

function writeBytes(o: Out, v: unknown): void {
  if (!Buffer.isBuffer(v)) notCovered();
  writeLongNumber(o, (v as Buffer).length);
  writeRaw(o, v as Buffer);
}

/** avsc's Tap.writeString, byte for byte: its own UTF-8 loop up to 64 bytes, Buffer's encoder beyond. */
export function writeString(o: Out, v: unknown): void {
  if (typeof v !== 'string') notCovered();
  const s = v as string;
  const n = s.length;
  if (n <= 63 && o.pos + 1 + n <= o.buf.length) {
    // ASCII (most keys, codes, timestamps): one byte per char and a one-byte length, no byte count first.
    const buf = o.buf;
    let p = o.pos + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i === n) {
      buf[o.pos] = n << 1;
      o.pos = p;
      return;
    }
  }
  const len = Buffer.byteLength(s);
  writeLongNumber(o, len);
  let pos = o.pos;
  o.pos += len;
  const buf = o.buf;
  if (o.pos > buf.length) return;
  if (len > 64) {
    buf.write(s, pos, len, 'utf8');
    return;
  }
  for (let i = 0; i < s.length; i++) {
    let c1 = s.charCodeAt(i);
    let c2: number;
    if (c1 < 0x80) {
      buf[pos++] = c1;
    } else if (c1 < 0x800) {
      buf[pos++] = (c1 >> 6) | 0xc0;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
      c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
      i++;
      buf[pos++] = (c1 >> 18) | 0xf0;
      buf[pos++] = ((c1 >> 12) & 0x3f) | 0x80;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else {
      buf[pos++] = (c1 >> 12) | 0xe0;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    }
  }
  // A lone surrogate is 3 bytes in both counts, so the loop ends exactly at o.pos.
}

/** An Avro array: one block with the item count, the items, then the empty block that ends it. */
export function writeArray(item: Write): Write {
  return (o, v) => {
    if (!Array.isArray(v)) notCovered();
    const a = v as unknown[];
    if (a.length > 0) {
      writeLongNumber(o, a.length);
      for (let i = 0; i < a.length; i++) item(o, a[i]);
    }
    o.buf[o.pos++] = 0;
  };
}

export const PRIMITIVES: Record<string, Write> = {
  null: writeNull,
  boolean: writeBoolean,
  int: writeInt,
  long: writeLong,
  float: writeFloat,
  double: writeDouble,
  bytes: writeBytes,
  string: writeString,
};

export class Unsupported extends Error {}

interface Ctx {
  /** Named types by full name; a reference to one still being compiled resolves on first use. */
  readonly named: Map<string, Write>;
}

export function fullName(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function compile(schema: AvroSchema, ns: string | undefined, ctx: Ctx): Write {
  if (typeof schema === 'string') {
    const p = PRIMITIVES[schema];
    if (p) return p;
    const name = fullName(schema, ns);
    const known = ctx.named.get(name) ?? (name !== schema ? ctx.named.get(schema) : undefined);
    if (known) return known;
    throw new Unsupported(`unknown type ${schema}`);
  }
  if (Array.isArray(schema)) return compileUnion(schema, ns, ctx);
  return compileObject(schema, ns, ctx);
}

function compileUnion(branches: AvroSchema[], ns: string | undefined, ctx: Ctx): Write {
  const nullAt = branches.indexOf('null');
  if (branches.length !== 2 || nullAt < 0) throw new Unsupported('only unions of null and one type');
  const other = compile(branches[1 - nullAt]!, ns, ctx);
  const nullIndex = nullAt;
  const otherIndex = 1 - nullAt;
  return (o, v) => {
    if (v === null) {
      o.buf[o.pos++] = nullIndex << 1;
    } else {
      o.buf[o.pos++] = otherIndex << 1;
      other(o, v);
    }
  };
}

function compileObject(s: AvroObject, ns: string | undefined, ctx: Ctx): Write {
  const type = s.type;
  if (typeof type !== 'string' || PRIMITIVES[type]) return compile(type, ns, ctx);
  const namespace = typeof s.namespace === 'string' ? s.namespace || undefined : ns;
  const named = (name: unknown): string => {
    if (typeof name !== 'string') throw new Unsupported('unnamed type');
    const full = fullName(name, namespace);
    if (ctx.named.has(full)) throw new Unsupported(`type ${full} defined twice`);
    return full;
  };
  switch (type) {
    case 'record':
    case 'error': {
      const full = named(s.name);
      // Fields resolve names in the record's own namespace.
      const recordNs = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
      let write: Write | null = null;
      ctx.named.set(full, (o, v) => write!(o, v));
      const fields = s.fields as Array<{ name: string; type: AvroSchema }>;
      if (!Array.isArray(fields)) throw new Unsupported('record without fields');
      write = recordWriter(
        fields.map((f) => f.name),
        fields.map((f) => compile(f.type, recordNs, ctx)),
      );
      ctx.named.set(full, write);
      return write;
    }
    case 'enum': {
      const full = named(s.name);
      const symbols = s.symbols as string[];
      const index = new Map(symbols.map((x, i) => [x, i]));
      const write: Write = (o, v) => {
        const i = typeof v === 'string' ? index.get(v) : undefined;
        if (i === undefined) notCovered();
        writeLongNumber(o, i!);
      };
      ctx.named.set(full, write);
      return write;
    }
    case 'fixed': {
      const full = named(s.name);
      const size = s.size as number;
      const write: Write = (o, v) => {
        if (!Buffer.isBuffer(v) || v.length !== size) notCovered();
        writeRaw(o, v as Buffer);
      };
      ctx.named.set(full, write);
      return write;
    }
    case 'array': {
      return writeArray(compile(s.items as AvroSchema, namespace, ctx));
    }
    case 'map': {
      const value = compile(s.values as AvroSchema, namespace, ctx);
      return (o, v) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) notCovered();
        const obj = v as Record<string, unknown>;
        const keys = Object.keys(obj);
        if (keys.length > 0) {
          writeLongNumber(o, keys.length);
          for (const k of keys) {
            writeString(o, k);
            value(o, obj[k]);
          }
        }
        o.buf[o.pos++] = 0;
      };
    }
    default:
      throw new Unsupported(`type ${type}`);
  }
}

/**
 * One function per record with the field reads written out (as avsc compiles its own record writers): V8 then
 * sees constant property names. Names are embedded as JSON string literals; no other input reaches the code. A
 * field left undefined would take its default in avsc: not covered here.
 */
function recordWriter(names: readonly string[], writers: readonly Write[]): Write {
  const body = names.map((n, i) => `x = v[${JSON.stringify(n)}]; if (x === undefined) nc(); w[${i}](o, x);`).join('\n');
  const factory = new Function(
    'w',
    'nc',
    `return function (o, v) {\nif (v === null || typeof v !== 'object') nc();\nlet x;\n${body}\n};`,
  ) as (w: readonly Write[], nc: () => never) => Write;
  return factory(writers, notCovered);
}

/** The compiled encoder of a schema, or null when the schema uses something it does not cover. */
export function compileAvroEncoder(schema: AvroSchema): AvroEncoder | null {
  let write: Write;
  try {
    write = compile(schema, undefined, { named: new Map() });
  } catch {
    // Unsupported, or a schema shape this compiler does not expect: avsc handles it.
    return null;
  }
  return encoderOf(write);
}

/** An AvroEncoder around a compiled writer. */
export function encoderOf(write: Write): AvroEncoder {
  const out: Out = { buf: EMPTY, pos: 0 };
  return (value, buf, pos) => {
    out.buf = buf;
    out.pos = pos;
    try {
      write(out, value);
    } finally {
      out.buf = EMPTY; // the caller's buffer is not kept alive here
    }
    // Past the end: the typed-array writes beyond it were dropped; ask for more room, as avsc does.
    return out.pos <= buf.length ? out.pos : buf.length - out.pos;
  };
}
