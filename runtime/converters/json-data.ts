/**
 * Connect data ↔ JSON as Kafka Connect's JsonConverter does it: schemas (json-schema.ts) and values
 * (json-values.ts). The offline transform runner and the converter both use these.
 */
export { connectSchemaToJson, jsonSchemaToConnect } from './json-schema.js';
export { connectToJson, jsonToConnect, inferValue } from './json-values.js';
export type { DecimalFormat, JsonDataOptions } from './json-values.js';
export type { ExactJsonValue } from '../api/exact-json.js';
