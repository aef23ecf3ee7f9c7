import type { SqlStatement } from './destinations/destination.js';
import { byEntityId } from './entity-order.js';
import type { SqlClient } from './sql/client.js';
import {
  addColumnIfAbsent,
  chunks,
  createTableIfAbsent,
  guardedUpsertRows,
  limitClause,
  rowsPerStatement,
  selectByKeys,
  types,
  versionColumn,
} from './sql/ddl.js';

/** What the ledger holds for one (destination, entity, id). */
export interface LedgerEntry {
  readonly version: bigint;
  /** Where it went (topic or table); a delete goes there once the origin row is gone. */
  readonly target: string | null;
  readonly deleted: boolean;
  /**
   * The record key the destination wrote when the delivery chain chose one (destination-encoded), so a later
   * delete or move removes exactly that key; null when the key was the entity id.
   */
  readonly deliveredKey: string | null;
  /**
   * Every place that holds this version (fan-out: one per registration), each with the key it was written under.
   * Empty when deleted or withdrawn everywhere. `target`/`deliveredKey` repeat the first, for older readers.
   */
  readonly targets: readonly TargetRef[];
  /** When the row was last written (epoch ms); only on entries read back from the table (inspection). */
  readonly updatedAt?: number;
}

/** One place an entity was delivered to: the version it holds and the key it was written under (null: the id). */
export interface TargetRef {
  readonly target: string;
  readonly deliveredKey: string | null;
  readonly version: bigint;
}

/** A ledger entry for these targets (the first one is also kept in the single-target columns). */
export function entryOf(
  version: bigint,
  targets: readonly TargetRef[],
  deleted: boolean,
  previous?: LedgerEntry,
): LedgerEntry {
  const first = targets[0] ?? null;
  return {
    version,
    deleted,
    targets,
    // A deleted entry keeps where it was last, as it always did.
    target: first?.target ?? previous?.target ?? null,
    deliveredKey: first ? first.deliveredKey : (previous?.deliveredKey ?? null),
  };
}

/** The targets a ledger row holds (its `targets` JSON, or the single target of a row written before fan-out). */
export function targetsOf(
  r: Record<string, unknown>,
  version: bigint,
  target: string | null,
  deliveredKey: string | null,
  deleted: boolean,
): TargetRef[] {
  if (deleted) return [];
  const json = r.targets;
  if (json !== null && json !== undefined) {
    return (JSON.parse(String(json)) as Array<[string, string | null, string]>).map(([t, k, v]) => ({
      target: t,
      deliveredKey: k,
      version: BigInt(v),
    }));
  }
  // A ledger row written before fan-out: its single target.
  return target === null ? [] : [{ target, deliveredKey, version }];
}

/**
 * How long a target written ahead of a send (version -1, intend()) reads as a send in flight: a send and its ledger
 * write take seconds, and a retried batch writes its intents again. Older, the send never confirmed (a crash between
 * the send and record(), or a send that failed for good): the target may or may not hold the entity, and only a
 * replay (repair) finds out.
 */
export const INTENT_IN_FLIGHT_MS = 5 * 60_000;

/** A target held at an unknown version: `sending` while its send may be in flight, `unconfirmed` after. */
export type IntentState = 'sending' | 'unconfirmed';

/** The intent state of a target of an entry written at `updatedAt`, or null for a delivered version. */
export function intentStateOf(version: bigint, updatedAt: number | undefined, now: number): IntentState | null {
  if (version >= 0n) return null;
  return updatedAt !== undefined && now - updatedAt < INTENT_IN_FLIGHT_MS ? 'sending' : 'unconfirmed';
}

/** What one remember() call put in memory, for forget(). */
export type Remembered = ReadonlyMap<string, LedgerEntry>;

export interface LedgerWrite extends LedgerEntry {
  readonly entityId: string;
  /**
   * A forced re-delivery decided at the origin's version: it replaces the entry even when that holds a higher version
   * (a ledger claim the destination and the origin do not back is what a repair corrects). Only written under the
   * task's mutex, so no live decision of the same entity interleaves.
   */
  readonly replace?: boolean;
}

