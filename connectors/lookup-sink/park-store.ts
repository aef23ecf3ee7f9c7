import type { SqlClient } from './sql/client.js';
import {
  type ColumnValues,
  chunks,
  createTableIfAbsent,
  guardedUpsertRows,
  deleteByKeys,
  rowsPerStatement,
  selectByKeys,
  limitClause,
  types,
  versionColumn,
} from './sql/ddl.js';

/** Reason prefix of a record waiting on a dependency that never expires ("not for this customer yet"). */
export const WAITING_PREFIX = 'waiting: ';

/** One parked key: the newest version waiting, why, and when to look again. */
export interface ParkedRecord {
  readonly entityId: string;
  readonly version: bigint;
  /** encodeRecord() text, for the DLQ. */
  readonly record: string;
  readonly reason: string;
  /** A ledger key (destination|entity|id) whose delivery should wake this record, or null. */
  readonly waitingOn: string | null;
  readonly firstParkedAt: number;
  readonly nextCheckAt: number;
  readonly attempts: number;
}

const COLUMNS = [
  'destination',
  'entity',
  'entity_id',
  'version',
  'record',
  'reason',
  'waiting_on',
  'first_parked_at',
  'next_check_at',
  'attempts',
];
/** PostgreSQL types of COLUMNS, for the array parameters of a batch upsert. */
const PG_TYPES = ['varchar', 'varchar', 'varchar', 'numeric', 'text', 'text', 'varchar', 'bigint', 'bigint', 'int'];
const KEY = ['destination', 'entity', 'entity_id'];
const CHUNK = 300;

function toParked(r: Record<string, unknown>): ParkedRecord {
  return {
    entityId: String(r.entity_id),
    version: BigInt(String(r.version)),
    record: String(r.record),
    reason: String(r.reason),
    waitingOn: r.waiting_on === null || r.waiting_on === undefined ? null : String(r.waiting_on),
    firstParkedAt: Number(r.first_parked_at),
    nextCheckAt: Number(r.next_check_at),
    attempts: Number(r.attempts),
  };
}

/**
 * Durable parking: records whose dependencies are not met yet, one row per key holding the newest version.
 * Writes complete before put() returns, so a crash after the consumer commits loses nothing.
 */
export class ParkStore {
  constructor(
    private readonly db: SqlClient,
    private readonly table: string,
    private readonly destination: string,
    private readonly entity: string,
  ) {}

  async init(): Promise<void> {
    const t = types(this.db);
    await createTableIfAbsent(
      this.db,
      this.table,
      `destination varchar(191) NOT NULL, entity varchar(191) NOT NULL, entity_id varchar(300) NOT NULL, ` +
        `version ${t.version} NOT NULL, record ${t.text} NOT NULL, reason ${t.text} NOT NULL, waiting_on varchar(700) NULL, ` +
        `first_parked_at ${t.long} NOT NULL, next_check_at ${t.long} NOT NULL, attempts int NOT NULL, ` +
        `PRIMARY KEY (destination, entity, entity_id)`,
      [
        { name: 'due', columns: 'destination, entity, next_check_at' },
        { name: 'age', columns: 'destination, entity, first_parked_at' },
        { name: 'waiting', columns: 'waiting_on' },
      ],
    );
  }

  private get t(): string {
    return this.db.quote(this.table);
  }

  /** The columns this park's rows share (its primary key's leading columns). */
  private get fixed(): ColumnValues {
    return [
      ['destination', this.destination],
      ['entity', this.entity],
    ];
  }

  /** Every column, the version as exact text. */
  private get all(): string {
    return COLUMNS.map((c) => (c === 'version' ? versionColumn(this.db) : c)).join(', ');
  }

  /** Parks (or re-parks) records; an older version never replaces a newer one; first_parked_at is kept. */
  async put(records: readonly ParkedRecord[]): Promise<void> {
    for (const part of chunks(records, rowsPerStatement(this.db, CHUNK))) {
      const rows = part.map((p) => [
        this.destination,
        this.entity,
        p.entityId,
        p.version,
        p.record,
        p.reason,
        p.waitingOn,
        p.firstParkedAt,
        p.nextCheckAt,
        p.attempts,
      ]);
      const { sql, params } = guardedUpsertRows(this.db, this.table, COLUMNS, PG_TYPES, KEY, 'version', rows, {
        orEqual: true,
        keepOnUpdate: ['first_parked_at'],
      });
      await this.db.execute(sql, params);
    }
  }

