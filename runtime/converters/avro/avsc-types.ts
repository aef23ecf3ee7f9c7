import avsc from 'avsc';
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
    // `registry` only covers the bare name "long"; {"type": "long", ...} (logical types, connect.* props)
    // comes through this hook.
    typeHook: (s: avsc.Schema) =>
      typeof s === 'object' && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === 'long'
        ? bigintLong
        : undefined,
    wrapUnions: false,
  });
}