const COLUMNS = [
  'destination',
  'entity',
  'entity_id',
  'version',
  'target',
  'deleted',
  'updated_at',
  'delivered_key',
  'targets',
];
/** PostgreSQL types of COLUMNS, for the array parameters of a batch upsert. */
const PG_TYPES = ['varchar', 'varchar', 'varchar', 'numeric', 'varchar', 'boolean', 'bigint', 'text', 'text'];
const KEY = ['destination', 'entity', 'entity_id'];
const CHUNK = 500;
/** Entries remembered ahead of their write; the oldest are forgotten first (their writes landed long ago). */
const REMEMBERED_MAX = 100_000;

/**
 * One write per entity, the highest version (the last of equal ones), in entity order: writers of overlapping
 * entities then lock their rows in one order (destinations/jdbc.ts commits its rows and these together).
 */
function latestOf(writes: readonly LedgerWrite[]): LedgerWrite[] {
  const latest = new Map<string, LedgerWrite>();
  for (const w of writes) {
    const cur = latest.get(w.entityId);
    if (!cur || cur.version <= w.version) latest.set(w.entityId, w);
  }
  return [...latest.values()].sort(byEntityId);
}

/**
 * The durable delivery ledger: (destination, entity, id) → delivered version. Staleness checks and ledger
 * dependencies read it; it only moves forward (a guarded upsert never lowers a version).
 */
export class DeliveryLedger {
  /** Deliveries whose ledger write may still be in flight: reads merge them in, the higher version wins. */
  private readonly remembered = new Map<string, LedgerEntry>();

  constructor(
    private readonly db: SqlClient,
    private readonly table: string,
  ) {}

  async init(): Promise<void> {
    const t = types(this.db);
    const existed = await createTableIfAbsent(
      this.db,
      this.table,
      `destination varchar(191) NOT NULL, entity varchar(191) NOT NULL, entity_id varchar(300) NOT NULL, ` +
        `version ${t.version} NOT NULL, target varchar(512) NULL, deleted ${t.bool} NOT NULL, updated_at ${t.long} NOT NULL, ` +
        `delivered_key ${t.text} NULL, targets ${t.text} NULL, PRIMARY KEY (destination, entity, entity_id)`,
      [],
    );
    // Ledgers created before delivered_key and targets existed.
    if (existed) {
      await addColumnIfAbsent(this.db, this.table, 'delivered_key', t.text);
      await addColumnIfAbsent(this.db, this.table, 'targets', t.text);
    }
  }

  /**
   * Makes writes visible to get() before record() has stored them, for a caller that decides the next batch while
   * this one is still being delivered. Only for deliveries that will be recorded, or whose failure fails the task.
   */
  remember(destination: string, entity: string, writes: readonly LedgerWrite[]): Remembered {
    const mine = new Map<string, LedgerEntry>();
    for (const w of writes) {
      const k = `${destination}|${entity}|${w.entityId}`;
      const cur = this.remembered.get(k);
      if (cur && cur.version > w.version) continue;
      const entry: LedgerEntry = {
        version: w.version,
        target: w.target,
        deleted: w.deleted,
        deliveredKey: w.deliveredKey,
        targets: w.targets,
      };
      this.remembered.delete(k);
      this.remembered.set(k, entry);
      mine.set(k, entry);
    }
    for (const k of this.remembered.keys()) {
      if (this.remembered.size <= REMEMBERED_MAX) break;
      this.remembered.delete(k);
    }
    return mine;
  }

  /**
   * Forgets what remember() returned once its writes have landed (entries a later batch remembered again stay).
   * The stored entry is the truth from then on: another task, or a re-delivery, may rewrite it at the same version
   * (a target added or withdrawn), and a remembered copy would hide that and send the version again.
   */
  forget(remembered: Remembered): void {
    for (const [k, entry] of remembered) if (this.remembered.get(k) === entry) this.remembered.delete(k);
  }

