import { randomBytes } from 'node:crypto';
import {
  type ErrorCode,
  ErpStreamError,
  isDuplicateKeyError,
  type RedeliveryHook,
  type RedeliveryItem,
  type RedeliveryOutcome,
  type RedeliveryProgress,
} from '../../runtime/api/index.js';
import { type LookupSinkSettings, parseLookupSinkConfig } from './config.js';
import { compareText } from './entity-order.js';
import { DeliveryLedger } from './ledger.js';
import { type SqlClient, openSqlClient } from './sql/client.js';
import {
  chunks,
  createTableIfAbsent,
  inList,
  limitClause,
  rowsPerStatement,
  selectByKeys,
  types,
  updateByKeys,
} from './sql/ddl.js';

/**
 * The durable queue of targeted re-deliveries (repair, replay) of ONE connector: one row per entity, holding what to
 * do (deliver at the origin's current version, or withdraw) and whether it is done. The running task takes pending
 * rows at a bounded rate and puts them through its normal pipeline (delivery chain, version guard, ledger), so a
 * re-delivery can never overwrite newer data and never reaches another connector (rows are keyed by connector).
 *
 * Why a table (in the ledger database) rather than records on the connector's input topic: the input topic is
 * shared with other customers' sinks and other consumers, who must not see synthetic records; and a table gives
 * the progress (done per entity) that makes a repair resumable after a crash: the rows left pending are the rest.
 */

/** Slots an entity id hashes to; a task of n takes the slots s with s % n == its id. */
export const SLOTS = 64;
const CHUNK = 300;
/** Rows per multi-row INSERT (11 placeholders each: under every dialect's parameter limit, SQL Server's 2100). */
const INSERT_ROWS = 150;

/** A pending row a task took. */
export interface QueuedItem extends RedeliveryItem {
  readonly requestId: string;
}

/** FNV-1a of the id, into SLOTS: stable across processes, so each task always takes the same entities. */
export function slotOf(entityId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < entityId.length; i++) {
    h ^= entityId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % SLOTS;
}

export const REDELIVERY_UNSAFE = 'LOOKUP_SINK_REDELIVERY_UNSAFE' satisfies ErrorCode;

/**
 * Why a connector must not re-deliver (null: it may). With more than one task the queue is shared by a hash of the
 * entity id, while an entity's live records reach whichever task holds its input partition (and that moves on every
 * rebalance): the two paths run in different tasks and nothing orders them. A jdbc destination keeps the newest
 * version by its guard; a Kafka topic has none, so a re-delivered version read just before a newer live change could
 * land after it, and the key's versions would go backwards. Ordering the two across tasks would need the entity's
 * input partition (unknown for an entity never delivered) or a per-entity lock on every live batch, taken and
 * released around the pipelined send. The second exists now (entity-locks.ts: with tasks.max > 1 every batch of a
 * kafka or http destination, re-deliveries included, holds its entities' locks from its reads to its ledger write),
 * which orders the two; the refusal stays until a test of re-delivery across tasks proves it can be lifted.
 */
export function redeliveryRefusal(
  s: LookupSinkSettings,
  tasksMax: number,
): { code: ErrorCode; message: string } | null {
  if (s.destination.type !== 'kafka' || tasksMax <= 1) return null;
  return {
    code: REDELIVERY_UNSAFE,
    message:
      `Connector has a Kafka destination and tasks.max=${tasksMax}: a re-delivery could land after a newer live ` +
      'change of the same entity (another task delivers its live records) and the topic would go back a version. ' +
      'Set tasks.max=1 for the repair or replay, then raise it again.',
  };
}

/**
 * In-process notice "re-deliveries were queued for this connector", so a task in this process looks within
 * redelivery.poll.interval.ms instead of at the end of its backed-off wait. Only a hint: the queue table is the
 * truth, and a task in another process finds the rows within redelivery.poll.interval.max.ms.
 */
const queuedListeners = new Set<(connector: string) => void>();
export const redeliveryQueuedBus = {
  subscribe(l: (connector: string) => void): () => void {
    queuedListeners.add(l);
    return () => queuedListeners.delete(l);
  },
  publish(connector: string): void {
    for (const l of queuedListeners) l(connector);
  },
};

