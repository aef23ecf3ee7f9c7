import {
  DATE_NAME,
  DECIMAL_NAME,
  Decimal,
  DecimalType,
  type Schema,
  Struct,
  TIMESTAMP_NAME,
  TIME_NAME,
} from '../../api/index.js';
import type { AvroObject, AvroSchema } from './avro-schema.js';
import { unscaledBytes } from './avro-values.js';
import {
  type AvroEncoder,
  type Out,
  PRIMITIVES,
  Unsupported,
  type Write,
  encoderOf,
  writeArray,
  fullName,
  notCovered,
  writeBoolean,
  writeDouble,
  writeFloat,
  writeInt,
  writeLong,
  writeLongNumber,
  writeRaw,
  writeString,
} from './avro-writer.js';

/**
 * The encoder of Connect values of `schema` with `avro` (connectToAvroSchema(schema)): the bytes that
 * compileToAvro + avsc give, without the intermediate avsc value (an object per struct, a Buffer per decimal). It
 * covers valid values of the common shapes; anything else (maps, a decimal of another scale, an equal but
 * distinct struct schema, an invalid value) gives up with NotCovered so the general path converts it, or names the
 * error. Null when the schema uses a shape it does not cover.
 */
export function compileConnectEncoder(schema: Schema, avro: AvroSchema): AvroEncoder | null {
  let write: Write;
  try {
    write = compileConnect(schema, avro, undefined, new Map());
  } catch {
    // Unsupported, or a schema shape this compiler does not expect: the general path handles it.
    return null;
  }
  return encoderOf(write);
}

/** Named Avro types met so far (a later use of a record is its name), by full name. */
type Named = Map<string, AvroObject>;

/** The Avro type at a position with name references resolved, and the namespace names resolve in below it. */
function resolveAvro(
  avro: AvroSchema,
  ns: string | undefined,
  named: Named,
): { t: AvroSchema; ns: string | undefined } {
  if (typeof avro === 'string' && !PRIMITIVES[avro]) {
    const t = named.get(fullName(avro, ns)) ?? named.get(avro);
    if (!t) throw new Unsupported(`unknown type ${avro}`);
    return { t, ns: namespaceOf(t, ns) };
  }
  if (typeof avro === 'object' && !Array.isArray(avro) && typeof avro.name === 'string') {
    const full = fullName(avro.name, namespaceOf(avro, ns) ?? ns);
    named.set(full, avro);
    return { t: avro, ns: namespaceOf(avro, ns) };
  }
  return { t: avro, ns };
}

function namespaceOf(t: AvroObject, ns: string | undefined): string | undefined {
  if (typeof t.name === 'string' && t.name.includes('.')) return t.name.slice(0, t.name.lastIndexOf('.'));
  return typeof t.namespace === 'string' ? t.namespace || undefined : ns;
}

/** The primitive an Avro type is written as (`{"type": "int", "connect.type": "int8"}` is an int). */
function primitiveOf(t: AvroSchema): string | undefined {
  if (typeof t === 'string') return PRIMITIVES[t] ? t : undefined;
  if (Array.isArray(t)) return undefined;
  return typeof t.type === 'string' && PRIMITIVES[t.type] ? t.type : undefined;
}

function compileConnect(schema: Schema, avroAt: AvroSchema, nsAt: string | undefined, named: Named): Write {
  let { t: avro, ns } = resolveAvro(avroAt, nsAt, named);
  let nullIndex = -1;
  let valueIndex = -1;
  if (Array.isArray(avro)) {
    const branches = avro;
    nullIndex = branches.indexOf('null');
    if (branches.length !== 2 || nullIndex < 0) throw new Unsupported('only unions of null and one type');
    valueIndex = 1 - nullIndex;
    ({ t: avro, ns } = resolveAvro(branches[valueIndex]!, ns, named));
  }
  const base = connectBase(schema, avro, ns, named);
  const dflt = schema.defaultValue;
  const hasDefault = dflt !== undefined && dflt !== null;
  const optional = schema.optional;
  // compileToAvro's null handling (default, then null, else invalid), then avsc's union branch.
  return (o, v) => {
    if (v === null || v === undefined) {
      if (hasDefault) v = dflt;
      else {
        if (!optional || nullIndex < 0) notCovered();
        o.buf[o.pos++] = nullIndex << 1;
        return;
      }
    }
    if (valueIndex >= 0) o.buf[o.pos++] = valueIndex << 1;
    base(o, v);
  };
}

function expectPrimitive(avro: AvroSchema, ...names: string[]): void {
  const p = primitiveOf(avro);
  if (p === undefined || !names.includes(p)) throw new Unsupported(`expected ${names.join('/')}`);
}