  /** Entries for these ids of one (destination, entity); ids absent from the result were never delivered. */
  async get(destination: string, entity: string, ids: readonly string[]): Promise<Map<string, LedgerEntry>> {
    // Taken before the read: an entry forgotten while the read runs may have landed after the read's snapshot.
    const inFlight = new Map<string, LedgerEntry>();
    if (this.remembered.size > 0) {
      for (const id of ids) {
        const r = this.remembered.get(`${destination}|${entity}|${id}`);
        if (r) inFlight.set(id, r);
      }
    }
    const out = await this.read(destination, entity, ids);
    if (inFlight.size === 0 && this.remembered.size === 0) return out;
    for (const id of ids) {
      const r = this.remembered.get(`${destination}|${entity}|${id}`) ?? inFlight.get(id);
      const stored = out.get(id);
      if (r && (!stored || stored.version <= r.version)) out.set(id, r);
    }
    return out;
  }

  /** Stored entries only (no in-flight writes), with when each was written: for inspection (the console). */
  async stored(destination: string, entity: string, ids: readonly string[]): Promise<Map<string, LedgerEntry>> {
    return this.read(destination, entity, ids);
  }

  private async read(destination: string, entity: string, ids: readonly string[]): Promise<Map<string, LedgerEntry>> {
    const out = new Map<string, LedgerEntry>();
    for (const part of chunks([...new Set(ids)], rowsPerStatement(this.db, CHUNK))) {
      const q = selectByKeys(
        this.db,
        `entity_id, ${versionColumn(this.db)}, target, deleted, delivered_key, targets, updated_at`,
        this.db.quote(this.table),
        [
          ['destination', destination],
          ['entity', entity],
        ],
        'entity_id',
        part,
      );
      const rows = await this.db.query(q.sql, q.params);
      for (const r of rows) {
        const target = r.target === null || r.target === undefined ? null : String(r.target);
        const deleted = r.deleted === true || r.deleted === 1 || r.deleted === '1';
        const deliveredKey = r.delivered_key === null || r.delivered_key === undefined ? null : String(r.delivered_key);
        const version = BigInt(String(r.version));
        out.set(String(r.entity_id), {
          version,
          target,
          deleted,
          deliveredKey,
          targets: targetsOf(r, version, target, deliveredKey, deleted),
          ...(r.updated_at === null || r.updated_at === undefined ? {} : { updatedAt: Number(r.updated_at) }),
        });
      }
    }
    return out;
  }

  /**
   * Every stored entry of one (destination, entity) with when it was written, streamed through a cursor in slices
   * (reconcile: a customer's whole ledger in bounded memory). Unordered; in-flight writes (`remember`) are not
   * included.
   */
  async scan(
    destination: string,
    entity: string,
    onEntries: (entries: ReadonlyArray<LedgerWrite>) => Promise<void> | void,
  ): Promise<void> {
    // Invariant: every SQL driver of LookupSink implements scan(); a new one must before it ships.
    if (!this.db.scan) throw new Error(`Reading a whole ledger is not implemented for ${this.db.kind}`);
    await this.db.scan(
      `SELECT entity_id, ${versionColumn(this.db)}, target, deleted, delivered_key, targets, updated_at ` +
        `FROM ${this.db.quote(this.table)} WHERE destination = ? AND entity = ?`,
      [destination, entity],
      CHUNK * 4,
      (rows) =>
        onEntries(
          rows.map((r) => {
            const target = r.target === null || r.target === undefined ? null : String(r.target);
            const deleted = r.deleted === true || r.deleted === 1 || r.deleted === '1';
            const deliveredKey =
              r.delivered_key === null || r.delivered_key === undefined ? null : String(r.delivered_key);
            const version = BigInt(String(r.version));
            return {
              entityId: String(r.entity_id),
              version,
              target,
              deleted,
              deliveredKey,
              targets: targetsOf(r, version, target, deliveredKey, deleted),
              ...(r.updated_at === null || r.updated_at === undefined ? {} : { updatedAt: Number(r.updated_at) }),
            };
          }),
        ),
    );
  }

