import {
  DataError,
  Headers,
  RECONCILE_CLASSES,
  type RecordTransforms,
  type SinkRecord,
  type SinkTaskContext,
  type KafkaAccess,
  type ReconcileClass,
  type ReconcileConnectorReport,
  type ReconcileDifference,
  type ReconcileRequest,
  emptyCounts,
} from '../../../runtime/api/index.js';
import { type LookupSinkSettings, parseLookupSinkConfig } from '../config.js';
import { type Candidate, DependencyChecker } from '../dependencies.js';
import { ENTITY_HEADER, ID_HEADER, VERSION_HEADER } from '../destinations/kafka.js';
import { compareText } from '../entity-order.js';
import { DeliveryLedger, INTENT_IN_FLIGHT_MS, intentStateOf } from '../ledger.js';
import { OriginLookup } from '../origin-lookup.js';
import { DeliveryShaper } from '../shaping.js';
import { type Row, type SqlClient, openSqlClient } from '../sql/client.js';
import { type TextTemplate, renderTemplate, rowValue } from '../template.js';
import { type Entry, classify, compareEntries, mergeById } from './compare.js';
import { ExternalSorter } from './external-sort.js';
import { allRowsQuery } from './origin-query.js';

/** Entries per sorted run: with three sides that is the memory bound (a few hundred bytes each). */
const DEFAULT_RUN_ENTRIES = 100_000;
/** Origin rows per cursor fetch and dependency check (one batched check per slice, as the task checks a batch). */
const ORIGIN_SLICE = 2000;
/** More distinct destination targets than this (a template on the id): the destination is not read. */
const MAX_TARGETS = 1000;
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/**
 * Compares what one LookupSink connector should have delivered (its origin, through its lookup and dependencies)
 * with what its ledger recorded and, for jdbc and kafka destinations, with what the destination holds. Each side
 * is streamed (SQL cursors, a topic read to its end) into a bounded external sort by entity id, then the three
 * sorted streams are merge-joined: memory stays at `runEntries` per side whatever the number of entities.
 */