function connectBase(schema: Schema, avro: AvroSchema, ns: string | undefined, named: Named): Write {
  switch (schema.name) {
    case DECIMAL_NAME: {
      expectPrimitive(avro, 'bytes');
      const scale = DecimalType.scaleOf(schema);
      return (o, v) => {
        if (!(v instanceof Decimal) || v.scale !== scale) notCovered();
        writeUnscaled(o, (v as Decimal).unscaled);
      };
    }
    case DATE_NAME:
      expectPrimitive(avro, 'int');
      return (o, v) => {
        if (!(v instanceof Date)) notCovered();
        const ms = (v as Date).getTime();
        if (ms % MS_PER_DAY !== 0) notCovered();
        writeInt(o, ms / MS_PER_DAY);
      };
    case TIME_NAME:
      expectPrimitive(avro, 'int');
      return (o, v) => {
        if (!(v instanceof Date)) notCovered();
        const ms = (v as Date).getTime();
        if (!(ms >= 0 && ms < MS_PER_DAY)) notCovered();
        writeInt(o, ms);
      };
    case TIMESTAMP_NAME:
      expectPrimitive(avro, 'long');
      return (o, v) => {
        if (!(v instanceof Date)) notCovered();
        writeLong(o, (v as Date).getTime());
      };
    default:
      break;
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      expectPrimitive(avro, 'int');
      return writeInt;
    case 'float32':
      expectPrimitive(avro, 'float');
      return writeFloat;
    case 'float64':
      expectPrimitive(avro, 'double');
      return writeDouble;
    case 'int64':
      expectPrimitive(avro, 'long');
      return writeLong;
    case 'boolean':
      expectPrimitive(avro, 'boolean');
      return writeBoolean;
    case 'string': {
      if (primitiveOf(avro) === 'string') return writeString;
      if (typeof avro !== 'object' || Array.isArray(avro) || avro.type !== 'enum') throw new Unsupported('string');
      const index = new Map((avro.symbols as string[]).map((x, i) => [x, i]));
      return (o, v) => {
        const i = typeof v === 'string' ? index.get(v) : undefined;
        if (i === undefined) notCovered();
        writeLongNumber(o, i!);
      };
    }
    case 'bytes':
      expectPrimitive(avro, 'bytes');
      return (o, v) => {
        if (!(v instanceof Uint8Array)) notCovered();
        const b = v as Uint8Array;
        writeLongNumber(o, b.length);
        writeRaw(o, Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      };
    case 'array': {
      if (typeof avro !== 'object' || Array.isArray(avro) || avro.type !== 'array') throw new Unsupported('array');
      return writeArray(compileConnect(schema.valueSchema!, avro.items as AvroSchema, ns, named));
    }
    case 'struct': {
      if (typeof avro !== 'object' || Array.isArray(avro) || avro.type !== 'record') throw new Unsupported('struct');
      const fields = schema.fields ?? [];
      const avroFields = avro.fields as Array<{ name: string; type: AvroSchema }>;
      if (!Array.isArray(avroFields) || avroFields.length !== fields.length) throw new Unsupported('record fields');
      const writers = fields.map((f, i) => {
        if (avroFields[i]!.name !== f.name) throw new Unsupported(`field ${f.name}`);
        return compileConnect(f.schema, avroFields[i]!.type, ns, named);
      });
      return (o, v) => {
        // An equal schema that is another object is left to compileToAvro's full check.
        if (!(v instanceof Struct) || v.schema !== schema) notCovered();
        const s = v as Struct;
        for (let i = 0; i < writers.length; i++) writers[i]!(o, s.getAt(fields[i]!));
      };
    }
    default:
      // Maps: their key order on the wire is avsc's (Object.keys), which the general path reproduces.
      throw new Unsupported(schema.type);
  }
}

/** Java BigInteger.toByteArray of the unscaled value as Avro bytes, written in place when it fits a double. */
function writeUnscaled(o: Out, u: bigint): void {
  if (u < SAFE_MIN_BIG || u > SAFE_MAX_BIG) {
    const b = unscaledBytes(u);
    writeLongNumber(o, b.length);
    writeRaw(o, b);
    return;
  }
  let n = Number(u);
  let len = 1;
  while (n < -(2 ** (8 * len - 1)) || n >= 2 ** (8 * len - 1)) len++;
  o.buf[o.pos++] = len << 1; // len ≤ 7: a one-byte varint
  const buf = o.buf;
  for (let i = o.pos + len - 1; i >= o.pos; i--) {
    const byte = ((n % 256) + 256) % 256;
    buf[i] = byte;
    n = (n - byte) / 256;
  }
  o.pos += len;
}

const MS_PER_DAY = 86_400_000;
const SAFE_MIN_BIG = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX_BIG = BigInt(Number.MAX_SAFE_INTEGER);
