import avsc from 'avsc';
import { DataError } from '../../api/index.js';
import type { AvroSchema } from './avro-schema.js';

/**
 * avsc types with 64-bit longs as bigint (avsc's default long refuses anything beyond 2^53) and
 * unions of null and one type unwrapped (plain values), which is all Connect schemas produce.
 */

// avsc packs the 8 bytes into its own buffer before the next write, so one scratch buffer is enough.
const scratch = Buffer.alloc(8);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

const TWO_32 = 2 ** 32;

/**
 * Writes are fast for the common case (|n| < 2^53: ids, epoch millis) with 32-bit halves instead of
 * BigInt arithmetic; `writeBigInt64LE` covers the rest. Safe-integer numbers are accepted too, so a
 * Timestamp can be written from `Date.getTime()` without a BigInt detour.
 */
function toLongBytes(n: bigint | number): Buffer {
  const v = typeof n === 'bigint' ? (n >= SAFE_MIN && n <= SAFE_MAX ? Number(n) : n) : n;
  if (typeof v === 'number') {
    const high = Math.floor(v / TWO_32);
    scratch.writeUInt32LE(v - high * TWO_32, 0);
    scratch.writeInt32LE(high, 4);
  } else {
    scratch.writeBigInt64LE(v, 0);
  }
  return scratch;
}

function fromLongBytes(buf: Buffer): bigint {
  const high = buf.readInt32LE(4);
  // |value| < 2^53 when the high word fits in 21 bits (sign included): exact as a number.
  if (high >= -0x200000 && high < 0x200000) return BigInt(high * TWO_32 + buf.readUInt32LE(0));
  return buf.readBigInt64LE(0);
}

const bigintLong = avsc.types.LongType.__with({
  fromBuffer: fromLongBytes,
  toBuffer: toLongBytes,
  fromJSON: (x: unknown) => (typeof x === 'bigint' ? x : BigInt(x as number | string)),
  toJSON: (n: bigint) => (n >= SAFE_MIN && n <= SAFE_MAX ? Number(n) : n.toString()),
  isValid: (n: unknown) =>
    typeof n === 'bigint' ? n >= INT64_MIN && n <= INT64_MAX : typeof n === 'number' && Number.isSafeInteger(n),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

export type AvscType = avsc.Type;

export function avscType(schema: AvroSchema): AvscType {
  return avsc.Type.forSchema(schema as avsc.Schema, {
    registry: { long: bigintLong },
    typeHook: (s: avsc.Schema, opts: unknown) => {
      if (typeof s !== 'object' || s === null || Array.isArray(s)) return undefined;
      switch ((s as { type?: unknown }).type) {
        // `registry` only covers the bare name "long"; {"type": "long", ...} (logical types, connect.* props) comes
        // here.
        case 'long':
          return bigintLong;
        case 'array':
          return new BoundedArrayType(s, opts);
        case 'map':
          return new BoundedMapType(s, opts);
        default:
          return undefined;
      }
    },
    wrapUnions: false,
  });
}

/** The part of avsc's Tap (its read cursor over one buffer) that the readers below use. */
interface Tap {
  readonly buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}

interface Reader {
  _read(tap: Tap): unknown;
}

/**
 * Items of no bytes at all (records without fields, fixed of size 0) one record may hold: they cost memory but no
 * input, so the bytes left cannot bound them.
 */
export const MAX_EMPTY_ITEMS = 100_000;

/**
 * avsc reads an array or map block by trusting its count: a 6-byte record claiming 2^31 items pushed items (reading
 * past the end yields zeros) until the worker ran out of memory, and a map's count of 2^40 held the thread for hours.
 * Each item takes at least `minWidth` bytes, so a block may claim at most as many items as the bytes left can hold;
 * these subclasses check that before reading the block (avsc freezes its type instances, so subclassing is the way
 * to replace a reader).
 */
class BoundedArrayType extends avsc.types.ArrayType {
  _read(tap: Tap): unknown[] {
    const items = this.itemsType as unknown as Reader;
    const width = widthOf(this.itemsType);
    let val: unknown[] | undefined;
    let i = 0;
    let n: number;
    while ((n = tap.readLong())) {
      if (n < 0) {
        n = -n;
        tap.skipLong(); // the block's size in bytes
      }
      admit(tap, n, width, 'array');
      val ??= new Array<unknown>(n);
      while (n--) val[i++] = items._read(tap);
    }
    return val ?? [];
  }
}

class BoundedMapType extends avsc.types.MapType {
  _read(tap: Tap): Record<string, unknown> {
    const values = this.valuesType as Reader;
    // A key takes at least its length's byte.
    const width = 1 + widthOf(this.valuesType as avsc.Type);
    const val: Record<string, unknown> = {};
    let n: number;
    while ((n = tap.readLong())) {
      if (n < 0) {
        n = -n;
        tap.skipLong();
      }
      admit(tap, n, width, 'map');
      while (n--) {
        const key = tap.readString();
        const v = values._read(tap);
        // Assigning "__proto__" would set the object's prototype instead of a key.
        if (key === '__proto__') Object.defineProperty(val, key, { value: v, enumerable: true, writable: true });
        else val[key] = v;
      }
    }
    return val;
  }
}

const widths = new WeakMap<avsc.Type, number>();
/** Zero-width items counted so far, per read (one tap per record). */
const emptyItems = new WeakMap<Tap, number>();

function widthOf(type: avsc.Type): number {
  let w = widths.get(type);
  if (w === undefined) {
    w = minWidth(type, new Set());
    widths.set(type, w);
  }
  return w;
}

/** The fewest bytes a value of `type` is written in: a lower bound (a record within itself counts 0). */
function minWidth(type: avsc.Type, within: Set<avsc.Type>): number {
  const name = type.typeName;
  switch (name) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return (type as avsc.types.FixedType).size;
    case 'record':
    case 'error': {
      if (within.has(type)) return 0;
      within.add(type);
      let w = 0;
      for (const f of (type as avsc.types.RecordType).fields) w += minWidth(f.type, within);
      within.delete(type);
      return w;
    }
    default:
      if (name.startsWith('logical:')) return minWidth((type as avsc.types.LogicalType).underlyingType, within);
      // boolean, int, long, enum, string, bytes, array, map, union (its branch index): at least one byte.
      return 1;
  }
}

function admit(tap: Tap, n: number, width: number, what: 'array' | 'map'): void {
  const left = Math.max(tap.buf.length - tap.pos, 0);
  if (width > 0) {
    if (n * width <= left) return;
    throw new DataError(
      `An Avro ${what} block claims ${n} items, but the ${left} bytes left of the record hold at most ${Math.floor(left / width)} (an item takes at least ${width}): the data is corrupt, or was not written with the schema its id names`,
    );
  }
  const total = (emptyItems.get(tap) ?? 0) + n;
  if (total > MAX_EMPTY_ITEMS) {
    throw new DataError(
      `An Avro record claims more than ${MAX_EMPTY_ITEMS} ${what} items of zero bytes (records without fields): the data is corrupt, or was not written with the schema its id names`,
    );
  }
  emptyItems.set(tap, total);
}