export async function reconcileLookupSink(req: ReconcileRequest): Promise<ReconcileConnectorReport> {
  const started = Date.now();
  const s = parseLookupSinkConfig(req.config);
  // A lookup.query that cannot be widened is refused before any connection is opened.
  const allRows = s.lookupQuery ? allRowsQuery(s.lookupQuery) : null;
  const notes: string[] = [];
  const opened = new Map<string, SqlClient>();
  const open = async (d: LookupSinkSettings['lookup']): Promise<SqlClient> => {
    const k = `${d.url}|${d.user ?? ''}|${d.password ?? ''}`;
    let c = opened.get(k);
    if (!c) {
      c = await openSqlClient(d);
      opened.set(k, c);
    }
    return c;
  };
  const runSize = req.runEntries ?? DEFAULT_RUN_ENTRIES;
  const sorter = () =>
    new ExternalSorter<Entry>(compareEntries, { runSize, ...(req.tempDir ? { tempDir: req.tempDir } : {}) });
  const originSide = sorter();
  const ledgerSide = sorter();
  let destSide: ExternalSorter<Entry> | null = null;
  let input: RecordTransforms<SinkRecord> | null = null;
  let shaper: DeliveryShaper | null = null;
  try {
    // The chains the sink runs: the input chain decides whose record a row is (a DomainRouter drops other
    // customers' rows), the delivery chain may filter a row or refuse it (the DLQ).
    if (req.transforms) {
      if ((req.config.transforms ?? '').trim() !== '') input = await req.transforms(req.config, '');
      shaper = await DeliveryShaper.open({ transforms: req.transforms } as unknown as SinkTaskContext, req.config, {
        deliveryTransforms: s.deliveryTransforms,
        entity: s.entity,
        destination: { type: s.destination.type },
      });
    } else if ((req.config.transforms ?? '').trim() !== '' || s.deliveryTransforms.length > 0) {
      notes.push('The transform chains were not run (no runtime to build them): every routed row is expected.');
    }
    const inputTopic = (req.config.topics ?? '').split(',')[0]?.trim() ?? '';
    let notMine = 0;
    let filtered = 0;
    let refused = 0;
    const originDb = await open(s.lookup);
    const ledgerDb = await open(s.ledger);
    const ledger = new DeliveryLedger(ledgerDb, s.ledgerTable);
    // Distinct targets, to read at the destination; past MAX_TARGETS (a template on the id) no more are kept.
    const targets = new Set<string>();
    let tooManyTargets = false;
    const noteTarget = (t: string) => {
      if (targets.has(t) || tooManyTargets) return;
      if (targets.size >= MAX_TARGETS) tooManyTargets = true;
      else targets.add(t);
    };
    let waiting = 0;
    let sending = 0;
    let unconfirmed = 0;

    // The ledger and the origin are read side by side (each on its own connection); the destination then, once
    // both have named the targets to read.
    const readLedger = async () => {
      if (!(await tableExists(ledgerDb, s.ledgerTable))) {
        notes.push(`The ledger table ${s.ledgerTable} does not exist: nothing was recorded yet.`);
        return;
      }
      const now = Date.now();
      await ledger.scan(s.destination.name, s.entity, async (entries) => {
        req.signal?.throwIfAborted();
        for (const e of entries) {
          for (const t of e.targets) {
            noteTarget(t.target);
            const intent = intentStateOf(t.version, e.updatedAt, now);
            if (intent === 'sending') sending++;
            else if (intent === 'unconfirmed') unconfirmed++;
            await ledgerSide.add([e.entityId, t.target, t.version.toString(), intent === 'sending' ? 'i' : 'h']);
          }
        }
      });
    };

    const template = targetTemplate(s);
    const lookup = new OriginLookup(originDb, s);
    const deps = new DependencyChecker(s.dependencies, ledger, originDb);
    let unroutable = 0;
    if (!originDb.scan) throw new DataError(`Reconcile does not read a ${originDb.kind} origin yet`);
    const sql = s.lookupTable ? `SELECT * FROM ${originDb.quote(s.lookupTable)}` : allRows!;
    const readOrigin = () =>
      originDb.scan!(sql, [], ORIGIN_SLICE, async (rows) => {
        req.signal?.throwIfAborted();
        const candidates: Candidate[] = [];
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!;
          const idText = lookup.rowId(row);
          if (input) {
            // The row as the consumed record's value (as `integrations test` runs it): dropped means not this sink's.
            let kept: SinkRecord | null;
            try {
              kept = input.apply(consumedRecord(inputTopic, idText, row));
            } catch {
              refused++;
              await originSide.add([idText, '', null, 'p']);
              continue;
            }
            if (kept === null) {
              notMine++;
              await originSide.add([idText, '', null, 'w']);
              continue;
            }
          }
          candidates.push({ key: String(i), idText, id: idParts(row, s.keyColumns), row });
        }
        const readiness = await deps.check(candidates);
        for (const c of candidates) {
          const r = readiness.get(c.key)!;
          if (!r.ready) {
            // A registration missing: it belongs nowhere. Any other unmet dependency: the sink waits, so do we.
            if (r.soft) await originSide.add([c.idText, '', null, 'w']);
            else {
              waiting++;
              await originSide.add([c.idText, '', null, 'p']);
            }
            continue;
          }
          let target: string;
          try {
            target = renderTemplate(template, c.row, { entity: s.entity, id: c.idText });
          } catch (e) {
            if (!(e instanceof DataError)) throw e;
            // The sink sends such a row to the DLQ: nothing to expect at any target.
            unroutable++;
            await originSide.add([c.idText, '', null, 'p']);
            continue;
          }
          const version = versionText(c.row, s.versionColumn);
          if (shaper) {
            // A row the delivery chain drops keeps what its target holds; one it refuses goes to the DLQ.
            let shaped: unknown;
            try {
              shaped = shaper.shape(c.row, c.idText, BigInt(version ?? 0), target, null);
            } catch {
              refused++;
              await originSide.add([c.idText, '', null, 'p']);
              continue;
            }
            if (shaped === null) {
              filtered++;
              await originSide.add([c.idText, '', null, 'p']);
              continue;
            }
          }
          noteTarget(target);
          await originSide.add([c.idText, target, version, 'r']);
        }
      });
    const read = await Promise.allSettled([readLedger(), readOrigin()]);
    for (const r of read) if (r.status === 'rejected') throw r.reason;
    if (sending > 0) {
      notes.push(
        `${sending} (entity, target) pairs are being sent (written ahead of a send less than ` +
          `${INTENT_IN_FLIGHT_MS / 60_000} minutes ago, version not known yet): not compared, neither delivered nor drift.`,
      );
    }
    if (unconfirmed > 0) {
      notes.push(
        `${unconfirmed} (entity, target) pairs were written ahead of a send that never confirmed (ledger version -1: ` +
          `a crash or a failed send): reported as drift or stale, a repair sends them again.`,
      );
    }
    if (unroutable > 0) notes.push(`${unroutable} origin rows cannot be routed (the sink dead-letters them).`);
    if (notMine > 0)
      notes.push(`${notMine} origin rows are dropped by the connector's transforms (not this customer's).`);
    if (filtered > 0)
      notes.push(`${filtered} origin rows are filtered by delivery.transforms: their targets keep what they hold.`);
    if (refused > 0)
      notes.push(`${refused} origin rows fail a transform (the sink dead-letters them): left as they are.`);
    if (!s.versionColumn) {
      notes.push('No lookup.version.column: the origin has no version to compare, so nothing is reported stale.');
    }
    if (s.destination.withdrawMode === 'ignore' || s.destination.deleteMode === 'ignore') {
      notes.push('destination.withdraw.mode or delete.mode is ignore: the destination keeps withdrawn rows by design.');
    }

    // The destination itself, where it can be read.
    const readTargets = [...targets].sort(compareText);
    if (s.destination.type === 'http') {
      notes.push('An http destination cannot be read back: the ledger stands for it.');
    } else if (tooManyTargets) {
      notes.push(`More than ${MAX_TARGETS} destination targets: too many to read, the ledger stands for them.`);
    } else if (s.destination.type === 'jdbc') {
      destSide = sorter();
      await readJdbc(await open(s.destination.db), s, readTargets, destSide, notes, req.signal);
    } else if (!req.kafka) {
      notes.push('No Kafka access: the destination topics were not read, the ledger stands for them.');
    } else {
      destSide = sorter();
      if (!(await readKafka(req.kafka, readTargets, destSide, runSize, { ...req, entity: s.entity }, notes))) {
        await destSide.dispose();
        destSide = null;
      }
    }

    // The merge-join.
    const counts = emptyCounts();
    const samples = { missing: [], stale: [], extra: [], drift: [] } as Record<ReconcileClass, ReconcileDifference[]>;
    let originPairs = 0;
    let ledgerPairs = 0;
    let destPairs = 0;
    const versions = s.versionColumn !== null;
    for await (const g of mergeById(originSide.sorted(), ledgerSide.sorted(), destSide?.sorted() ?? null)) {
      originPairs += new Set(g.origin.filter((e) => e[3] === 'r').map((e) => e[1])).size;
      ledgerPairs += g.ledger.length;
      destPairs += g.destination?.length ?? 0;
      for (const f of classify(g, versions)) {
        const d: ReconcileDifference = {
          ...f,
          connector: req.connector,
          entity: s.entity,
          destination: s.destination.name,
        };
        counts[f.kind]++;
        if (samples[f.kind].length < req.sample) samples[f.kind].push(d);
        if (req.onDifference) await req.onDifference(d);
      }
    }
    for (const k of RECONCILE_CLASSES) samples[k].sort((a, b) => compareText(a.entityId, b.entityId));
    return {
      connector: req.connector,
      entity: s.entity,
      destination: s.destination.name,
      destinationType: s.destination.type,
      compared: { destination: destSide !== null, versions },
      totals: { origin: originPairs, ledger: ledgerPairs, destination: destSide ? destPairs : null, waiting },
      counts,
      samples,
      targets: destSide ? readTargets : [],
      notes,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await input?.close().catch(() => {});
    await shaper?.close().catch(() => {});
    await originSide.dispose();
    await ledgerSide.dispose();
    await destSide?.dispose();
    for (const c of opened.values()) await c.close().catch(() => {});
  }
}

