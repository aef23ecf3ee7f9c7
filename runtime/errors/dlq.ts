import { boundedText, canonicalJson, type SourceRecord, Struct } from '../api/index.js';
import { messageOf, type ProcessingFailure } from './retry.js';

/** Connect's DeadLetterQueueReporter header names (`__connect.errors.*`). */
export const DLQ_HEADERS = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  connectorName: '__connect.errors.connector.name',
  taskId: '__connect.errors.task.id',
  stage: '__connect.errors.stage',
  className: '__connect.errors.class.name',
  exceptionClassName: '__connect.errors.exception.class.name',
  exceptionMessage: '__connect.errors.exception.message',
  exceptionStacktrace: '__connect.errors.exception.stacktrace',
  /** erpstream extension for source connectors: where the record came from. */
  sourcePartition: '__connect.errors.source.partition',
  sourceOffset: '__connect.errors.source.offset',
} as const;

export interface DlqRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer | null]>;
  timestamp: number | null;
}

/** The original coordinates of a consumed record (sink side). */
export interface ConsumedCoordinates {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface DlqContext {
  connector: string;
  task: number;
}

function errorClassName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

/** The context headers Connect adds when `errors.deadletterqueue.context.headers.enable=true`. */
export function errorContextHeaders(
  ctx: DlqContext,
  failure: ProcessingFailure,
  where: { consumed?: ConsumedCoordinates; source?: SourceRecord },
): Array<[string, Buffer]> {
  const h: Array<[string, string]> = [];
  if (where.consumed) {
    h.push([DLQ_HEADERS.topic, where.consumed.topic]);
    h.push([DLQ_HEADERS.partition, String(where.consumed.partition)]);
    h.push([DLQ_HEADERS.offset, where.consumed.offset.toString()]);
  } else if (where.source) {
    h.push([DLQ_HEADERS.topic, where.source.topic]);
    if (where.source.kafkaPartition !== null) h.push([DLQ_HEADERS.partition, String(where.source.kafkaPartition)]);
    h.push([DLQ_HEADERS.sourcePartition, canonicalJson(where.source.sourcePartition)]);
    h.push([DLQ_HEADERS.sourceOffset, canonicalJson(where.source.sourceOffset)]);
  }
  h.push([DLQ_HEADERS.connectorName, ctx.connector]);
  h.push([DLQ_HEADERS.taskId, String(ctx.task)]);
  h.push([DLQ_HEADERS.stage, failure.stage]);
  h.push([DLQ_HEADERS.className, failure.className]);
  const e = failure.error;
  h.push([DLQ_HEADERS.exceptionClassName, errorClassName(e)]);
  h.push([DLQ_HEADERS.exceptionMessage, boundedText(messageOf(e), MAX_MESSAGE_HEADER)]);
  if (e instanceof Error && e.stack)
    h.push([DLQ_HEADERS.exceptionStacktrace, boundedText(stackWithCauses(e), MAX_STACK_HEADER)]);
  return h.map(([k, v]) => [k, Buffer.from(v, 'utf8')]);
}

/**
 * Characters of the exception's message and of its stack trace (with causes) in the context headers. A message may
 * quote the value that failed, and the stack trace repeats every cause's message: unbounded, a large poison record's
 * DLQ copy grew to several times its size, past the topic's max.message.bytes, and the failed DLQ write failed the
 * task the DLQ was there to keep going. With errors.log.enable the worker's log has all of it.
 */
export const MAX_MESSAGE_HEADER = 4096;
export const MAX_STACK_HEADER = 16_384;

/** Stack trace including the chain of causes, like Java's "Caused by:". */
export function stackWithCauses(e: Error): string {
  let out = e.stack ?? `${e.name}: ${e.message}`;
  let cause = e.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    out += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return out;
}

/**
 * A best-effort JSON rendering of a source record's key or value, for the DLQ when the record never
 * reached a converter (or the converter is what failed). Int64 stays exact, bytes become base64.
 */
export function fallbackBytes(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(jsonOf(value), 'utf8');
}

function jsonOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(jsonOf).join(',')}]`;
  const entries: Array<[string, unknown]> =
    v instanceof Struct
      ? (v.schema.fields ?? []).map((f) => [f.name, v.get(f.name)])
      : v instanceof Map
        ? [...v].map(([k, x]) => [String(k), x])
        : Object.getPrototypeOf(v) === Object.prototype
          ? Object.entries(v as Record<string, unknown>)
          : [['value', String(v)]];
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${jsonOf(x)}`).join(',')}}`;
}
