import {
  type ConnectRecord,
  DataError,
  Decimal,
  type Header,
  type Schema,
  type SinkRecord,
  type SourceRecord,
} from '../../runtime/api/index.js';
import type { ExactJsonValue } from '../../runtime/api/exact-json.js';
import {
  type JsonDataOptions,
  connectSchemaToJson,
  connectToJson,
  jsonSchemaToConnect,
  jsonToConnect,
} from '../../runtime/converters/json-data.js';
import type { Stage as ErrorStage } from '../../runtime/errors/retry.js';

/**
 * One record per JSONL line:
 *   {"topic": "...", "partition": 0, "offset": 42, "key": ..., "value": ..., "headers": {...}, "timestamp": 0}
 * Key, value and each header are plain JSON (schemaless) or a JsonConverter envelope
 * {"schema": ..., "payload": ...}. A line with `offset` becomes a SinkRecord (as a sink task sees it),
 * one without a SourceRecord.
 */

type JsonObject = { [key: string]: ExactJsonValue };

/** A record line that cannot be turned into a record: names the part (key/value/header) that failed. */
export class RecordLineError extends DataError {
  readonly stage: ErrorStage;
  constructor(message: string, stage: ErrorStage, fieldPath?: string, cause?: unknown) {
    super(message, fieldPath, cause === undefined ? {} : { cause });
    this.stage = stage;
  }
}

export function isEnvelope(value: unknown): value is { schema: ExactJsonValue; payload: ExactJsonValue } {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Decimal) return false;
  const keys = Object.keys(value);
  return keys.length === 2 && keys.includes('schema') && keys.includes('payload');
}

/**
 * Schemaless JSON → Connect value: integers are int64 (bigint), as Connect's JsonConverter reads them.
 * Unlike Connect (which reads 12.50 as a double), decimals stay exact Decimals: this tool is for
 * checking money-carrying chains, and a float here would hide exactly the bugs it should show.
 */
export function schemalessFromJson(value: ExactJsonValue): unknown {
  if (value === null) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (typeof value !== 'object' || value instanceof Decimal) return value;
  if (Array.isArray(value)) return value.map(schemalessFromJson);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = schemalessFromJson(v);
  return out;
}

interface Part {
  schema: Schema | null;
  value: unknown;
}

function decodePart(json: ExactJsonValue | undefined, what: string, stage: ErrorStage): Part {
  if (json === undefined) return { schema: null, value: null };
  if (!isEnvelope(json)) return { schema: null, value: schemalessFromJson(json) };
  let schema: Schema | null;
  try {
    schema = jsonSchemaToConnect(json.schema);
  } catch (error) {
    throw new RecordLineError(
      `${what}.schema is not a valid Connect schema: ${(error as Error).message}`,
      stage,
      `${what}.schema`,
      error,
    );
  }
  try {
    return { schema, value: jsonToConnect(schema, json.payload) };
  } catch (error) {
    const field =
      error instanceof DataError && error.fieldPath ? `${what}.payload.${error.fieldPath}` : `${what}.payload`;
    throw new RecordLineError(
      `${what}.payload does not match ${what}.schema: ${(error as Error).message}`,
      stage,
      field,
      error,
    );
  }
}

function optionalInt(obj: JsonObject, name: string): number | bigint | null {
  const v = obj[name];
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return v;
  throw new RecordLineError(
    `"${name}" must be an integer or null, found ${JSON.stringify(String(v))}`,
    'TASK_POLL',
    name,
  );
}

export function decodeRecordLine(json: ExactJsonValue): SourceRecord | SinkRecord {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || json instanceof Decimal) {
    throw new RecordLineError('a record line must be a JSON object with at least "topic"', 'TASK_POLL');
  }
  const obj = json as JsonObject;
  if (typeof obj.topic !== 'string' || obj.topic === '') {
    throw new RecordLineError('"topic" must be a non-empty string', 'TASK_POLL', 'topic');
  }
  const partition = optionalInt(obj, 'partition');
  const timestamp = optionalInt(obj, 'timestamp');
  const offset = optionalInt(obj, 'offset');
  const key = decodePart(obj.key, 'key', 'KEY_CONVERTER');
  const value = decodePart(obj.value, 'value', 'VALUE_CONVERTER');
  const headers: Header[] = [];
  if (obj.headers !== undefined && obj.headers !== null) {
    if (typeof obj.headers !== 'object' || Array.isArray(obj.headers) || obj.headers instanceof Decimal) {
      throw new RecordLineError('"headers" must be an object of header name → value', 'HEADER_CONVERTER', 'headers');
    }
    for (const [name, raw] of Object.entries(obj.headers)) {
      const h = decodePart(raw, `headers.${name}`, 'HEADER_CONVERTER');
      headers.push({ key: name, schema: h.schema, value: h.value });
    }
  }
  const base: ConnectRecord = {
    topic: obj.topic,
    kafkaPartition: partition === null ? null : Number(partition),
    keySchema: key.schema,
    key: key.value,
    valueSchema: value.schema,
    value: value.value,
    timestamp: timestamp === null ? null : Number(timestamp),
    headers: Object.freeze(headers),
  };
  if (offset === null) return { ...base, sourcePartition: {}, sourceOffset: {} };
  const kafkaOffset = BigInt(offset);
  const kafkaPartition = base.kafkaPartition ?? 0;
  return {
    ...base,
    kafkaPartition,
    kafkaOffset,
    timestampType: base.timestamp === null ? 'NoTimestampType' : 'CreateTime',
    originalTopic: base.topic,
    originalKafkaPartition: kafkaPartition,
    originalKafkaOffset: kafkaOffset,
  };
}

function encodePart(schema: Schema | null, value: unknown, what: string, options: JsonDataOptions): unknown {
  try {
    if (schema === null) return connectToJson(null, value, options);
    return { schema: connectSchemaToJson(schema, options), payload: connectToJson(schema, value, options) };
  } catch (error) {
    const stage: ErrorStage =
      what === 'key' ? 'KEY_CONVERTER' : what === 'value' ? 'VALUE_CONVERTER' : 'HEADER_CONVERTER';
    throw new RecordLineError(`${what} cannot be written as JSON: ${(error as Error).message}`, stage, what, error);
  }
}

/** The transformed record in the input's line form; with a schema, key/value are envelopes. */
export function encodeRecordLine(record: ConnectRecord, options: JsonDataOptions): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const h of record.headers) headers[h.key] = encodePart(h.schema, h.value, `headers.${h.key}`, options);
  const line: Record<string, unknown> = { topic: record.topic, partition: record.kafkaPartition };
  if ('kafkaOffset' in record) line.offset = (record as SinkRecord).kafkaOffset;
  line.key = encodePart(record.keySchema, record.key, 'key', options);
  line.value = encodePart(record.valueSchema, record.value, 'value', options);
  line.headers = headers;
  line.timestamp = record.timestamp;
  return line;
}