  /** Whether a remembered write of this entity has not landed yet (remember, forget). */
  inFlight(destination: string, entity: string, entityId: string): boolean {
    return this.remembered.has(`${destination}|${entity}|${entityId}`);
  }

  /**
   * Writes, before a send, the targets it may reach that the entries do not list yet (planner.ts intentWritesOf).
   * Its own method: a failure here leaves nothing sent, unlike one of record() after the send.
   */
  async intend(destination: string, entity: string, writes: readonly LedgerWrite[]): Promise<void> {
    await this.write(destination, entity, writes);
  }

  /**
   * Records deliveries; a lower version than the stored one changes nothing. The same version may rewrite the entry:
   * a registration added or removed changes where that version is held, not the version.
   */
  async record(destination: string, entity: string, writes: readonly LedgerWrite[]): Promise<void> {
    await this.write(destination, entity, writes);
  }

  /**
   * The statements of record(), for a destination that runs them in the transaction of the delivery they record
   * (destinations/jdbc.ts, when the ledger lives in the destination's database): the delivery and its entry land
   * together, so nothing needs to be written ahead (intend). Null when a write replaces a higher claim (its DELETE
   * goes first, through record()).
   */
  recordStatements(destination: string, entity: string, writes: readonly LedgerWrite[]): SqlStatement[] | null {
    const latest = latestOf(writes);
    for (const w of latest) if (w.replace) return null;
    return this.upserts(destination, entity, latest);
  }

  private async write(destination: string, entity: string, writes: readonly LedgerWrite[]): Promise<void> {
    const latest = latestOf(writes);
    for (const w of latest) {
      if (!w.replace) continue;
      // The guarded upsert below never lowers a version: a replacing write first removes a higher claim.
      await this.db.execute(
        `DELETE FROM ${this.db.quote(this.table)} WHERE destination = ? AND entity = ? AND entity_id = ? AND version > ?`,
        [destination, entity, w.entityId, w.version],
      );
    }
    for (const st of this.upserts(destination, entity, latest)) await this.db.execute(st.sql, st.params);
  }

  private upserts(destination: string, entity: string, latest: readonly LedgerWrite[]): SqlStatement[] {
    const now = Date.now();
    return chunks(latest, rowsPerStatement(this.db, CHUNK)).map((part) => {
      const rows = part.map((w) => [
        destination,
        entity,
        w.entityId,
        w.version,
        w.target,
        w.deleted,
        now,
        w.deliveredKey,
        JSON.stringify(w.targets.map((t) => [t.target, t.deliveredKey, t.version.toString()])),
      ]);
      return guardedUpsertRows(this.db, this.table, COLUMNS, PG_TYPES, KEY, 'version', rows, { orEqual: true });
    });
  }

  /**
   * Entity ids of one (destination, entity) whose entry was written at or after `since` (a time: the ledger's
   * updated_at) or holds a version at or above it, in id order, a page at a time (replay: bounded memory).
   */
  async *since(
    destination: string,
    entity: string,
    since: { timeMs: number } | { version: bigint },
    pageSize = 1000,
  ): AsyncIterable<string[]> {
    const [column, value] = 'timeMs' in since ? ['updated_at', since.timeMs] : ['version', since.version];
    let after: string | null = null;
    for (;;) {
      const l = limitClause(this.db, pageSize);
      const rows: Array<Record<string, unknown>> = await this.db.query(
        `SELECT ${l.top}entity_id FROM ${this.db.quote(this.table)} WHERE destination = ? AND entity = ? AND ${column} >= ?` +
          `${after === null ? '' : ' AND entity_id > ?'} ORDER BY entity_id${l.limit}`,
        [destination, entity, value, ...(after === null ? [] : [after])],
      );
      if (rows.length === 0) return;
      const ids = rows.map((r) => String(r.entity_id));
      yield ids;
      if (rows.length < pageSize) return;
      after = ids[ids.length - 1]!;
    }
  }
}
