import {
  ERPSTREAM_VERSION,
  ConfigDef,
  ConfigError,
  type ConverterPlugin,
  Decimal,
  type HeaderConverterPlugin,
  type RawConfig,
  type Schema,
  type SchemaAndValue,
  Schemas,
  Struct,
} from '../api/index.js';
import { HeaderBackedConverter } from './header-backed-converter.js';

export const STRING_CONVERTER_CLASS = 'org.apache.kafka.connect.storage.StringConverter';

/** Java charset names → Node encodings. */
const ENCODINGS: Record<string, BufferEncoding> = {
  'UTF-8': 'utf8',
  UTF8: 'utf8',
  'UTF-16LE': 'utf16le',
  UTF16LE: 'utf16le',
  'ISO-8859-1': 'latin1',
  ISO8859_1: 'latin1',
  LATIN1: 'latin1',
  'US-ASCII': 'ascii',
  ASCII: 'ascii',
};

export function nodeEncoding(name: string, key: string): BufferEncoding {
  const enc = ENCODINGS[name.toUpperCase()];
  if (!enc) {
    throw ConfigError.invalid(key, name, `Unsupported encoding; supported: ${Object.keys(ENCODINGS).join(', ')}`);
  }
  return enc;
}

const config = new ConfigDef()
  .define({
    name: 'converter.encoding',
    aliases: ['encoding'],
    type: 'STRING',
    defaultValue: 'UTF-8',
    importance: 'HIGH',
    documentation: 'The name of the Java character set to use for encoding strings as byte arrays.',
    validator: {
      ensureValid: (name, value) => void nodeEncoding(String(value), name),
      describe: () => `[${Object.keys(ENCODINGS).join(', ')}]`,
    },
  })
  .define({
    name: 'converter.type',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'key, value or header; set by the worker. Informational here.',
  });

/** How a non-string value is shown as text (Java's toString for the value model). */
export function valueToText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Decimal || value instanceof Struct) return value.toString();
  return String(value);
}

/** Kafka Connect's StringConverter: any value as text; reads back an optional string. Also a header converter. */
export class StringConverter extends HeaderBackedConverter {
  private encoding: BufferEncoding = 'utf8';

  configure(props: RawConfig, _isKey = false): void {
    const c = config.parse(props);
    this.encoding = nodeEncoding(c.string('converter.encoding'), 'converter.encoding');
  }

  fromConnectHeader(_topic: string, _headerKey: string, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return Buffer.from(value);
    return Buffer.from(valueToText(value), this.encoding);
  }

  toConnectHeader(_topic: string, _headerKey: string, bytes: Buffer | null): SchemaAndValue {
    return {
      schema: Schemas.OPTIONAL_STRING,
      value: bytes === null || bytes === undefined ? null : bytes.toString(this.encoding),
    };
  }
}

export const stringConverterPlugin: ConverterPlugin = {
  type: 'converter',
  className: STRING_CONVERTER_CLASS,
  aliases: ['StringConverter'],
  version: ERPSTREAM_VERSION,
  config,
  summary: 'Values as text in a configurable charset; reads back an optional string (Kafka Connect compatible).',
  example: { 'key.converter': STRING_CONVERTER_CLASS },
  create: () => new StringConverter(),
};

export const stringHeaderConverterPlugin: HeaderConverterPlugin = {
  type: 'header_converter',
  className: STRING_CONVERTER_CLASS,
  aliases: ['StringConverter'],
  version: ERPSTREAM_VERSION,
  config,
  summary: 'Header values as text in a configurable charset; read back as optional strings.',
  create: () => new StringConverter(),
};
