import { Struct } from '../api/index.js';
import { type PartitionRange, type ReadRecord, readRanges, tailRanges, topicOffsets } from '../kafka/topic-reader.js';
import { sinkTopics } from '../worker/connector-settings.js';
import { dlqError, dlqTopicOf, dlqView, originalOf } from './console-dlq.js';
import { HttpError } from './http-error.js';
import type { Inspected, OpsServices } from './ops.js';
import type { RouteContext } from './routes.js';
import { type ScopedConnector, intParam, iso, parkedView, scopedConnectors, textParam } from './console-common.js';

/** The Kafka destination's version header (connectors/lookup-sink/destinations/kafka.ts). */
const VERSION_HEADER = 'erpstream.version';

function field(v: unknown, name: string): unknown {
  if (v instanceof Struct) return v.schema.fields?.some((f) => f.name === name) ? v.get(name) : undefined;
  if (v instanceof Map) return v.get(name);
  if (v !== null && typeof v === 'object') return (v as Record<string, unknown>)[name];
  return undefined;
}

/** A Debezium envelope's `op` and `source.ts_ms` (the commit time at the origin), when the value is one. */
function envelopeOf(value: unknown): { op: string | null; committedAt: number | null } {
  const op = field(value, 'op');
  const ts = field(field(value, 'source'), 'ts_ms');
  const n = typeof ts === 'bigint' ? Number(ts) : typeof ts === 'number' ? ts : null;
  return { op: typeof op === 'string' ? op : null, committedAt: n };
}

const topicsOf = (c: ScopedConnector): readonly string[] => sinkTopics(c.config);

interface Target {
  c: ScopedConnector;
  i: Inspected;
  id: string;
}

/**
 * GET /erpstream/v1/lineage?key=&entity=&customer=&connector=&scan=: one business key's path through every
 * customer's LookupSink of its entity. Ledger, park and origin are read from the databases (exact, cluster-wide);
 * source events, destination offsets and DLQ entries are found by reading the last `scan` records of each partition
 * of the topics involved (all in one pass), so older history than that is not shown.
 */