/**
 * The wait before the next look at the re-delivery queue: redelivery.poll.interval.ms after a look that found work
 * (or failed: the retry is not pushed back), doubled after each look that found the queue empty, up to
 * redelivery.poll.interval.max.ms (never below the interval).
 */
export function nextRedeliveryWaitMs(
  currentMs: number,
  busy: boolean,
  o: { pollIntervalMs: number; pollIntervalMaxMs: number },
): number {
  if (busy) return o.pollIntervalMs;
  return Math.max(o.pollIntervalMs, Math.min(o.pollIntervalMaxMs, currentMs * 2));
}

/** tasks.max of a connector config (1 when absent or malformed, as the worker treats it). */
export function tasksMaxOf(config: Readonly<Record<string, string>>): number {
  return Math.max(1, Number.parseInt(config['tasks.max'] ?? '1', 10) || 1);
}

/** The slots task `taskId` of `tasks` takes. */
export function slotsOf(taskId: number, tasks: number): number[] {
  const n = Math.max(1, tasks);
  return Array.from({ length: SLOTS }, (_, s) => s).filter((s) => s % n === taskId % n);
}

export class RedeliveryQueue {
  constructor(
    private readonly db: SqlClient,
    private readonly table: string,
  ) {}

  private get t(): string {
    return this.db.quote(this.table);
  }
  private get r(): string {
    return this.db.quote(`${this.table}_requests`);
  }

  async init(): Promise<void> {
    const ty = types(this.db);
    await createTableIfAbsent(
      this.db,
      this.table,
      `connector varchar(191) NOT NULL, entity_id varchar(300) NOT NULL, request_id varchar(64) NOT NULL, ` +
        `action varchar(16) NOT NULL, target varchar(512) NULL, slot int NOT NULL, state varchar(16) NOT NULL, ` +
        `outcome varchar(16) NULL, queued_at ${ty.long} NOT NULL, seq ${ty.long} NOT NULL, done_at ${ty.long} NULL, ` +
        `PRIMARY KEY (connector, entity_id)`,
      [
        { name: 'pending', columns: 'connector, state, slot, seq' },
        { name: 'request', columns: 'request_id, state' },
      ],
    );
    await createTableIfAbsent(
      this.db,
      `${this.table}_requests`,
      `request_id varchar(64) NOT NULL, connector varchar(191) NOT NULL, request_key varchar(300) NOT NULL, ` +
        `operation_id varchar(64) NULL, queued ${ty.long} NOT NULL, created_at ${ty.long} NOT NULL, ` +
        `PRIMARY KEY (request_id)`,
      [{ name: 'key', columns: 'connector, request_key' }],
    );
  }

