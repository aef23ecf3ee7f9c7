import { DLQ_HEADERS } from '../errors/dlq.js';
import { type ReadRecord, type PartitionRange, readRanges, topicOffsets } from '../kafka/topic-reader.js';
import { deadLetterQueueTopic } from '../worker/connector-settings.js';
import { HttpError } from './http-error.js';
import type { Inspected, OpsServices } from './ops.js';
import type { RouteContext } from './routes.js';
import { type ScopedConnector, intParam, iso, scopedConnectors, textParam } from './console-common.js';

/** Bytes for display: UTF-8 text when they are, else base64 (with the encoding named). */
export function shown(b: Buffer | null): { text: string | null; encoding: 'utf8' | 'base64' } {
  if (b === null) return { text: null, encoding: 'utf8' };
  const t = b.toString('utf8');
  // eslint-disable-next-line no-control-regex
  const binary = t.includes('\uFFFD') || /[\u0000-\u0008\u000e-\u001f]/.test(t);
  return binary ? { text: b.toString('base64'), encoding: 'base64' } : { text: t, encoding: 'utf8' };
}

const ERROR_PREFIX = '__connect.errors.';

export function header(r: ReadRecord, name: string): string | null {
  for (let i = r.headers.length - 1; i >= 0; i--) {
    const [k, v] = r.headers[i]!;
    if (k === name) return v === null ? null : v.toString('utf8');
  }
  return null;
}

export interface DlqError {
  stage: string | null;
  className: string | null;
  exceptionClass: string | null;
  message: string | null;
  stacktrace: string | null;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  connector: string | null;
  taskId: number | null;
}

export function dlqError(r: ReadRecord, scrub: (s: string) => string): DlqError | null {
  if (!r.headers.some(([k]) => k.startsWith(ERROR_PREFIX))) return null;
  const text = (name: string) => {
    const v = header(r, name);
    return v === null ? null : scrub(v);
  };
  const int = (name: string) => {
    const v = header(r, name);
    return v !== null && /^-?\d+$/.test(v) ? Number(v) : null;
  };
  const offset = header(r, DLQ_HEADERS.offset);
  return {
    stage: text(DLQ_HEADERS.stage),
    className: text(DLQ_HEADERS.className),
    exceptionClass: text(DLQ_HEADERS.exceptionClassName),
    message: text(DLQ_HEADERS.exceptionMessage),
    stacktrace: text(DLQ_HEADERS.exceptionStacktrace),
    originalTopic: text(DLQ_HEADERS.topic),
    originalPartition: int(DLQ_HEADERS.partition),
    originalOffset: offset !== null && /^\d+$/.test(offset) ? offset : null,
    connector: text(DLQ_HEADERS.connectorName),
    taskId: int(DLQ_HEADERS.taskId),
  };
}

/** The record as it was consumed before it failed: original coordinates, its own headers only. */
export function originalOf(r: ReadRecord, e: DlqError | null): ReadRecord | null {
  if (!e || e.originalTopic === null) return null;
  return {
    topic: e.originalTopic,
    partition: e.originalPartition ?? 0,
    offset: e.originalOffset === null ? -1n : BigInt(e.originalOffset),
    timestamp: r.timestamp,
    key: r.key,
    value: r.value,
    headers: r.headers.filter(([k]) => !k.startsWith(ERROR_PREFIX) && !k.startsWith('__erpstream.redrive.')),
  };
}

export function dlqView(r: ReadRecord, scrub: (s: string) => string) {
  const key = shown(r.key);
  const value = shown(r.value);
  // No prototype: a header named __proto__ is shown like any other.
  const headers = Object.create(null) as Record<string, string | null>;
  for (const [k, v] of r.headers) if (!k.startsWith(ERROR_PREFIX)) headers[k] = shown(v).text;
  return {
    partition: r.partition,
    offset: r.offset.toString(),
    timestamp: iso(r.timestamp),
    key: key.text,
    keyEncoding: key.encoding,
    value: value.text === null ? null : scrub(value.text),
    valueEncoding: value.encoding,
    headers,
    error: dlqError(r, scrub),
  };
}

export function dlqTopicOf(c: ScopedConnector): string | null {
  return deadLetterQueueTopic(c.config);
}

