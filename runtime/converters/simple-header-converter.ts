import {
  ERPSTREAM_VERSION,
  ConfigDef,
  DATE_NAME,
  DataError,
  Decimal,
  type HeaderConverter,
  type HeaderConverterPlugin,
  type RawConfig,
  type Schema,
  type SchemaAndValue,
  Schemas,
  TIME_NAME,
  DateType,
  TimeType,
  TimestampType,
  DecimalType,
} from '../api/index.js';
import { parseJsonExact, stringifyJsonExact } from '../api/exact-json.js';
import { connectToJson, inferValue } from './json-data.js';
import { nodeEncoding } from './string-converter.js';

export const SIMPLE_HEADER_CONVERTER_CLASS = 'org.apache.kafka.connect.storage.SimpleHeaderConverter';

const config = new ConfigDef().define({
  name: 'converter.encoding',
  aliases: ['encoding'],
  type: 'STRING',
  defaultValue: 'UTF-8',
  importance: 'HIGH',
  documentation: 'The name of the Java character set to use for encoding header values as bytes.',
  validator: {
    ensureValid: (name, value) => void nodeEncoding(String(value), name),
    describe: () => '[UTF-8, UTF-16LE, ISO-8859-1, US-ASCII]',
  },
});

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

// Connect's Values formats: yyyy-MM-dd, HH:mm:ss.SSS'Z', yyyy-MM-dd'T'HH:mm:ss.SSS'Z' (UTC).
function formatDate(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
function formatTime(d: Date): string {
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}

/** A header value as text, as Connect's Values.convertToString writes it. */
export function headerValueToString(schema: Schema | null, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Decimal) return value.toString();
  if (value instanceof Date) {
    if (schema?.name === DATE_NAME) return formatDate(value);
    if (schema?.name === TIME_NAME) return formatTime(value);
    return `${formatDate(value)}T${formatTime(value)}`;
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return stringifyJsonExact(connectToJson(schema, value, { decimalFormat: 'NUMERIC' }));
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_RE = /^\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Infers a typed header value from text, a documented subset of Connect's Values.parseString:
 * "" → string; true/false → boolean; null → null; integers → the smallest of int8/int16/int32/int64
 * (Decimal beyond int64); other numbers → float64; Connect's date/time/timestamp formats → those
 * logical types; JSON arrays/objects → schemaless values; anything else → string.
 */
export function parseHeaderString(text: string): SchemaAndValue {
  const t = text.trim();
  if (t === '') return { schema: Schemas.STRING, value: text };
  if (t === 'true' || t === 'false') return { schema: Schemas.BOOLEAN, value: t === 'true' };
  if (t === 'null') return { schema: null, value: null };
  if (INT_RE.test(t)) {
    const n = BigInt(t);
    if (n >= -128n && n <= 127n) return { schema: Schemas.INT8, value: Number(n) };
    if (n >= -32768n && n <= 32767n) return { schema: Schemas.INT16, value: Number(n) };
    if (n >= -2147483648n && n <= 2147483647n) return { schema: Schemas.INT32, value: Number(n) };
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return { schema: Schemas.INT64, value: n };
    return { schema: DecimalType.schema(0), value: new Decimal(n, 0) };
  }
  if (FLOAT_RE.test(t)) return { schema: Schemas.FLOAT64, value: Number(t) };
  if (DATE_RE.test(t) && !Number.isNaN(Date.parse(`${t}T00:00:00Z`))) {
    return { schema: DateType.schema(), value: new Date(`${t}T00:00:00Z`) };
  }
  if (TIME_RE.test(t) && !Number.isNaN(Date.parse(`1970-01-01T${t}`))) {
    return { schema: TimeType.schema(), value: new Date(`1970-01-01T${t}`) };
  }
  if (TIMESTAMP_RE.test(t) && !Number.isNaN(Date.parse(t))) {
    return { schema: TimestampType.schema(), value: new Date(t) };
  }
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
    try {
      return { schema: null, value: inferValue(parseJsonExact(t)) };
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
    }
  }
  return { schema: Schemas.STRING, value: text };
}

/** Connect's default header converter: values as UTF-8 text, types inferred when read back. */
export class SimpleHeaderConverter implements HeaderConverter {
  private encoding: BufferEncoding = 'utf8';

  configure(props: RawConfig): void {
    const c = config.parse(props);
    this.encoding = nodeEncoding(c.string('converter.encoding'), 'converter.encoding');
  }

  fromConnectHeader(_topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    const text = headerValueToString(schema, value);
    return text === null ? null : Buffer.from(text, this.encoding);
  }

  toConnectHeader(_topic: string, _headerKey: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null || bytes === undefined) return { schema: null, value: null };
    return parseHeaderString(bytes.toString(this.encoding));
  }
}

export const simpleHeaderConverterPlugin: HeaderConverterPlugin = {
  type: 'header_converter',
  className: SIMPLE_HEADER_CONVERTER_CLASS,
  aliases: ['SimpleHeaderConverter'],
  version: ERPSTREAM_VERSION,
  config,
  summary: "Header values as text; types inferred on read (Connect's default header converter).",
  create: () => new SimpleHeaderConverter(),
};
