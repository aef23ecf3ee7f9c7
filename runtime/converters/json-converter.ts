import {
  ERPSTREAM_VERSION,
  ConfigDef,
  type Converter,
  type ConverterPlugin,
  DataError,
  type HeaderConverter,
  type HeaderConverterPlugin,
  type Headers,
  type RawConfig,
  type Schema,
  type SchemaAndValue,
  StructValues,
  Validators,
} from '../api/index.js';
import { parseJsonExact, parseJsonValueAt, stringifyJsonExact } from '../api/exact-json.js';
import {
  type DecimalFormat,
  type JsonDataOptions,
  connectSchemaToJson,
  connectToJson,
  inferValue,
  jsonSchemaToConnect,
  jsonToConnect,
} from './json-data.js';
import { type CompiledJsonDecoder, compileJsonDecoder } from './json-decoder.js';
import { DEFAULTS } from './json-values.js';
import { compileJsonEncoder } from './json-encoder.js';
import { LruCache } from './lru-cache.js';

/** A schema's compiled payload writer and the envelope text before the payload (schemas.enable=true). */
interface Compiled {
  readonly schema: Schema;
  readonly encode: (value: unknown) => string;
  /** `{"schema":…,"payload":` as UTF-8; null without schemas. */
  readonly headBytes: Buffer | null;
}

export const JSON_CONVERTER_CLASS = 'org.apache.kafka.connect.json.JsonConverter';

const config = new ConfigDef()
  .define({
    name: 'schemas.enable',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'HIGH',
    documentation:
      'Include schemas within each of the serialized values and keys: {"schema": {...}, "payload": ...}. ' +
      'When false, plain JSON is written and read (schemaless).',
    group: 'Schemas',
  })
  .define({
    name: 'schemas.cache.size',
    type: 'INT',
    defaultValue: 1000,
    importance: 'HIGH',
    documentation: 'Maximum number of schemas that can be cached in this converter instance.',
    validator: Validators.atLeast(0),
    group: 'Schemas',
  })
  .define({
    name: 'decimal.format',
    type: 'STRING',
    defaultValue: 'BASE64',
    importance: 'LOW',
    documentation:
      "How Decimal values are written: BASE64 (the unscaled two's complement, base64, Connect's default) or " +
      'NUMERIC (an exact JSON number, e.g. 12345678901234.5678; never passes through a float).',
    validator: Validators.inIgnoreCase('BASE64', 'NUMERIC'),
    group: 'Serialization',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation: 'Whether a null field with a schema default is written (and read) as the default. False keeps null.',
    group: 'Serialization',
  })
  .define({
    name: 'converter.type',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'key, value or header; set by the worker. Informational here.',
    validator: Validators.inIgnoreCase('key', 'value', 'header'),
  });

/**
 * Characters of schema text the read cache keeps in all (schemas.cache.size still bounds the count). Schemas read
 * from records are data: by count alone, records each with a different 500 KB schema kept ~7.6 MB apiece (the schema
 * and its text), so a few hundred of them ended the worker (out of memory). 4,000,000 keeps a thousand schemas of
 * 4 KB, the size of a wide table's Debezium envelope; one beyond it is parsed again each time, never kept.
 */
export const MAX_CACHED_SCHEMA_CHARS = 4_000_000;

const ENVELOPE_PREFIX = '{"schema":';
const PAYLOAD_PREFIX = ',"payload":';

const ENVELOPE_REQUIRED =
  'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. ' +
  'If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.';

/** Kafka Connect's JsonConverter, byte-compatible with Java's output (see json-values.ts); also a header converter, as in Java. */
export class JsonConverter implements Converter, HeaderConverter {
  /** Writes a source connector's StructValues as the bytes of the Struct they stand for (see StructValues). */
  readonly acceptsStructValues = true;
  private schemasEnabled = true;
  private options: JsonDataOptions = {};
  private fromConnectCache = new LruCache<Schema, string>(1000);
  private toConnectCache = new LruCache<string, Schema | null>(1000, MAX_CACHED_SCHEMA_CHARS);
  /**
   * The schema of the last record read, with its envelope head (`{"schema":…,"payload":` as UTF-8): a record that
   * starts with those bytes only needs its payload decoded and parsed.
   */
  private lastSchema:
    { text: string; schema: Schema | null; head: Buffer; decode: CompiledJsonDecoder | null | undefined } | undefined;
  private compiledCache = new LruCache<Schema, Compiled>(1000);
  /** Records of one table come in runs: the last compiled schema is checked before the LRU cache. */
  private lastCompiled: Compiled | undefined;