  /**
   * Queues items for a connector under a request key. An unfinished request with the same key is resumed: the items
   * it already did are not queued again, so a repair run again after a crash finishes the rest. An item pending for
   * another request stays with it (counted as already queued); one done by an older request is queued again.
   */
  async submit(
    connector: string,
    requestKey: string,
    operationId: string | null,
    batches: AsyncIterable<readonly RedeliveryItem[]> | Iterable<readonly RedeliveryItem[]>,
  ): Promise<{ requestId: string; resumed: boolean; queued: number; alreadyQueued: number }> {
    let requestId: string | null = null;
    for (const row of await this.db.query(
      `SELECT request_id FROM ${this.r} WHERE connector = ? AND request_key = ? ORDER BY created_at DESC`,
      [connector, requestKey],
    )) {
      const id = String(row.request_id);
      const [p] = await this.db.query(`SELECT COUNT(*) AS n FROM ${this.t} WHERE request_id = ? AND state = ?`, [
        id,
        'pending',
      ]);
      if (Number(p?.n ?? 0) > 0) {
        requestId = id;
        break;
      }
    }
    const resumed = requestId !== null;
    const id = requestId ?? `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    if (!resumed) {
      await this.db.execute(
        `INSERT INTO ${this.r} (request_id, connector, request_key, operation_id, queued, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
        [id, connector, requestKey.slice(0, 300), operationId, 0, Date.now()],
      );
    }
    let queued = 0;
    let alreadyQueued = 0;
    let seq = Date.now() * 1000;
    for await (const batch of batches) {
      for (const part of chunks(dedupe(batch), rowsPerStatement(this.db, CHUNK))) {
        // An index probe per id on PostgreSQL (selectByKeys): a new queue has no statistics yet.
        const q = selectByKeys(
          this.db,
          'entity_id, request_id, state',
          this.t,
          [['connector', connector]],
          'entity_id',
          part.map((i) => i.entityId),
        );
        const existing = new Map<string, { requestId: string; state: string }>();
        for (const row of await this.db.query(q.sql, q.params)) {
          existing.set(String(row.entity_id), { requestId: String(row.request_id), state: String(row.state) });
        }
        const now = Date.now();
        const inserts: unknown[][] = [];
        for (const item of part) {
          const e = existing.get(item.entityId);
          if (e && (e.state === 'pending' || e.requestId === id)) {
            // Pending already (this request or another), or done by this very request before a crash.
            alreadyQueued++;
            continue;
          }
          const values = [
            id,
            item.action,
            item.target ?? null,
            slotOf(item.entityId),
            'pending',
            null,
            now,
            seq++,
            null,
          ];
          if (e) {
            // Done by an older request: queued again (rare; one statement each).
            await this.db.execute(
              `UPDATE ${this.t} SET request_id = ?, action = ?, target = ?, slot = ?, state = ?, outcome = ?, queued_at = ?, seq = ?, done_at = ? ` +
                `WHERE connector = ? AND entity_id = ?`,
              [...values, connector, item.entityId],
            );
          } else {
            inserts.push([connector, item.entityId, ...values]);
          }
          queued++;
        }
        // New rows many at a time: a replay of a large customer queues hundreds of thousands.
        // In key order: two requests inserting overlapping keys in one statement each would otherwise deadlock.
        inserts.sort((x, y) => compareText(String(x[1]), String(y[1])));
        for (const rows of chunks(inserts, INSERT_ROWS)) {
          const taken = await this.insertItems(rows);
          queued -= rows.length - taken;
          alreadyQueued += rows.length - taken;
        }
      }
    }
    await this.db.execute(`UPDATE ${this.r} SET queued = queued + ? WHERE request_id = ?`, [queued, id]);
    return { requestId: id, resumed, queued, alreadyQueued };
  }

  /**
   * Inserts new queue rows; returns how many it inserted. Two requests for one connector (two repairs side by side)
   * may both have found an entity absent: the later insert then meets the earlier's row, which is pending for that
   * request — the same answer as finding it pending, so it counts as already queued instead of failing the request.
   */
  private async insertItems(rows: unknown[][]): Promise<number> {
    const sql = (n: number) =>
      `INSERT INTO ${this.t} (connector, entity_id, request_id, action, target, slot, state, outcome, queued_at, seq, done_at) ` +
      `VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    try {
      await this.db.execute(sql(rows.length), rows.flat());
      return rows.length;
    } catch (e) {
      if (!isDuplicateKeyError(e)) throw e;
    }
    let taken = 0;
    for (const row of rows) {
      try {
        await this.db.execute(sql(1), row);
        taken++;
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
      }
    }
    return taken;
  }

  /** Pending items of a connector in these slots, oldest queued first. */
  async take(connector: string, slots: readonly number[], limit: number): Promise<QueuedItem[]> {
    const l = limitClause(this.db, limit);
    const match = inList(this.db, 'slot', slots);
    const rows = await this.db.query(
      `SELECT ${l.top}entity_id, request_id, action, target FROM ${this.t} ` +
        `WHERE connector = ? AND state = ? AND ${match.sql} ORDER BY seq${l.limit}`,
      [connector, 'pending', ...match.params],
    );
    return rows.map((r) => ({
      entityId: String(r.entity_id),
      requestId: String(r.request_id),
      action: String(r.action) === 'withdraw' ? 'withdraw' : 'deliver',
      ...(r.target === null || r.target === undefined ? {} : { target: String(r.target) }),
    }));
  }

  /** Marks items done with their outcome (only if still held by the same request: a newer submit wins). */
  async complete(
    connector: string,
    done: ReadonlyArray<{ item: QueuedItem; outcome: RedeliveryOutcome }>,
  ): Promise<void> {
    const groups = new Map<string, string[]>();
    for (const d of done) {
      const k = `${d.item.requestId}\u0000${d.outcome}`;
      groups.set(k, [...(groups.get(k) ?? []), d.item.entityId]);
    }
    const now = Date.now();
    for (const [k, ids] of groups) {
      const [requestId, outcome] = k.split('\u0000') as [string, string];
      for (const part of chunks(ids, rowsPerStatement(this.db, CHUNK))) {
        // PostgreSQL: the rows an index probe per id finds, updated by their tuple ids (updateByKeys): `entity_id =
        // ANY` read every item of the connector per batch while the queue had no statistics (a replay queues hundreds
        // of thousands at once). A row a newer submit rewrote meanwhile stays with that request (its request checked
        // again on the row updated).
        const q = updateByKeys(
          this.db,
          this.t,
          [
            ['state', 'done'],
            ['outcome', outcome],
            ['done_at', now],
          ],
          [['connector', connector]],
          'entity_id',
          part,
          { where: [{ column: 'request_id', op: '=', value: requestId }] },
        );
        await this.db.execute(q.sql, q.params);
      }
    }
  }

  async progress(requestId: string): Promise<RedeliveryProgress> {
    const [req] = await this.db.query(`SELECT connector, queued FROM ${this.r} WHERE request_id = ?`, [requestId]);
    const counts: Record<string, number> = {};
    let pending = 0;
    let total = 0;
    for (const row of await this.db.query(
      `SELECT state, outcome, COUNT(*) AS n FROM ${this.t} WHERE request_id = ? GROUP BY state, outcome`,
      [requestId],
    )) {
      const n = Number(row.n);
      total += n;
      if (String(row.state) === 'pending') pending += n;
      else counts[String(row.outcome)] = (counts[String(row.outcome)] ?? 0) + n;
    }
    return {
      requestId,
      connector: req ? String(req.connector) : '',
      total,
      pending,
      delivered: counts.delivered ?? 0,
      withdrawn: counts.withdrawn ?? 0,
      unchanged: counts.unchanged ?? 0,
      waiting: counts.waiting ?? 0,
      failed: counts.failed ?? 0,
      done: pending === 0,
    };
  }
}

