import { REDRIVE_HEADERS } from '../errors/redrive.js';
import { type PartitionRange, type ReadRecord, readRanges, topicOffsets } from '../kafka/topic-reader.js';
import { type SinkSubscription, sinkSubscription } from '../worker/connector-settings.js';
import { type ScopedConnector, scopedConnectors, textParam } from './console-common.js';
import { dlqError, dlqTopicOf, originalOf, scrubberOf } from './console-dlq.js';
import { HttpError } from './http-error.js';
import type { Inspected, OpsServices } from './ops.js';
import { auditLogOf } from './ops-audit.js';
import type { RouteContext } from './routes.js';

/** POST /erpstream/v1/dlq/redrive (docs/console-api.md): DLQ records of one connector back through its pipeline. */

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
  let subscription: SinkSubscription;
  try {
    subscription = sinkSubscription(c.config);
  } catch {
    return false; // a stored config with a bad topics.regex consumes nothing
  }
  if (subscription.topics.includes(topic)) return true;
  const regex = subscription.topicsRegex;
  if (regex === null) return false;
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
  const outcomes: Outcome[] = [];
  const toSend: Array<{
    dlq: ReadRecord;
    original: ReadRecord;
    originalPartition: number | null;
    entityId?: string;
    version?: bigint;
  }> = [];
  const skip = (r: ReadRecord, reason: string, extra: Partial<Outcome> = {}) =>
    outcomes.push({ partition: r.partition, offset: r.offset.toString(), result: 'skipped', reason, ...extra });
  const seen = new Set<string>();
  // Each record is judged as it is read: a whole DLQ topic never has to fit in memory, only what will be sent.
  const consider = async (r: ReadRecord): Promise<void | 'stop'> => {
    seen.add(`${r.partition}:${r.offset}`);
    const e = dlqError(r, scrub);
    const owner = e?.connector ?? null;
    if (owner !== connector.name) {
      // A filter only ever selects this connector's records; a record asked for by coordinates is reported.
      if (body.records) {
        skip(
          r,
          owner === null
            ? 'no error context headers (errors.deadletterqueue.context.headers.enable)'
            : `belongs to connector ${owner}`,
        );
      }
      return;
    }
    const original = originalOf(r, e);
    if (!original || !consumes(connector, original.topic)) {
      skip(r, `its original topic ${original?.topic ?? '?'} is not one ${connector.name} consumes`);
      return;
    }
    let id: { entityId: string; version: bigint | null } | null = null;
    if (inspected) {
      const rec = await inspected.toSinkRecord(original);
      id = rec ? inspected.admin.identify(rec) : null;
    }
    const f = body.filter;
    if (f) {
      if (f.stage !== undefined && e?.stage !== f.stage) return;
      if (f.exceptionClass !== undefined && e?.exceptionClass !== f.exceptionClass) return;
      if (f.originalTopic !== undefined && e?.originalTopic !== f.originalTopic) return;
      if (f.messageContains !== undefined && !(e?.message ?? '').includes(f.messageContains)) return;
      if (f.entityId !== undefined) {
        const want = inspected ? safeParseKey(inspected, f.entityId) : f.entityId;
        if (id?.entityId !== want) return;
      }
    }
    toSend.push({
      dlq: r,
      original,
      originalPartition: e?.originalPartition ?? null,
      ...(id ? { entityId: id.entityId } : {}),
      ...(id?.version !== null && id?.version !== undefined ? { version: id.version } : {}),
    });
    return toSend.length >= body.limit ? 'stop' : undefined;
  };
  const { complete } = await readRanges(ops.kafka, ranges, { timeoutMs: 30_000, onRecord: consider });
  // A filter must see the whole topic: half a selection sent is worse than none (nothing is sent then).
  if (!complete && body.filter) {
    throw new HttpError(
      504,
      `The dead-letter topic ${topic} could not be read to its end in 30 s; nothing was redriven`,
    );
  }
  for (const want of body.records ?? []) {
    if (!seen.has(`${want.partition}:${want.offset}`)) {
      // Compacted away, a transaction marker, or not read in time.
      outcomes.push({
        partition: want.partition,
        offset: want.offset.toString(),
        result: 'skipped',
        reason: 'no record could be read at this offset',
      });
    }
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
