import { DLQ_HEADERS } from '../errors/dlq.js';
import { REDRIVE_HEADERS } from '../errors/redrive.js';
import { type ReadRecord, type PartitionRange, readRanges, topicOffsets } from '../kafka/topic-reader.js';
import { HttpError } from './http-error.js';
import type { Inspected, OpsServices } from './ops.js';
import { auditLogOf } from './ops-audit.js';
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

function header(r: ReadRecord, name: string): string | null {
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
  const headers: Record<string, string | null> = {};
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
  const t = (c.config['errors.deadletterqueue.topic.name'] ?? '').trim();
  return t === '' ? null : t;
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

function scrubberOf(inspected: Array<Inspected | null>): (s: string) => string {
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

// ---- redrive ------------------------------------------------------------------------------------------------

interface RedriveBody {
  connector: string;
  records?: Array<{ partition: number; offset: bigint }>;
  filter?: {
    entityId?: string;
    stage?: string;
    exceptionClass?: string;
    originalTopic?: string;
    messageContains?: string;
  };
  limit: number;
}

const FILTER_KEYS = ['entityId', 'stage', 'exceptionClass', 'originalTopic', 'messageContains'] as const;

export function parseRedriveBody(body: unknown): RedriveBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(
      400,
      'Request body must be a JSON object: {connector, records?: [{partition, offset}], filter?: {…}}',
    );
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['connector', 'records', 'filter', 'limit'].includes(k))
      throw new HttpError(400, `Unknown field ${JSON.stringify(k.slice(0, 60))} in the redrive request`);
  }
  const connector = textParam(b.connector, 'connector', true)!;
  if ((b.records === undefined) === (b.filter === undefined)) {
    throw new HttpError(
      400,
      'Give exactly one of records (a list of {partition, offset}) or filter (an object; {} = every record of the connector)',
    );
  }
  const out: RedriveBody = { connector, limit: 10_000 };
  if (b.limit !== undefined) {
    if (typeof b.limit !== 'number' || !Number.isInteger(b.limit) || b.limit < 1 || b.limit > 100_000) {
      throw new HttpError(400, 'limit must be an integer from 1 to 100000');
    }
    out.limit = b.limit;
  }
  if (b.records !== undefined) {
    if (!Array.isArray(b.records) || b.records.length === 0 || b.records.length > 1000) {
      throw new HttpError(400, 'records must be a list of 1 to 1000 {partition, offset}');
    }
    out.records = b.records.map((r, i) => {
      const x = r as { partition?: unknown; offset?: unknown } | null;
      const p = x?.partition;
      const o = x?.offset;
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 1_000_000) {
        throw new HttpError(400, `records[${i}].partition must be a partition number`);
      }
      const os = typeof o === 'number' && Number.isSafeInteger(o) ? String(o) : typeof o === 'string' ? o : '';
      if (!/^\d{1,19}$/.test(os))
        throw new HttpError(400, `records[${i}].offset must be an offset (a number or digits)`);
      return { partition: p, offset: BigInt(os) };
    });
  } else {
    const f = b.filter;
    if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new HttpError(400, 'filter must be an object');
    const filter: NonNullable<RedriveBody['filter']> = {};
    for (const [k, v] of Object.entries(f as Record<string, unknown>)) {
      if (!(FILTER_KEYS as readonly string[]).includes(k)) {
        throw new HttpError(400, `Unknown filter ${JSON.stringify(k.slice(0, 60))}; known: ${FILTER_KEYS.join(', ')}`);
      }
      filter[k as (typeof FILTER_KEYS)[number]] = textParam(v, `filter.${k}`, true)!;
    }
    out.filter = filter;
  }
  return out;
}

