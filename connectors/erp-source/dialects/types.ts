import {
  boundedText,
  DataError,
  Decimal,
  DecimalType,
  DebeziumData,
  DebeziumTypes,
  type Schema,
  SchemaBuilder,
  Struct,
} from '../../../runtime/api/index.js';

/**
 * Conversions shared by the dialects, from the text (or Buffer) the drivers are configured to return into the
 * Connect values of the documented type map. Text is the exact form: floats never see a decimal or an int64,
 * and timestamps keep their microseconds.
 */

const MS_PER_DAY = 86_400_000;

function civilDays(y: number, m: number, d: number): number {
  if (m >= 1 && m <= 12 && d >= 1 && d <= 31) return daysFromCivil(y, m, d);
  // Out-of-range parts: Date's normalization (2023-02-30 → 2023-03-02) decides.
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  dt.setUTCHours(0, 0, 0, 0);
  return Math.round(dt.getTime() / MS_PER_DAY);
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date, in integer arithmetic (the era algorithm): the same
 * answer as Date.UTC for real dates (day 29–31 past a month's end rolls over the same way), without a Date.
 */
function daysFromCivil(year: number, m: number, d: number): number {
  const y = m <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DATE_RE = /^(-?\d{4,})-(\d\d)-(\d\d)$/;
const TS_RE = /^(-?\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;
const TIME_RE = /^(-?\d+):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;

function fail(kind: string, text: string): never {
  throw new DataError(`Cannot read ${kind} value ${JSON.stringify(boundedText(text, 200))}`);
}

/**
 * The digits text[from, from+n) as a number, or -1 when one is not a digit. The hot parsers below read the
 * fixed-width form PostgreSQL prints without a regex (no match array, no substrings); anything else takes the
 * general regex path.
 */
function digitsAt(text: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** `YYYY-MM-DD` at the start of text (4-digit year): days since epoch, or null when it is not that shape. */
function fixedDate(text: string): number | null {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return null;
  const y = digitsAt(text, 0, 4);
  const m = digitsAt(text, 5, 2);
  const d = digitsAt(text, 8, 2);
  return y < 0 || m < 0 || d < 0 ? null : civilDays(y, m, d);
}

/**
 * `YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}]` (4-digit year) in text[0, end) as µs since epoch (an exact number), or NaN
 * when it is not that shape or too far from 1970 for a double.
 */
function fixedTimestamp(text: string, end: number): number {
  if (end < 19 || end === 20 || end > 29) return NaN;
  const sep = text.charCodeAt(10);
  if ((sep !== 32 && sep !== 84) || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return NaN;
  const days = fixedDate(text);
  const h = digitsAt(text, 11, 2);
  const mi = digitsAt(text, 14, 2);
  const sec = digitsAt(text, 17, 2);
  if (days === null || h < 0 || mi < 0 || sec < 0) return NaN;
  let micros = 0;
  if (end > 19) {
    if (text.charCodeAt(19) !== 46) return NaN;
    const n = end - 20;
    const f = digitsAt(text, 20, Math.min(n, 6));
    if (f < 0 || (n > 6 && digitsAt(text, 26, n - 6) < 0)) return NaN;
    micros = n >= 6 ? f : f * 10 ** (6 - n);
  }
  const secs = days * 86_400 + h * 3600 + mi * 60 + sec;
  // Exact below 2^53 µs (about 1685 to 2255); further out the general path computes with BigInt.
  return Math.abs(secs) < 9e9 ? secs * 1_000_000 + micros : NaN;
}

/** `YYYY-MM-DD` → days since epoch (io.debezium.time.Date). */
export function dateToDays(text: string): number {
  if (text.length === 10) {
    const days = fixedDate(text);
    if (days !== null) return days;
  }
  const m = DATE_RE.exec(text.trim());
  if (!m) fail('date', text);
  return civilDays(Number(m[1]), Number(m[2]), Number(m[3]));
}

function fracMicros(frac: string | undefined): bigint {
  return BigInt((frac ?? '').padEnd(6, '0').slice(0, 6) || '0');
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` (no zone) → µs since epoch (io.debezium.time.MicroTimestamp). */
export function timestampToMicros(text: string): bigint {
  const fixed = fixedTimestamp(text, text.length);
  if (!Number.isNaN(fixed)) return BigInt(fixed);
  const m = TS_RE.exec(text.trim());
  if (!m) fail('timestamp', text);
  const days = civilDays(Number(m[1]), Number(m[2]), Number(m[3]));
  const secs = days * 86_400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0').slice(0, 6));
  const micros = secs * 1_000_000 + frac;
  // Exact in a double up to 2^53 µs (year 2255 either side of 1970); BigInt arithmetic beyond.
  if (Number.isSafeInteger(micros) && Math.abs(secs) < 9e9) return BigInt(micros);
  return (BigInt(days) * 86_400n + BigInt(secs - days * 86_400)) * 1_000_000n + fracMicros(m[7]);
}

/** `HH:MM:SS[.ffffff]` → µs since midnight (io.debezium.time.MicroTime). */
export function timeToMicros(text: string): bigint {
  const m = TIME_RE.exec(text.trim());
  if (!m) fail('time', text);
  const neg = m[1]!.startsWith('-');
  const h = BigInt(Math.abs(Number(m[1])));
  const v = (h * 3600n + BigInt(Number(m[2]) * 60 + Number(m[3]))) * 1_000_000n + fracMicros(m[4]);
  return neg ? -v : v;
}

/**
 * A timestamp with zone as the server printed it in a UTC session (`2024-02-29 21:59:59.654321+00`, or a
 * MySQL TIMESTAMP's `2024-02-29 21:59:59.654321`) → ISO-8601 in UTC (io.debezium.time.ZonedTimestamp).
 */
export function zonedToIso(text: string): string {
  const t = text.trim();
  // PostgreSQL in a UTC session always prints `+00`: the common case needs no offset parsing.
  if (t.endsWith('+00') && !Number.isNaN(fixedTimestamp(t, t.length - 3))) {
    return `${t.slice(0, 10)}T${t.slice(11, t.length - 3)}Z`;
  }
  const m = /^(.*?)(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/.exec(t.replace(' ', 'T'));
  const local = m?.[1] ?? t;
  if (!TS_RE.test(local)) fail('timestamp with time zone', text);
  if (m?.[2] && (m[3] !== '00' || (m[4] ?? '00') !== '00' || (m[5] ?? '00') !== '00')) {
    // Not UTC: let Date handle the offset (millisecond precision is all a non-UTC session would keep).
    return new Date(t.replace(' ', 'T')).toISOString();
  }
  return `${local}Z`;
}

/** A plain decimal as PostgreSQL prints a NUMERIC of a declared scale: `-123.4500`. */
const PLAIN_DECIMAL = /^-?\d+\.\d+$/;

export function decimalFrom(raw: unknown, scale: number): Decimal {
  if (typeof raw === 'string') {
    // Exactly `scale` decimals: the digits are the unscaled value (what Decimal.parse would compute).
    const dot = raw.indexOf('.');
    if (dot > 0 && raw.length - dot - 1 === scale && PLAIN_DECIMAL.test(raw)) {
      return new Decimal(BigInt(raw.slice(0, dot) + raw.slice(dot + 1)), scale);
    }
  }
  const text = typeof raw === 'string' ? raw : typeof raw === 'bigint' ? raw.toString() : undefined;
  if (text === undefined) {
    // A number here means a driver was configured to parse decimals as floats: refuse rather than round.
    throw new DataError(`Decimal value arrived as ${typeof raw}, not as text; precision may have been lost`);
  }
  return Decimal.parse(text, scale);
}

/** io.debezium.data.VariableScaleDecimal: for NUMERIC without a declared scale. */
export const variableScaleDecimalSchema: Schema = SchemaBuilder.struct()
  .name(DebeziumData.VARIABLE_SCALE_DECIMAL)
  .version(1)
  .doc('Variable scaled decimal')
  .field('scale', SchemaBuilder.int32().build())
  .field('value', SchemaBuilder.bytes().build())
  .optional()
  .build();

export function variableScaleDecimal(raw: unknown): Struct {
  const d = Decimal.parse(String(raw));
  return new Struct(variableScaleDecimalSchema).put('scale', d.scale).put('value', d.toBytes());
}

export function toBigInt(raw: unknown): bigint {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw)) throw new DataError(`Integer ${raw} arrived as an unsafe float`);
    return BigInt(raw);
  }
  // BigInt() ignores surrounding white space itself.
  return BigInt(typeof raw === 'string' ? raw : String(raw));
}

export function toBytes(raw: unknown): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (raw instanceof Uint8Array) return Buffer.from(raw);
  return Buffer.from(String(raw), 'utf8');
}

/** A column's Connect schema, optional unless it is a key column (a delete's `before` carries only the key). */
export function columnSchema(builder: SchemaBuilder, optional: boolean): Schema {
  return builder.optional(optional).build();
}

export { DecimalType, DebeziumTypes, SchemaBuilder };