/** An origin row as a consumed record's value (schemaless, keyed by its id), for the connector's input chain. */
function consumedRecord(topic: string, id: string, row: Row): SinkRecord {
  return {
    topic,
    kafkaPartition: 0,
    kafkaOffset: 0n,
    keySchema: null,
    key: id,
    valueSchema: null,
    value: { ...row },
    timestamp: 0,
    timestampType: 'CreateTime',
    headers: Headers.of({}),
    originalTopic: topic,
    originalKafkaPartition: 0,
    originalKafkaOffset: 0n,
  };
}

function targetTemplate(s: LookupSinkSettings): TextTemplate {
  const t = s.destination.topic ?? s.destination.table ?? s.destination.http?.url;
  if (!t) throw new DataError(`destination.type=${s.destination.type} has no target template`);
  return t;
}

function idParts(row: Row, columns: readonly string[]): string[] {
  return columns.map((c) => {
    const v = rowValue(row, c);
    return v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
  });
}

function versionText(row: Row, column: string | null): string | null {
  if (!column) return null;
  const v = rowValue(row, column);
  return normalVersion(v);
}

/** A version as canonical decimal text (`0x…` rowversions too), or null when there is none. */
function normalVersion(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  try {
    return BigInt(typeof v === 'string' ? v.trim() : (v as number | bigint)).toString();
  } catch {
    return null;
  }
}