/** `p:o[,p:o…]`, or a bare offset for partition 0: an offset per partition. */
function parseCursor(raw: string | null, name: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  if (raw === null || raw.trim() === '') return out;
  for (const part of raw.split(',')) {
    const m = /^\s*(?:(\d{1,9}):)?(\d{1,19})\s*$/.exec(part);
    if (!m)
      throw new HttpError(
        400,
        `Query parameter ${name} must be <partition>:<offset>[,…], got ${JSON.stringify(raw.slice(0, 60))}`,
      );
    out.set(Number(m[1] ?? 0), BigInt(m[2]!));
  }
  return out;
}

/** One DLQ topic for the request: the connector's, or the one all of the customer's connectors share. */
function dlqScope(ctx: RouteContext, ops: OpsServices, connector: string | null, customer: string | null) {
  if (connector === null && customer === null) throw new HttpError(400, 'Give connector or customer');
  const scoped = scopedConnectors(ctx, ops, { connector, customer }).filter((c) => dlqTopicOf(c) !== null);
  if (scoped.length === 0) {
    throw new HttpError(
      400,
      `${connector !== null ? `Connector ${connector} has` : `The connectors of customer ${customer} have`} no dead-letter queue (errors.deadletterqueue.topic.name)`,
    );
  }
  const topics = [...new Set(scoped.map((c) => dlqTopicOf(c)!))];
  if (topics.length > 1) {
    throw new HttpError(
      400,
      `Customer ${customer} has connectors with different dead-letter topics (${topics.join(', ')}): give connector`,
    );
  }
  return { topic: topics[0]!, connectors: scoped };
}

export function scrubberOf(inspected: Array<Inspected | null>): (s: string) => string {
  const list = inspected.filter((i): i is Inspected => i !== null);
  return (s) => list.reduce((t, i) => i.scrub(t), s);
}

export async function browseDlq(ctx: RouteContext, ops: OpsServices) {
  const limit = intParam(ctx.query, 'limit', 100, 1, 1000);
  const connector = textParam(ctx.query.get('connector'), 'connector');
  const customer = textParam(ctx.query.get('customer'), 'customer');
  const after = parseCursor(ctx.query.get('after'), 'after');
  const before = parseCursor(ctx.query.get('before'), 'before');
  if (after.size > 0 && before.size > 0) throw new HttpError(400, 'Give after or before, not both');
  const { topic, connectors } = dlqScope(ctx, ops, connector, customer);
  const names = new Set(connectors.map((c) => c.name));
  const scrub = scrubberOf(await Promise.all(connectors.map((c) => ops.inspect(c.name, c.config).catch(() => null))));
  const offsets = (await topicOffsets(ops.kafka, [topic])).get(topic) ?? [];
  const max = (x: bigint, y: bigint) => (x > y ? x : y);
  const min = (x: bigint, y: bigint) => (x < y ? x : y);
  const n = BigInt(limit);
  // Each partition's window [from, to): the newest records; after a cursor, the next newer ones; before one, the
  // older ones.
  const windows = offsets.map((p) => {
    const a = after.get(p.partition);
    const b = before.get(p.partition);
    let from: bigint;
    let to: bigint;
    if (after.size > 0) {
      from = max(p.low, a === undefined ? p.low : a + 1n);
      to = min(p.high, from + n);
    } else {
      to = min(p.high, b === undefined ? p.high : b);
      from = max(p.low, to - n);
    }
    return { ...p, from, to: max(from, to) };
  });
  const ranges: PartitionRange[] = windows
    .filter((w) => w.from < w.to)
    .map((w) => ({ topic, partition: w.partition, from: w.from, to: w.to }));
  const { records: read, complete } = await readRanges(ops.kafka, ranges);
  const mine = read.filter((r) => {
    const owner = header(r, DLQ_HEADERS.connectorName);
    return owner === null ? connectors.length === 1 : names.has(owner);
  });
  const records = mine.slice(0, limit).map((r) => dlqView(r, scrub));
  const cursor = (at: (w: (typeof windows)[number]) => bigint) =>
    windows
      .filter((w) => w.high > 0n)
      .map((w) => `${w.partition}:${at(w)}`)
      .join(',');
  const newer = windows.some((w) => w.to < w.high);
  const older = windows.some((w) => w.from > w.low);
  return {
    topic,
    records,
    // `after=<next>` reads the newer records; `before=<prev>` the older ones.
    ...(newer ? { next: cursor((w) => max(w.to - 1n, 0n)) } : {}),
    ...(older ? { prev: cursor((w) => w.from) } : {}),
    ...(complete ? {} : { incomplete: true }),
  };
}
