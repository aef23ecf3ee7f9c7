import {
  Decimal,
  javaBigDecimalToString as formatBigDecimal,
  javaDoubleToString as formatDouble,
  javaFloatToString as formatFloat,
  pow10,
} from '../../runtime/api/index.js';

/**
 * Java's number semantics, which Connect's Cast and MaskField inherit: narrowing conversions
 * (`Number.byteValue()` …), `parseX` of strings and `toString` of numbers. Users comparing our output
 * with Connect's see the same values and the same text.
 */

const MS_PER_DAY = 86_400_000;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

export type IntWidth = 8 | 16 | 32 | 64;

/** Java d2i: NaN → 0, saturates at the int range, truncates toward zero. */
function doubleToInt(d: number): number {
  if (Number.isNaN(d)) return 0;
  if (d >= INT32_MAX) return INT32_MAX;
  if (d <= INT32_MIN) return INT32_MIN;
  return Math.trunc(d);
}

/** Java d2l: NaN → 0, saturates at the long range, truncates toward zero. */
function doubleToLong(d: number): bigint {
  if (Number.isNaN(d)) return 0n;
  if (d >= 2 ** 63) return LONG_MAX;
  if (d <= -(2 ** 63)) return LONG_MIN;
  return BigInt(Math.trunc(d));
}

/** BigDecimal.toBigInteger(): the integer part, truncated toward zero. */
function decimalIntegerPart(d: Decimal): bigint {
  const pow = pow10(d.scale, () => `The integer part of a decimal of scale ${d.scale}`);
  return d.scale <= 0 ? d.unscaled * pow : d.unscaled / pow;
}

/**
 * `(byte)`, `(short)`, `(int)`, `(long)` of a Java number: integers wrap to the width (two's complement),
 * floating point saturates to int (or long) first, BigDecimal keeps the low-order bits of its integer
 * part. `isFloat` says whether a JS number stands for a float/double (it cannot tell by itself).
 */
export function narrowToInt(value: number | bigint | Decimal, width: IntWidth, isFloat: boolean): number | bigint {
  let wide: bigint;
  if (value instanceof Decimal) wide = decimalIntegerPart(value);
  else if (typeof value === 'bigint') wide = value;
  else if (isFloat) wide = width === 64 ? doubleToLong(value) : BigInt(doubleToInt(value));
  else wide = BigInt(value);
  const narrowed = BigInt.asIntN(width, wide);
  return width === 64 ? narrowed : Number(narrowed);
}

/** `floatValue()` / `doubleValue()` of a Java number. */
export function toFloat(value: number | bigint | Decimal, width: 32 | 64): number {
  const d = value instanceof Decimal ? value.toNumber() : Number(value);
  return width === 32 ? Math.fround(d) : d;
}

const INT_RANGE: Record<IntWidth, [bigint, bigint]> = {
  8: [-128n, 127n],
  16: [-32768n, 32767n],
  32: [BigInt(INT32_MIN), BigInt(INT32_MAX)],
  64: [LONG_MIN, LONG_MAX],
};

/** Byte/Short/Integer/Long.parseX: optional sign and ASCII digits only; undefined when Java would throw. */
export function parseJavaInt(text: string, width: IntWidth): number | bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const v = BigInt(text);
  const [lo, hi] = INT_RANGE[width];
  if (v < lo || v > hi) return undefined;
  return width === 64 ? v : Number(v);
}

/** Float/Double.parseX: surrounding whitespace, NaN/Infinity and a f/F/d/D suffix are accepted. */
export function parseJavaFloat(text: string, width: 32 | 64): number | undefined {
  // The value is data: both patterns are linear. A `[…]+$` alternative in a global replace, and `\d+\.?\d*` (two ways
  // to split the digits), backtracked quadratically: 30,000 digits or spaces before a letter took 0.7–1.7 s.
  const t = trimJava(text);
  const m = /^([+-]?)(NaN|Infinity|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)$/.exec(t);
  if (!m) return undefined;
  const body = m[2]!.replace(/[fFdD]$/, '');
  const d = body === 'NaN' ? NaN : Number(m[1] + body);
  return width === 32 ? Math.fround(d) : d;
}

const TRIMMED = /[\s\0-\x20]/;

/** `text` without the leading and trailing whitespace and control characters parseFloat ignores. */
function trimJava(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && TRIMMED.test(text[from]!)) from++;
  while (to > from && TRIMMED.test(text[to - 1]!)) to--;
  return text.slice(from, to);
}

/** Boolean.parseBoolean: "true" in any case is true, anything else false. */
export function parseJavaBoolean(text: string): boolean {
  return text.toLowerCase() === 'true';
}

/** Java's Double.toString / Float.toString / BigDecimal.toString (shared with the JSON converter). */
export function javaDoubleToString(d: number): string {
  return formatDouble(d);
}

export function javaFloatToString(f: number): string {
  return formatFloat(f);
}

export function javaBigDecimalToString(d: Decimal): string {
  return formatBigDecimal(d.unscaled, d.scale);
}

/**
 * Connect's Values.dateFormatFor + format, in UTC: before 1970-01-02 the time of day ("HH:mm:ss.SSS'Z'"),
 * at a UTC midnight the date ("yyyy-MM-dd"), otherwise the full ISO-8601 timestamp.
 */
export function connectDateToString(date: Date): string {
  const ms = date.getTime();
  const iso = date.toISOString();
  if (ms < MS_PER_DAY) return iso.slice(11);
  if (ms % MS_PER_DAY === 0) return iso.slice(0, 10);
  return iso;
}
