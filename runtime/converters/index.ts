import type { ConverterPlugin, HeaderConverterPlugin } from '../api/index.js';

/** Converters by their Connect class names (JsonConverter, AvroConverter, StringConverter, ByteArrayConverter). */
export const converterPlugins: ConverterPlugin[] = [];
export const headerConverterPlugins: HeaderConverterPlugin[] = [];