  configure(props: RawConfig, _isKey = false): void {
    const c = config.parse(props);
    this.schemasEnabled = c.bool('schemas.enable');
    this.options = {
      decimalFormat: c.string('decimal.format').toUpperCase() as DecimalFormat,
      replaceNullWithDefault: c.bool('replace.null.with.default'),
    };
    const size = c.int('schemas.cache.size');
    this.fromConnectCache = new LruCache(size);
    this.toConnectCache = new LruCache(size, MAX_CACHED_SCHEMA_CHARS);
    this.compiledCache = new LruCache(size);
    this.lastCompiled = undefined;
    // Its compiled decoder was built for the options before.
    this.lastSchema = undefined;
  }

  async fromConnectData(
    _topic: string,
    _headers: Headers,
    schema: Schema | null,
    value: unknown,
  ): Promise<Buffer | null> {
    return this.serialize(schema, value);
  }

  async toConnectData(_topic: string, _headers: Headers, bytes: Buffer | null): Promise<SchemaAndValue> {
    return this.deserialize(bytes);
  }

  fromConnectDataSync(_topic: string, _headers: Headers, schema: Schema | null, value: unknown): Buffer | null {
    return this.serialize(schema, value);
  }

  toConnectDataSync(_topic: string, _headers: Headers, bytes: Buffer | null): SchemaAndValue {
    return this.deserialize(bytes);
  }

  fromConnectHeader(_topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    return this.serialize(schema, value);
  }

  toConnectHeader(_topic: string, _headerKey: string, bytes: Buffer | null): SchemaAndValue {
    return this.deserialize(bytes);
  }

  /** Synchronous forms, for the header converter and the offline runner. */
  serialize(schema: Schema | null, value: unknown): Buffer | null {
    if (schema === null && (value === null || value === undefined)) return null;
    if (schema !== null) {
      const c = this.compiledFor(schema);
      try {
        if (c.headBytes === null) return Buffer.from(c.encode(value), 'utf8');
        // The schema part is the same bytes every time: copied, not encoded again.
        const payload = Buffer.from(c.encode(value), 'utf8');
        const out = Buffer.allocUnsafe(c.headBytes.length + payload.length + 1);
        c.headBytes.copy(out, 0);
        payload.copy(out, c.headBytes.length);
        out[out.length - 1] = 0x7d; // }
        return out;
      } catch {
        // Off the compiled path (NOT_COMPILED), or a value the generic path rejects: the generic path is the
        // reference, so it writes the text or throws its own error, with its own message and field path.
      }
    }
    return this.serializeGeneric(schema, value instanceof StructValues ? value.toStruct() : value);
  }

  /** The reference writer: Connect value → JSON tree → exact text. The compiled writers must match it byte for byte. */
  serializeGeneric(schema: Schema | null, value: unknown): Buffer | null {
    if (schema === null && (value === null || value === undefined)) return null;
    const payload = stringifyJsonExact(connectToJson(schema, value, this.options));
    if (!this.schemasEnabled) return Buffer.from(payload, 'utf8');
    return Buffer.from(`{"schema":${this.schemaText(schema)},"payload":${payload}}`, 'utf8');
  }

  deserialize(bytes: Buffer | null): SchemaAndValue {
    // A tombstone stays a tombstone, with or without schemas.
    if (bytes === null || bytes === undefined) return { schema: null, value: null };
    if (this.schemasEnabled) {
      const fast = this.deserializeKnownEnvelope(bytes);
      if (fast !== undefined) return fast;
    }
    return this.deserializeGeneric(bytes);
  }

