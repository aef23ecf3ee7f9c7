/**
 * Decimal bytes without BigInt arithmetic: Connect writes a decimal as the minimal big-endian two's complement of
 * its unscaled value (Java's BigInteger.toByteArray). Almost every unscaled value a database hands out fits a double
 * exactly, and for those the bytes come from plain number arithmetic instead of a BigInt shift loop and a Buffer.
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Scratch for at most 8 bytes (|n| < 2^53 needs 7); the encoders are synchronous, so one is enough. */
const scratch = new Uint8Array(8);

/** Fills `scratch` from its end with the minimal two's complement of a safe integer; returns the first index. */
function twosComplementInto(n: number): number {
  let at = scratch.length;
  let v = n;
  for (;;) {
    // Floor division keeps the sign (an arithmetic shift) and is exact below 2^53.
    const byte = v - Math.floor(v / 256) * 256;
    scratch[--at] = byte;
    v = Math.floor(v / 256);
    const signBit = byte >= 0x80;
    if ((v === 0 && !signBit) || (v === -1 && signBit)) return at;
  }
}

/** Base64 (with padding, as Buffer writes it) of the minimal two's complement of a safe integer. */
export function twosComplementBase64(n: number): string {
  const from = twosComplementInto(n);
  let out = '';
  let i = from;
  const end = scratch.length;
  for (; i + 3 <= end; i += 3) {
    const x = (scratch[i]! << 16) | (scratch[i + 1]! << 8) | scratch[i + 2]!;
    out += B64[x >> 18]! + B64[(x >> 12) & 63]! + B64[(x >> 6) & 63]! + B64[x & 63]!;
  }
  const rest = end - i;
  if (rest === 1) {
    const x = scratch[i]! << 16;
    out += `${B64[x >> 18]!}${B64[(x >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const x = (scratch[i]! << 16) | (scratch[i + 1]! << 8);
    out += `${B64[x >> 18]!}${B64[(x >> 12) & 63]!}${B64[(x >> 6) & 63]!}=`;
  }
  return out;
}

/** The minimal two's complement of a safe integer, as a new Buffer (what Decimal.toBytes returns). */
export function twosComplementBytes(n: number): Buffer {
  const from = twosComplementInto(n);
  return Buffer.from(scratch.subarray(from));
}

/** Base64 of a decimal's unscaled value when it fits a double exactly; undefined when BigInt must do it. */
export function base64OfSmallUnscaled(unscaled: bigint): string | undefined {
  if (unscaled > MAX_SAFE || unscaled < MIN_SAFE) return undefined;
  return twosComplementBase64(Number(unscaled));
}

/** Base64 alphabet → 6-bit value; -1 for anything else (padding included). */
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/**
 * The unscaled value of a decimal written as base64 text `text[start, end)` of 4 or 8 characters (1 to 6 bytes of
 * two's complement, so always a safe integer), read as `Buffer.from(text, 'base64')` and BigInt would read it: at
 * most two `=` at the end, leftover bits of the last character ignored. Undefined for any other text.
 */
export function smallUnscaledOfBase64(text: string, start: number, end: number): number | undefined {
  const len = end - start;
  if (len !== 4 && len !== 8) return undefined;
  let pad = 0;
  if (text.charCodeAt(end - 1) === 61) pad = text.charCodeAt(end - 2) === 61 ? 2 : 1;
  let bits = 0;
  let value = 0;
  for (let i = start; i < end - pad; i++) {
    const ch = text.charCodeAt(i);
    const v = ch < 128 ? B64_VALUE[ch]! : -1;
    if (v < 0) return undefined;
    // Up to 48 bits: multiplication, not shifts, past 32.
    value = value * 64 + v;
    bits += 6;
  }
  const bytes = Math.floor(bits / 8);
  if (bytes === 0) return undefined;
  // Drop the leftover bits of the last character.
  value = Math.floor(value / 2 ** (bits - bytes * 8));
  const range = 2 ** (bytes * 8);
  return value >= range / 2 ? value - range : value;
}
