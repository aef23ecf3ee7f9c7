import {
  ERPSTREAM_VERSION,
  ConfigDef,
  type ConverterPlugin,
  DataError,
  type HeaderConverterPlugin,
  type RawConfig,
  type Schema,
  type SchemaAndValue,
  Schemas,
  describeValue,
  jsTypeOf,
} from '../api/index.js';
import { HeaderBackedConverter } from './header-backed-converter.js';

/**
 * Connect's primitive converters (org.apache.kafka.connect.converters.{Short,Integer,Long,Float,Double,Boolean}
 * Converter), each also a header converter: the value as Kafka's serializer writes it (big-endian two's
 * complement or IEEE 754; a boolean as one byte 0/1), a null as a null. Reading checks the size as Kafka's
 * deserializers do. A Java value of another class fails the cast there; here a schema of another type, or a
 * value out of the type's range, is the same DataError.
 */
interface Codec {
  /** Kafka's name for the type, as in "Failed to serialize to int". */
  typeName: string;
  deserializer: string;
  schema: Schema;
  size: number;
  write(value: unknown): Buffer | undefined;
  read(bytes: Buffer): unknown;
}

const intCodec = (
  typeName: string,
  deserializer: string,
  schema: Schema,
  size: 2 | 4,
  min: number,
  max: number,
): Codec => ({
  typeName,
  deserializer,
  schema,
  size,
  write(value) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return undefined;
    const b = Buffer.alloc(size);
    if (size === 2) b.writeInt16BE(value);
    else b.writeInt32BE(value);
    return b;
  },
  read: (b) => (size === 2 ? b.readInt16BE(0) : b.readInt32BE(0)),
});

const floatCodec = (typeName: string, deserializer: string, schema: Schema, size: 4 | 8): Codec => ({
  typeName,
  deserializer,
  schema,
  size,
  write(value) {
    if (typeof value !== 'number') return undefined;
    const b = Buffer.alloc(size);
    if (size === 4) b.writeFloatBE(value);
    else b.writeDoubleBE(value);
    return b;
  },
  read: (b) => (size === 4 ? b.readFloatBE(0) : b.readDoubleBE(0)),
});

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const CODECS = {
  Short: intCodec('short', 'ShortDeserializer', Schemas.OPTIONAL_INT16, 2, -32768, 32767),
  Integer: intCodec('integer', 'IntegerDeserializer', Schemas.OPTIONAL_INT32, 4, -(2 ** 31), 2 ** 31 - 1),
  Long: {
    typeName: 'long',
    deserializer: 'LongDeserializer',
    schema: Schemas.OPTIONAL_INT64,
    size: 8,
    write(value) {
      const v = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
      if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) return undefined;
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(v);
      return b;
    },
    read: (b) => b.readBigInt64BE(0),
  },
  Float: floatCodec('float', 'FloatDeserializer', Schemas.OPTIONAL_FLOAT32, 4),
  Double: floatCodec('double', 'DoubleDeserializer', Schemas.OPTIONAL_FLOAT64, 8),
  Boolean: {
    typeName: 'boolean',
    deserializer: 'BooleanDeserializer',
    schema: Schemas.OPTIONAL_BOOLEAN,
    size: 1,
    write: (value) => (typeof value === 'boolean' ? Buffer.from([value ? 1 : 0]) : undefined),
    read(b) {
      if (b[0] === 0) return false;
      if (b[0] === 1) return true;
      throw new DataError(
        `Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: ${b[0]!.toString()}`,
      );
    },
  },
} satisfies Record<string, Codec>;

const config = new ConfigDef().define({
  name: 'converter.type',
  type: 'STRING',
  defaultValue: null,
  importance: 'LOW',
  documentation: 'key, value or header; set by the worker. Informational here.',
});

class PrimitiveConverter extends HeaderBackedConverter {
  constructor(private readonly codec: Codec) {
    super();
  }

  configure(props: RawConfig, _isKey = false): void {
    config.parse(props);
  }

  fromConnectHeader(_topic: string, _key: string, schema: Schema | null, value: unknown): Buffer | null {
    const { typeName, schema: own } = this.codec;
    if (value === null || value === undefined) return null;
    const out = schema === null || schema.type === own.type ? this.codec.write(value) : undefined;
    if (out === undefined) {
      throw new DataError(
        `Failed to serialize to ${typeName} (was ${schema ? `${schema.type} ` : ''}${jsTypeOf(value)} ${describeValue(value)})`,
      );
    }
    return out;
  }

  toConnectHeader(_topic: string, _key: string, bytes: Buffer | null): SchemaAndValue {
    const { typeName, deserializer, size, schema } = this.codec;
    if (bytes === null) return { schema, value: null };
    if (bytes.length !== size) {
      throw new DataError(`Failed to deserialize ${typeName}: Size of data received by ${deserializer} is not ${size}`);
    }
    return { schema, value: this.codec.read(bytes) };
  }
}

const PREFIX = 'org.apache.kafka.connect.converters.';

function plugins(name: keyof typeof CODECS): [ConverterPlugin, HeaderConverterPlugin] {
  const className = `${PREFIX}${name}Converter`;
  const codec: Codec = CODECS[name];
  const base = { className, aliases: [`${name}Converter`], version: ERPSTREAM_VERSION, config };
  return [
    {
      ...base,
      type: 'converter',
      summary: `${codec.schema.type} values as Kafka's ${name}Serializer writes them (Kafka Connect compatible).`,
      example: { 'key.converter': className },
      create: () => new PrimitiveConverter(codec),
    },
    {
      ...base,
      type: 'header_converter',
      summary: `Header values as Kafka's ${name}Serializer writes them.`,
      create: () => new PrimitiveConverter(codec),
    },
  ];
}

const ALL = (['Boolean', 'Double', 'Float', 'Integer', 'Long', 'Short'] as const).map(plugins);
export const primitiveConverterPlugins: ConverterPlugin[] = ALL.map(([c]) => c);
export const primitiveHeaderConverterPlugins: HeaderConverterPlugin[] = ALL.map(([, h]) => h);