  /** The reference reader: bytes → JSON tree → Connect data. The shortcuts of deserialize() must answer as it does. */
  deserializeGeneric(bytes: Buffer | null): SchemaAndValue {
    if (bytes === null || bytes === undefined) return { schema: null, value: null };
    const text = bytes.toString('utf8');
    let schemaSpan: [number, number] | undefined;
    let parsed: unknown;
    try {
      parsed = parseJsonExact(text, (key, start, end) => {
        if (key === 'schema') schemaSpan = [start, end];
      });
    } catch (e) {
      throw new DataError(
        `Converting byte[] to Kafka Connect data failed due to serialization error: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    if (!this.schemasEnabled) return { schema: null, value: inferValue(parsed) };
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      Array.isArray(parsed) ||
      Object.keys(parsed).length !== 2 ||
      !('schema' in parsed) ||
      !('payload' in parsed)
    ) {
      throw new DataError(ENVELOPE_REQUIRED);
    }
    const envelope = parsed as { schema: unknown; payload: unknown };
    const schema = this.schemaFromText(text.slice(schemaSpan![0], schemaSpan![1]), envelope.schema);
    return { schema, value: jsonToConnect(schema, envelope.payload, this.options) };
  }

  /**
   * Envelopes as Java and we write them start with the schema; when it is the one the last record had, only the
   * payload needs decoding and parsing (the schema is most of the bytes). The head is compared as bytes: decoding
   * the whole record to text and comparing the schema as text cost more than parsing the payload. Anything else:
   * undefined, and the general path runs (and reports errors with the full context).
   */
  private deserializeKnownEnvelope(bytes: Buffer): SchemaAndValue | undefined {
    const last = this.lastSchema;
    if (last === undefined) return undefined;
    const head = last.head;
    if (bytes.length <= head.length || bytes.compare(head, 0, head.length, 0, head.length) !== 0) return undefined;
    // The head ends with ASCII (`"payload":`), so the payload starts on a character boundary.
    const text = bytes.toString('utf8', head.length);
    if (last.decode === undefined) {
      last.decode = last.schema === null ? null : compileJsonDecoder(last.schema, { ...DEFAULTS, ...this.options });
    }
    if (last.decode !== null) {
      try {
        const decoded = last.decode(text, 0);
        if (onlyClosingBrace(text, decoded.end)) return { schema: last.schema, value: decoded.value };
      } catch {
        // NOT_COMPILED: the reference below decides (and the general path reports what it rejects).
      }
    }
    let parsed: { value: unknown; end: number };
    try {
      // Inside the envelope's object: depth 1, as the general path counts it.
      parsed = parseJsonValueAt(text, 0, 1);
    } catch {
      return undefined;
    }
    if (!onlyClosingBrace(text, parsed.end)) return undefined;
    return { schema: last.schema, value: jsonToConnect(last.schema, parsed.value, this.options) };
  }

  private compiledFor(schema: Schema): Compiled {
    const last = this.lastCompiled;
    if (last !== undefined && last.schema === schema) return last;
    let c = this.compiledCache.get(schema);
    if (c === undefined) {
      const opts = { decimalFormat: 'BASE64' as const, replaceNullWithDefault: true, ...this.options };
      c = {
        schema,
        encode: compileJsonEncoder(schema, opts),
        headBytes: this.schemasEnabled
          ? Buffer.from(`${ENVELOPE_PREFIX}${this.schemaText(schema)}${PAYLOAD_PREFIX}`, 'utf8')
          : null,
      };
      this.compiledCache.set(schema, c);
    }
    this.lastCompiled = c;
    return c;
  }

  private schemaText(schema: Schema | null): string {
    if (schema === null) return 'null';
    let text = this.fromConnectCache.get(schema);
    if (text === undefined) {
      text = stringifyJsonExact(connectSchemaToJson(schema, this.options));
      this.fromConnectCache.set(schema, text);
    }
    return text;
  }

  private schemaFromText(text: string, json: unknown): Schema | null {
    const cached = this.toConnectCache.get(text);
    if (cached !== undefined) {
      this.rememberSchema(text, cached);
      return cached;
    }
    const schema = jsonSchemaToConnect(json, this.options);
    this.toConnectCache.set(text, schema, text.length);
    this.rememberSchema(text, schema);
    return schema;
  }

  private rememberSchema(text: string, schema: Schema | null): void {
    if (this.lastSchema?.text === text) return;
    this.lastSchema = {
      text,
      schema,
      head: Buffer.from(`${ENVELOPE_PREFIX}${text}${PAYLOAD_PREFIX}`, 'utf8'),
      decode: undefined,
    };
  }
}

/** Whether `text` holds only `}` from `from` on, with optional JSON whitespace around it (the envelope's end). */
function onlyClosingBrace(text: string, from: number): boolean {
  let i = skipJsonWhitespace(text, from);
  if (text.charCodeAt(i) !== 125) return false;
  i = skipJsonWhitespace(text, i + 1);
  return i === text.length;
}

function skipJsonWhitespace(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

export const jsonHeaderConverterPlugin: HeaderConverterPlugin = {
  type: 'header_converter',
  className: JSON_CONVERTER_CLASS,
  aliases: ['JsonConverter'],
  version: ERPSTREAM_VERSION,
  config,
  summary: 'Header values as JSON (with the schema envelope unless schemas.enable=false).',
  create: () => new JsonConverter(),
};

export const jsonConverterPlugin: ConverterPlugin = {
  type: 'converter',
  className: JSON_CONVERTER_CLASS,
  aliases: ['JsonConverter'],
  version: ERPSTREAM_VERSION,
  config,
  summary:
    'JSON with an optional {"schema","payload"} envelope, exact for int64 and decimals (Kafka Connect compatible).',
  example: {
    'value.converter': JSON_CONVERTER_CLASS,
    'value.converter.schemas.enable': 'true',
    'value.converter.decimal.format': 'NUMERIC',
  },
  create: () => new JsonConverter(),
};