/** The last item per entity wins within a batch. */
function dedupe(items: readonly RedeliveryItem[]): RedeliveryItem[] {
  const m = new Map<string, RedeliveryItem>();
  for (const i of items) m.set(i.entityId, i);
  return [...m.values()];
}

/**
 * The plugin's re-delivery capability (runtime/api/reconcile.ts): the runtime queues work for one connector and
 * watches it; the connector's running task does it. Opens its own connection to the ledger database.
 */
export const openRedelivery: RedeliveryHook = async ({ connector, config }) => {
  const s = parseLookupSinkConfig(config);
  const db = await openSqlClient(s.ledger);
  try {
    const queue = new RedeliveryQueue(db, s.redelivery.table);
    await queue.init();
    const ledger = new DeliveryLedger(db, s.ledgerTable);
    await ledger.init();
    const refusal = redeliveryRefusal(s, tasksMaxOf(config));
    return {
      refusal,
      submit: async (r) => {
        if (refusal) throw new ErpStreamError(refusal.code, `Connector ${connector}: ${refusal.message}`);
        const queued = await queue.submit(connector, r.requestKey, r.operationId, r.items);
        redeliveryQueuedBus.publish(connector);
        return queued;
      },
      progress: (id) => queue.progress(id),
      deliveredSince: (since, pageSize) => ledger.since(s.destination.name, s.entity, since, pageSize),
      close: () => db.close(),
    };
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
};
