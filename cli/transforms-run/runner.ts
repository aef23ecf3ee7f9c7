import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { type ConnectRecord, isSinkRecord } from '../../runtime/api/index.js';
import { type ExactJsonValue, parseJsonExact, stringifyJsonExact } from '../../runtime/api/exact-json.js';
import type { JsonDataOptions } from '../../runtime/converters/json-data.js';
import { type ConsumedCoordinates, DLQ_HEADERS, errorContextHeaders } from '../../runtime/errors/dlq.js';
import type { Stage } from '../../runtime/errors/retry.js';
import { type TransformChain, TransformError } from '../../runtime/transforms/index.js';
import { RecordLineError, decodeRecordLine, encodeRecordLine } from './record-lines.js';

/**
 * Streams JSONL records through a transform chain: one line in, zero (dropped) or one line out.
 * Errors follow the connector's `errors.tolerance`: `none` stops at the first failing record (as a
 * Connect task fails), `all` writes it to the DLQ file with Connect's `__connect.errors.*` context and
 * goes on. A line that is not JSON at all is a broken input file, not a bad record: it always stops.
 */
export interface RunRecordsOptions {
  chain: TransformChain;
  input: Readable;
  /** Shown in messages: the file name, or "stdin". */
  inputName: string;
  output: Writable;
  /** Where record errors are reported (stderr). */
  errors: Writable;
  /** DLQ file stream, when --dlq was given. */
  dlq: Writable | null;
  tolerance: 'none' | 'all';
  connectorName: string;
  json: JsonDataOptions;
}

export interface RunSummary {
  read: number;
  written: number;
  dropped: number;
  failed: number;
  /** The reader of our output went away (EPIPE, e.g. `| head`): the run ended early, without error. */
  outputClosed: boolean;
  /** Set when processing stopped: what to report and the line it happened on. */
  fatal: { line: number; message: string; kind: 'json' | 'record' } | null;
}

/** What Connect's DLQ context lacks and a chain's author needs; erpstream's own prefix. */
export const DLQ_EXTRA_HEADERS = {
  alias: '__erpstream.errors.transform.alias',
  fieldPath: '__erpstream.errors.field.path',
  inputLine: '__erpstream.errors.input.line',
} as const;

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Position in a one-line JSON text from the parser's "at position N" (0-based) → 1-based column. */
function jsonErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const m = /^(.*) at position (\d+) \(line \d+, column \d+\)$/.exec(message);
  return m ? `invalid JSON at column ${Number(m[2]) + 1} (position ${m[2]}): ${m[1]}` : `invalid JSON: ${message}`;
}

function describeFailure(error: unknown): { stage: Stage; executingClass: string; message: string } {
  if (error instanceof TransformError) {
    return { stage: 'TRANSFORMATION', executingClass: error.className, message: error.message };
  }
  if (error instanceof RecordLineError) {
    return {
      stage: error.stage,
      executingClass: 'org.apache.kafka.connect.json.JsonConverter',
      message: error.message,
    };
  }
  return {
    stage: 'TRANSFORMATION',
    executingClass: 'unknown',
    message: error instanceof Error ? error.message : String(error),
  };
}

export async function runRecords(options: RunRecordsOptions): Promise<RunSummary> {
  const summary: RunSummary = { read: 0, written: 0, dropped: 0, failed: 0, outputClosed: false, fatal: null };
  const lines = createInterface({ input: options.input, crlfDelay: Infinity });
  // A reader that stops early (`| head`) closes our stdout: that ends the run, it is not a record error.
  let outputError: Error | null = null;
  const onOutputError = (error: Error) => (outputError = error);
  options.output.on('error', onOutputError);
  let lineNo = 0;
  try {
    for await (const text of lines) {
      lineNo++;
      if (outputError !== null) break;
      if (text.trim() === '') continue;
      let parsed: ExactJsonValue;
      try {
        parsed = parseJsonExact(text);
      } catch (error) {
        summary.fatal = { line: lineNo, message: jsonErrorMessage(error), kind: 'json' };
        break;
      }
      summary.read++;
      let record: ConnectRecord | null = null;
      let line: string;
      try {
        record = decodeRecordLine(parsed);
        const out = options.chain.apply(record);
        if (out === null) {
          summary.dropped++;
          continue;
        }
        line = stringifyJsonExact(encodeRecordLine(out, options.json)) + '\n';
      } catch (error) {
        summary.failed++;
        const failure = describeFailure(error);
        if (options.tolerance === 'none') {
          summary.fatal = { line: lineNo, message: failure.message, kind: 'record' };
          break;
        }
        await reportTolerated(options, lineNo, parsed, record, error, failure);
        continue;
      }
      try {
        await write(options.output, line);
      } catch (error) {
        outputError = error as Error;
        break;
      }
      summary.written++;
    }
  } finally {
    lines.close();
    options.output.off('error', onOutputError);
  }
  if (outputError !== null) {
    if ((outputError as NodeJS.ErrnoException).code !== 'EPIPE') throw outputError;
    summary.outputClosed = true;
  }
  return summary;
}

async function reportTolerated(
  options: RunRecordsOptions,
  lineNo: number,
  parsed: ExactJsonValue,
  record: ConnectRecord | null,
  error: unknown,
  failure: ReturnType<typeof describeFailure>,
): Promise<void> {
  const where = `${options.inputName}:${lineNo}`;
  if (options.dlq === null) {
    // Connect's errors.tolerance=all without a DLQ skips the record; say so, or it vanishes silently.
    await write(
      options.errors,
      `warning: ${where}: record skipped (errors.tolerance=all, no --dlq): ${failure.message}\n`,
    );
    return;
  }
  const original = parsed as Record<string, ExactJsonValue>;
  const headers: Record<string, unknown> =
    original.headers !== null && typeof original.headers === 'object' && !Array.isArray(original.headers)
      ? { ...(original.headers as Record<string, unknown>) }
      : {};
  const consumed: ConsumedCoordinates | undefined =
    record && isSinkRecord(record)
      ? { topic: record.originalTopic, partition: record.originalKafkaPartition, offset: record.originalKafkaOffset }
      : undefined;
  // Connect reports the exception the plugin threw; our TransformError wrapper adds alias and field.
  const thrown = error instanceof TransformError && error.cause !== undefined ? error.cause : error;
  const context = errorContextHeaders(
    { connector: options.connectorName, task: 0 },
    { stage: failure.stage, className: failure.executingClass, error: thrown, attempts: 1 },
    consumed ? { consumed } : {},
  );
  if (!consumed) headers[DLQ_HEADERS.topic] = typeof original.topic === 'string' ? original.topic : '';
  for (const [name, value] of context) headers[name] = value.toString('utf8');
  if (error instanceof TransformError) {
    headers[DLQ_EXTRA_HEADERS.alias] = error.alias;
    if (error.fieldPath !== undefined) headers[DLQ_EXTRA_HEADERS.fieldPath] = error.fieldPath;
  } else if (error instanceof RecordLineError && error.fieldPath !== undefined) {
    headers[DLQ_EXTRA_HEADERS.fieldPath] = error.fieldPath;
  }
  headers[DLQ_EXTRA_HEADERS.inputLine] = where;
  await write(options.dlq, stringifyJsonExact({ ...original, headers }) + '\n');
}
