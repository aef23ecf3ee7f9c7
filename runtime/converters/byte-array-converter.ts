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

export const BYTE_ARRAY_CONVERTER_CLASS = 'org.apache.kafka.connect.converters.ByteArrayConverter';

const config = new ConfigDef().define({
  name: 'converter.type',
  type: 'STRING',
  defaultValue: null,
  importance: 'LOW',
  documentation: 'key, value or header; set by the worker. Informational here.',
});

/** Kafka Connect's ByteArrayConverter: passes bytes through untouched. Also a header converter. */
export class ByteArrayConverter extends HeaderBackedConverter {
  configure(props: RawConfig, _isKey = false): void {
    config.parse(props);
  }

  fromConnectHeader(_topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'bytes') {
      throw new DataError(`Invalid schema type for ByteArrayConverter: ${schema.type}`);
    }
    if (value === null || value === undefined) return null;
    if (!(value instanceof Uint8Array)) {
      throw new DataError(
        `ByteArrayConverter is not compatible with objects of type ${jsTypeOf(value)} ${describeValue(value)}`,
      );
    }
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }

  toConnectHeader(_topic: string, _headerKey: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_BYTES, value: bytes ?? null };
  }
}

export const byteArrayConverterPlugin: ConverterPlugin = {
  type: 'converter',
  className: BYTE_ARRAY_CONVERTER_CLASS,
  aliases: ['ByteArrayConverter'],
  version: ERPSTREAM_VERSION,
  config,
  summary: 'Raw bytes in and out, no conversion (Kafka Connect compatible).',
  example: { 'value.converter': BYTE_ARRAY_CONVERTER_CLASS },
  create: () => new ByteArrayConverter(),
};

export const byteArrayHeaderConverterPlugin: HeaderConverterPlugin = {
  type: 'header_converter',
  className: BYTE_ARRAY_CONVERTER_CLASS,
  aliases: ['ByteArrayConverter'],
  version: ERPSTREAM_VERSION,
  config,
  summary: 'Header values as raw bytes.',
  create: () => new ByteArrayConverter(),
};