async function tableExists(db: SqlClient, table: string): Promise<boolean> {
  try {
    await db.query(
      db.kind === 'sqlserver'
        ? `SELECT TOP 0 * FROM ${db.quote(table)}`
        : `SELECT * FROM ${db.quote(table)} WHERE 1 = 0`,
    );
    return true;
  } catch {
    return false;
  }
}

async function readJdbc(
  db: SqlClient,
  s: LookupSinkSettings,
  tables: readonly string[],
  side: ExternalSorter<Entry>,
  notes: string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!db.scan) throw new DataError(`Reconcile does not read a ${db.kind} destination yet`);
  const keys = s.destination.keyColumns;
  const version = s.destination.versionColumn;
  for (const table of tables) {
    if (!TABLE_NAME.test(table)) continue;
    if (!(await tableExists(db, table))) {
      notes.push(`Destination table ${table} does not exist.`);
      continue;
    }
    const cols = [...keys, version].map((c) => db.quote(c)).join(', ');
    await db.scan(`SELECT ${cols} FROM ${db.quote(table)}`, [], 2000, async (rows) => {
      signal?.throwIfAborted();
      for (const row of rows) {
        const parts = idParts(row, keys);
        const id = parts.length === 1 ? parts[0]! : JSON.stringify(parts);
        await side.add([id, table, normalVersion(rowValue(row, version)), 'h']);
      }
    });
  }
}

/**
 * A compacted topic's current state: compaction does not order by key, and a key may appear many times, so the
 * records go through a first external sort by (topic, key, arrival) that keeps the last of each key (a tombstone
 * removes it), then into the id-ordered side. The entity id is the `erpstream.id` header (a delivery chain may
 * key records otherwise), else the key.
 */
async function readKafka(
  kafka: KafkaAccess,
  topics: readonly string[],
  side: ExternalSorter<Entry>,
  runSize: number,
  req: ReconcileRequest & { entity: string },
  notes: string[],
): Promise<boolean> {
  type Seen = [key: string, seq: number, id: string, version: string | null, tombstone: 0 | 1];
  const byKey = new ExternalSorter<Seen>((a, b) => compareText(a[0], b[0]) || a[1] - b[1], {
    runSize,
    ...(req.tempDir ? { tempDir: req.tempDir } : {}),
  });
  let seq = 0;
  // A topic nothing was ever delivered to may not exist: it holds nothing (reading it would wait for it to appear).
  const existing = kafka.existingTopics ? new Set(await kafka.existingTopics(topics)) : new Set(topics);
  try {
    for (const topic of topics) {
      if (!existing.has(topic)) {
        notes.push(`Destination topic ${topic} does not exist: it holds nothing.`);
        continue;
      }
      try {
        await kafka.readAll(topic, (key, value, _partition, meta) => {
          const headers = meta?.headers ?? {};
          // Another connector's entity on a shared topic is not this connector's business.
          const entity = headers[ENTITY_HEADER]?.toString('utf8');
          if (entity !== undefined && entity !== req.entity) return;
          const id = headers[ID_HEADER]?.toString('utf8') ?? key?.toString('utf8') ?? '';
          const k = `${topic}\u0000${key === null ? '' : key.toString('base64')}`;
          const v = headers[VERSION_HEADER] === undefined ? null : normalVersion(headers[VERSION_HEADER].toString());
          return byKey.add([k, seq++, id, v, value === null ? 1 : 0]);
        });
      } catch (e) {
        notes.push(`Destination topic ${topic} could not be read (${(e as Error).message}): the ledger stands for it.`);
        return false;
      }
    }
    let last: Seen | null = null;
    const flush = async () => {
      if (last && last[4] === 0) await side.add([last[2], last[0].slice(0, last[0].indexOf('\u0000')), last[3], 'h']);
    };
    for await (const r of byKey.sorted()) {
      if (last && last[0] !== r[0]) await flush();
      last = r;
    }
    await flush();
    return true;
  } finally {
    await byKey.dispose();
  }
}