/** Whether the connector consumes this topic (its `topics` list or `topics.regex`). */
function consumes(c: ScopedConnector, topic: string): boolean {
  const list = (c.config.topics ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (list.includes(topic)) return true;
  const regex = (c.config['topics.regex'] ?? '').trim();
  if (regex === '') return false;
  try {
    return new RegExp(`^(?:${regex})$`).test(topic);
  } catch {
    return false;
  }
}

type Outcome = {
  partition: number;
  offset: string;
  result: 'redriven' | 'skipped';
  reason?: string;
  entityId?: string;
  version?: string;
};

/**
 * Sends DLQ records of ONE connector back to their original topic and partition, marked for that connector only
 * (runtime/errors/redrive.ts): they go through its normal path (converters, transforms, the LookupSink's ledger
 * guard), so a redriven old version is dropped as stale and can never overwrite newer data. Records whose version
 * the destination already holds (or a newer one) are skipped here already, and said so.
 */
export async function redrive(ctx: RouteContext, ops: OpsServices) {
  const log = auditLogOf(ctx.operations);
  const body = parseRedriveBody(ctx.body);
  const [c] = scopedConnectors(ctx, ops, { connector: body.connector, customer: null });
  const connector = c!;
  const topic = dlqTopicOf(connector);
  if (topic === null)
    throw new HttpError(
      400,
      `Connector ${connector.name} has no dead-letter queue (errors.deadletterqueue.topic.name)`,
    );
  const inspected = await ops.inspect(connector.name, connector.config).catch(() => null);
  const scrub = scrubberOf([inspected]);
  const offsets = (await topicOffsets(ops.kafka, [topic])).get(topic) ?? [];
  const ranges: PartitionRange[] = [];
  if (body.records) {
    for (const r of body.records) {
      const p = offsets.find((x) => x.partition === r.partition);
      if (!p || r.offset < p.low || r.offset >= p.high) {
        throw new HttpError(404, `No record at ${topic} partition ${r.partition} offset ${r.offset}`);
      }
      ranges.push({ topic, partition: r.partition, from: r.offset, to: r.offset + 1n });
    }
  } else {
    for (const p of offsets)
      if (p.low < p.high) ranges.push({ topic, partition: p.partition, from: p.low, to: p.high });
  }
  const { records: read, complete } = await readRanges(ops.kafka, ranges, { timeoutMs: 30_000 });
  // A filter must see the whole topic: half a selection sent is worse than none (nothing is sent then).
  if (!complete && body.filter) {
    throw new HttpError(
      504,
      `The dead-letter topic ${topic} could not be read to its end in 30 s; nothing was redriven`,
    );
  }
  const outcomes: Outcome[] = [];
  for (const want of body.records ?? []) {
    if (!read.some((r) => r.partition === want.partition && r.offset === want.offset)) {
      // Compacted away, a transaction marker, or not read in time.
      outcomes.push({
        partition: want.partition,
        offset: want.offset.toString(),
        result: 'skipped',
        reason: 'no record could be read at this offset',
      });
    }
  }
  const toSend: Array<{
    dlq: ReadRecord;
    original: ReadRecord;
    originalPartition: number | null;
    entityId?: string;
    version?: bigint;
  }> = [];
  const skip = (r: ReadRecord, reason: string, extra: Partial<Outcome> = {}) =>
    outcomes.push({ partition: r.partition, offset: r.offset.toString(), result: 'skipped', reason, ...extra });
  for (const r of read) {
    if (toSend.length >= body.limit) break;
    const e = dlqError(r, scrub);
    const owner = e?.connector ?? null;
    if (owner !== connector.name) {
      // A filter only ever selects this connector's records; a record asked for by coordinates is reported.
      if (body.records)
        skip(
          r,
          owner === null
            ? 'no error context headers (errors.deadletterqueue.context.headers.enable)'
            : `belongs to connector ${owner}`,
        );
      continue;
    }
    const original = originalOf(r, e);
    if (!original || !consumes(connector, original.topic)) {
      skip(r, `its original topic ${original?.topic ?? '?'} is not one ${connector.name} consumes`);
      continue;
    }
    let id: { entityId: string; version: bigint | null } | null = null;
    if (inspected) {
      const rec = await inspected.toSinkRecord(original);
      id = rec ? inspected.admin.identify(rec) : null;
    }
    const f = body.filter;
    if (f) {
      if (f.stage !== undefined && e?.stage !== f.stage) continue;
      if (f.exceptionClass !== undefined && e?.exceptionClass !== f.exceptionClass) continue;
      if (f.originalTopic !== undefined && e?.originalTopic !== f.originalTopic) continue;
      if (f.messageContains !== undefined && !(e?.message ?? '').includes(f.messageContains)) continue;
      if (f.entityId !== undefined) {
        const want = inspected ? safeParseKey(inspected, f.entityId) : f.entityId;
        if (id?.entityId !== want) continue;
      }
    }
    toSend.push({
      dlq: r,
      original,
      originalPartition: e?.originalPartition ?? null,
      ...(id ? { entityId: id.entityId } : {}),
      ...(id?.version !== null && id?.version !== undefined ? { version: id.version } : {}),
    });
  }
  // The version guard, said up front: what the destination already holds at this version or newer is not sent.
  const ids = [...new Set(toSend.flatMap((s) => (s.entityId !== undefined ? [s.entityId] : [])))];
  const held = new Map<string, bigint>();
  if (inspected && ids.length > 0) {
    for (const l of await inspected.admin.ledger(ids)) if (!l.deleted) held.set(l.entityId, l.version);
  }
  const sending: typeof toSend = [];
  for (const s of toSend) {
    const h = s.entityId !== undefined ? held.get(s.entityId) : undefined;
    const extra = {
      ...(s.entityId !== undefined ? { entityId: s.entityId } : {}),
      ...(s.version !== undefined ? { version: s.version.toString() } : {}),
    };
    if (h !== undefined && s.version !== undefined && h >= s.version) {
      skip(s.dlq, `stale: the destination holds version ${h}`, extra);
    } else sending.push(s);
  }
  const auditScope = body.records
    ? { records: body.records.map((r) => ({ partition: r.partition, offset: r.offset.toString() })) }
    : { filter: body.filter ?? {} };
  const skipped = outcomes.length;
  // The audit entry first: a worker dying while sending leaves an `interrupted` entry, never no trace. Its id goes
  // into every redriven record, so a delivery can be traced back to who asked for it.
  const entry = await log.begin({
    kind: 'redrive',
    customer: connector.customer,
    connector: connector.name,
    who: ctx.principal,
    scope: { dlqTopic: topic, ...auditScope },
    counts: { selected: sending.length, skipped },
  });
  if (sending.length > 0) {
    let producer;
    try {
      producer = await ops.producer();
      await producer.send(
        sending.map((s) => ({
          topic: s.original.topic,
          // Its original partition keeps it in order with the key's other versions; unknown: the key's hash.
          partition: s.originalPartition,
          key: s.original.key,
          value: s.original.value,
          headers: [
            ...s.original.headers,
            [REDRIVE_HEADERS.connector, Buffer.from(connector.name)],
            [REDRIVE_HEADERS.id, Buffer.from(entry.id)],
          ],
        })),
      );
    } catch (e) {
      const message = scrub(e instanceof Error ? e.message : String(e));
      await log
        .finish(entry.id, { result: 'failed', counts: { redriven: 0, skipped, failed: sending.length }, message })
        .catch(() => {});
      throw new HttpError(502, `Redrive ${entry.id} failed sending to Kafka: ${message}`);
    } finally {
      await producer?.close().catch(() => {});
    }
  }
  for (const s of sending) {
    outcomes.push({
      partition: s.dlq.partition,
      offset: s.dlq.offset.toString(),
      result: 'redriven',
      ...(s.entityId !== undefined ? { entityId: s.entityId } : {}),
      ...(s.version !== undefined ? { version: s.version.toString() } : {}),
    });
  }
  const redriven = sending.length;
  await log.finish(entry.id, {
    result: 'succeeded',
    counts: { redriven, skipped },
    message: `${redriven} redriven to their original topics for ${connector.name}, ${skipped} skipped`,
  });
  outcomes.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  return { redriven, skipped, auditId: entry.id, records: outcomes.slice(0, 1000) };
}

function safeParseKey(i: Inspected, key: string): string | null {
  try {
    return i.admin.parseKey(key);
  } catch {
    return null;
  }
}