export async function lineage(ctx: RouteContext, ops: OpsServices) {
  const key = textParam(ctx.query.get('key'), 'key', true)!;
  const entity = textParam(ctx.query.get('entity'), 'entity');
  const customer = textParam(ctx.query.get('customer'), 'customer');
  const connector = textParam(ctx.query.get('connector'), 'connector');
  const scan = intParam(ctx.query, 'scan', 1000, 1, 100_000);
  const scoped = scopedConnectors(ctx, ops, { connector, customer });
  const opened = (
    await Promise.all(
      scoped.map(async (c) => {
        const i = await ops.inspect(c.name, c.config);
        return i && (entity === null || i.admin.entity === entity) ? { c, i } : null;
      }),
    )
  ).filter((x): x is { c: ScopedConnector; i: Inspected } => x !== null);
  if (opened.length === 0) {
    throw new HttpError(
      404,
      `No LookupSink connector${entity !== null ? ` delivers entity ${entity}` : ''}${customer !== null ? ` for customer ${customer}` : ''}`,
    );
  }
  const entities = [...new Set(opened.map((o) => o.i.admin.entity))].sort();
  if (entities.length > 1) {
    throw new HttpError(
      400,
      `Several entities are delivered (${entities.join(', ')}): give entity (the entity parameter; trace --entity on the command line)`,
    );
  }
  const targets: Target[] = opened.map(({ c, i }) => ({ c, i, id: i.admin.parseKey(key) }));
  const first = targets[0]!;
  const [origin, ledgers, parks] = await Promise.all([
    first.i.admin.origin(first.id),
    Promise.all(targets.map((t) => t.i.admin.ledger([t.id]))),
    Promise.all(targets.map((t) => t.i.admin.parkedFor([t.id]))),
  ]);

  // One pass over every topic involved: the sources, the Kafka destinations the ledger names, the DLQs.
  const sourceTopics = new Set(targets.flatMap((t) => topicsOf(t.c)));
  const destTopics = new Set<string>();
  targets.forEach((t, n) => {
    if (t.i.admin.destinationType !== 'kafka') return;
    for (const l of ledgers[n]!) for (const x of l.targets) destTopics.add(x.target);
  });
  const dlqTopics = new Set(targets.flatMap((t) => dlqTopicOf(t.c) ?? []));
  const all = [...new Set([...sourceTopics, ...destTopics, ...dlqTopics])];
  const ranges: PartitionRange[] = tailRanges(await topicOffsets(ops.kafka, all), scan);
  const { records, complete } = await readRanges(ops.kafka, ranges);
  const byTopic = new Map<string, ReadRecord[]>();
  for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);

  const sourceEvents: Array<{
    topic: string;
    partition: number;
    offset: string;
    version: string | null;
    op: string | null;
    timestamp: string | null;
    committedAt: string | null;
  }> = [];
  let newest: { version: bigint | null; committedAt: number | null } | null = null;
  for (const topic of sourceTopics) {
    const readers = targets.filter((t) => topicsOf(t.c).includes(topic));
    for (const r of byTopic.get(topic) ?? []) {
      for (const t of readers) {
        const rec = await t.i.toSinkRecord(r);
        const idv = rec ? t.i.admin.identify(rec) : null;
        if (!rec || idv?.entityId !== t.id) continue;
        const env = envelopeOf(rec.value);
        sourceEvents.push({
          topic: r.topic,
          partition: r.partition,
          offset: r.offset.toString(),
          version: idv.version?.toString() ?? null,
          op: env.op,
          timestamp: iso(r.timestamp),
          committedAt: iso(env.committedAt),
        });
        if (newest === null || (idv.version ?? -1n) >= (newest.version ?? -1n)) {
          newest = { version: idv.version, committedAt: env.committedAt ?? r.timestamp };
        }
        break; // the same record read by several customers' sinks is one event
      }
    }
  }

  const deliveries = targets.flatMap((t, n) =>
    ledgers[n]!.flatMap((l): Array<Record<string, unknown>> => {
      const base = {
        customer: t.c.customer,
        connector: t.c.name,
        destination: t.i.admin.destination,
        destinationType: t.i.admin.destinationType,
        version: l.version.toString(),
        deleted: l.deleted,
        at: iso(l.updatedAt),
      };
      if (l.targets.length === 0) return [{ ...base, target: null }];
      return l.targets.map((x) => {
        // Listed ahead of a send, at no known version: not a delivery (yet), and nothing to look for at the target.
        if (x.pending) return { ...base, version: null, target: x.target, pending: x.pending };
        if (t.i.admin.destinationType === 'kafka') {
          const hit = (byTopic.get(x.target) ?? [])
            .filter(
              (r) =>
                x.kafkaKey !== undefined &&
                (x.kafkaKey === null ? r.key === null : r.key !== null && r.key.equals(x.kafkaKey)) &&
                versionMatches(r, x.version),
            )
            .at(-1);
          return {
            ...base,
            version: x.version.toString(),
            target: x.target,
            kafkaPartition: hit?.partition ?? null,
            kafkaOffset: hit?.offset.toString() ?? null,
          };
        }
        if (t.i.admin.destinationType === 'jdbc')
          return { ...base, version: x.version.toString(), target: x.target, sqlTable: x.target };
        // The ledger holds HTTP deliveries the endpoint accepted (2xx); refusals are in the DLQ with their status.
        return { ...base, version: x.version.toString(), target: withoutUserInfo(x.target), httpStatus: '2xx' };
      });
    }),
  );

  const dlq = [];
  for (const t of targets) {
    const topic = dlqTopicOf(t.c);
    if (topic === null) continue;
    for (const r of byTopic.get(topic) ?? []) {
      const e = dlqError(r, t.i.scrub);
      if (e?.connector !== t.c.name) continue;
      const original = originalOf(r, e);
      const rec = original ? await t.i.toSinkRecord(original) : null;
      if (!rec || t.i.admin.identify(rec)?.entityId !== t.id) continue;
      dlq.push({ customer: t.c.customer, connector: t.c.name, topic, ...dlqView(r, t.i.scrub) });
    }
  }

  const o = newest as { version: bigint | null; committedAt: number | null } | null;
  return {
    key,
    entityId: first.id,
    origin: {
      entity: first.i.admin.entity,
      exists: origin.exists,
      version: origin.version?.toString() ?? o?.version?.toString() ?? null,
      committedAt: iso(o?.committedAt ?? null),
    },
    sourceEvents,
    parked: targets.flatMap((t, n) => parks[n]!.map((p) => parkedView(t.c, t.i.admin, p))),
    deliveries,
    dlq,
    scanned: { perPartition: scan, complete },
  };
}

/** A Kafka delivery carries its version in a header (unless a delivery chain replaced the headers). */
function versionMatches(r: ReadRecord, version: bigint): boolean {
  const h = r.headers.filter(([k]) => k === VERSION_HEADER).at(-1);
  if (!h || h[1] === null) return true;
  return h[1].toString('utf8') === version.toString();
}

/** A URL without the `user:password@` it may carry (answers never hold credentials). */
export function withoutUserInfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}
