import type { ConverterPlugin, HeaderConverterPlugin } from '../api/index.js';
import { avroConverterPlugin } from './avro/avro-converter.js';
import { byteArrayConverterPlugin, byteArrayHeaderConverterPlugin } from './byte-array-converter.js';
import { jsonConverterPlugin, jsonHeaderConverterPlugin } from './json-converter.js';
import { simpleHeaderConverterPlugin } from './simple-header-converter.js';
import { stringConverterPlugin, stringHeaderConverterPlugin } from './string-converter.js';
import { primitiveConverterPlugins, primitiveHeaderConverterPlugins } from './primitive-converters.js';

/** Converters by their Connect class names (Json, Avro, String, ByteArray and the primitive number/boolean ones). */
export const converterPlugins: ConverterPlugin[] = [
  jsonConverterPlugin,
  avroConverterPlugin,
  stringConverterPlugin,
  byteArrayConverterPlugin,
  ...primitiveConverterPlugins,
];
/** Header converters; as in Connect, JsonConverter, StringConverter and ByteArrayConverter are header converters too. */
export const headerConverterPlugins: HeaderConverterPlugin[] = [
  simpleHeaderConverterPlugin,
  jsonHeaderConverterPlugin,
  stringHeaderConverterPlugin,
  byteArrayHeaderConverterPlugin,
  ...primitiveHeaderConverterPlugins,
];

export { JsonConverter, JSON_CONVERTER_CLASS } from './json-converter.js';
export { AvroConverter, AVRO_CONVERTER_CLASS } from './avro/avro-converter.js';
export { StringConverter, STRING_CONVERTER_CLASS } from './string-converter.js';
export { ByteArrayConverter, BYTE_ARRAY_CONVERTER_CLASS } from './byte-array-converter.js';
export { SimpleHeaderConverter, SIMPLE_HEADER_CONVERTER_CLASS } from './simple-header-converter.js';
export { connectSchemaToJson, jsonSchemaToConnect, connectToJson, jsonToConnect, inferValue } from './json-data.js';
export type { DecimalFormat, JsonDataOptions } from './json-data.js';
export { parseJsonExact, stringifyJsonExact, JsonNumberText } from '../api/exact-json.js';
export { connectToAvroSchema, avroToConnectSchema } from './avro/avro-schema.js';
