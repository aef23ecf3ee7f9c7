import {
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
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  dt.setUTCHours(0, 0, 0, 0);
  return Math.round(dt.getTime() / MS_PER_DAY);
}

const DATE_RE = /^(-?\d{4,})-(\d\d)-(\d\d)$/;
const TS_RE = /^(-?\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;
const TIME_RE = /^(-?\d+):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;

function fail(kind: string, text: string): never {
  throw new DataError(`Cannot read ${kind} value ${JSON.stringify(text)}`);
}

/** `YYYY-MM-DD` → days since epoch (io.debezium.time.Date). */
export function dateToDays(text: string): number {
  const m = DATE_RE.exec(text.trim());
  if (!m) fail('date', text);
  return civilDays(Number(m[1]), Number(m[2]), Number(m[3]));
}

function fracMicros(frac: string | undefined): bigint {
  return BigInt((frac ?? '').padEnd(6, '0').slice(0, 6) || '0');
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` (no zone) → µs since epoch (io.debezium.time.MicroTimestamp). */
export function timestampToMicros(text: string): bigint {
  const m = TS_RE.exec(text.trim());
  if (!m) fail('timestamp', text);
  const days = BigInt(civilDays(Number(m[1]), Number(m[2]), Number(m[3])));
  const secs = BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]));
  return (days * 86_400n + secs) * 1_000_000n + fracMicros(m[7]);
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
  const m = /^(.*?)(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/.exec(t.replace(' ', 'T'));
  const local = m?.[1] ?? t;
  if (!TS_RE.test(local)) fail('timestamp with time zone', text);
  if (m?.[2] && (m[3] !== '00' || (m[4] ?? '00') !== '00' || (m[5] ?? '00') !== '00')) {
    // Not UTC: let Date handle the offset (millisecond precision is all a non-UTC session would keep).
    return new Date(t.replace(' ', 'T')).toISOString();
  }
  return `${local}Z`;
}

export function decimalFrom(raw: unknown, scale: number): Decimal {
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
  return BigInt(String(raw).trim());
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