  async get(ids: readonly string[]): Promise<Map<string, ParkedRecord>> {
    const out = new Map<string, ParkedRecord>();
    for (const part of chunks([...new Set(ids)], rowsPerStatement(this.db, CHUNK))) {
      const q = selectByKeys(this.db, this.all, this.t, this.fixed, 'entity_id', part);
      const rows = await this.db.query(q.sql, q.params);
      for (const r of rows) out.set(String(r.entity_id), toParked(r));
    }
    return out;
  }

  /** Parked records, the longest-parked first (inspection: the console's parked list). */
  async list(limit: number): Promise<ParkedRecord[]> {
    const l = limitClause(this.db, limit);
    const rows = await this.db.query(
      `SELECT ${l.top}${this.all} FROM ${this.t} WHERE destination = ? AND entity = ? ORDER BY first_parked_at, entity_id${l.limit}`,
      [this.destination, this.entity],
    );
    return rows.map(toParked);
  }

  /** Records due for a re-check, oldest due first. */
  async due(now: number, limit: number): Promise<ParkedRecord[]> {
    const l = limitClause(this.db, limit);
    const rows = await this.db.query(
      `SELECT ${l.top}${this.all} FROM ${this.t} WHERE destination = ? AND entity = ? AND next_check_at <= ? ORDER BY next_check_at${l.limit}`,
      [this.destination, this.entity, now],
    );
    return rows.map(toParked);
  }

  /** Removes parked rows at or below these versions (a newer parked version stays). */
  async remove(entries: ReadonlyArray<{ entityId: string; version: bigint }>): Promise<number> {
    let removed = 0;
    for (const part of chunks(entries, CHUNK)) {
      // PostgreSQL: the rows an index probe per key finds, deleted by their tuple ids (deleteByKeys): an OR-list makes
      // it test every row of the park against every key until the table has statistics (a park filling up within its
      // first minute: 100,000 rows took 0.7 s per batch of 500 instead of 2 ms). A row another statement updates
      // meanwhile (a newer version parked) is left, its version checked again on the row deleted.
      const q = deleteByKeys(
        this.db,
        this.t,
        this.fixed,
        'entity_id',
        part.map((e) => e.entityId),
        { where: [{ column: 'version', op: '<=', each: part.map((e) => e.version), type: 'numeric' }] },
      );
      removed += await this.db.execute(q.sql, q.params);
    }
    return removed;
  }

  /** Parked records waiting for any of these ledger keys (through the waiting_on index). */
  async waitingFor(keys: readonly string[]): Promise<ParkedRecord[]> {
    const out: ParkedRecord[] = [];
    for (const part of chunks([...new Set(keys)], rowsPerStatement(this.db, CHUNK))) {
      // PostgreSQL: a probe of the waiting_on index per key, the park's own rows picked after it (keyAlone: with
      // them in the probe, a park without statistics is read through its primary key, whole, per key). The `= ANY`
      // form scanned the whole park on every wake-up (30 ms to 0.9 s at 100,000 parked).
      const q = selectByKeys(this.db, this.all, this.t, this.fixed, 'waiting_on', part, { keyAlone: true });
      out.push(...(await this.db.query(q.sql, q.params)).map(toParked));
    }
    return out;
  }

  /**
   * Parked keys, how many of them wait on a dependency that does not expire (reason `waiting: …`), and the first
   * parking of the oldest one that can expire (waiting keys may wait for ever; they do not age the park).
   */
  async stats(): Promise<{ count: number; waiting: number; oldestFirstParkedAt: number | null }> {
    const waiting = `reason LIKE '${WAITING_PREFIX.replace(/'/g, "''")}%'`;
    const [r] = await this.db.query(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN ${waiting} THEN 1 ELSE 0 END) AS w, ` +
        `MIN(CASE WHEN ${waiting} THEN NULL ELSE first_parked_at END) AS oldest ` +
        `FROM ${this.t} WHERE destination = ? AND entity = ?`,
      [this.destination, this.entity],
    );
    const oldest = r?.oldest;
    return {
      count: Number(r?.n ?? 0),
      waiting: Number(r?.w ?? 0),
      oldestFirstParkedAt: oldest === null || oldest === undefined ? null : Number(oldest),
    };
  }
}
