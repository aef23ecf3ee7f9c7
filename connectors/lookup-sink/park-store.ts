import type { SqlClient } from './sql/client.js';
import {
  chunks,
  createTableIfAbsent,
  guardedUpsertRows,
  keyProbe,
  pgArrayLiteral,
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
      const q = selectByKeys(
        this.db,
        this.all,
        this.t,
        [
          ['destination', this.destination],
          ['entity', this.entity],
        ],
        'entity_id',
        part,
      );
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
      if (this.db.kind === 'postgresql') {
        // The rows found by an index probe per key, deleted by their tuple ids: the OR-list below makes PostgreSQL
        // test every row of the park against every key until the table has statistics (a park filling up within
        // its first minute: 100,000 rows took 0.7 s per batch of 500 instead of 2 ms). A row another statement
        // updates meanwhile (a newer version parked) is left: its tuple id changed, and the version is checked again
        // on the row deleted, through the join: older PostgreSQL releases re-check a row updated meanwhile under a
        // tuple-id scan without comparing its tuple id (nodeTidscan.c TidRecheck), and would delete the newer version.
        const ids = pgArrayLiteral(part.map((e) => e.entityId));
        const versions = pgArrayLiteral(part.map((e) => e.version));
        removed += await this.db.execute(
          `DELETE FROM ${this.t} AS p USING UNNEST(?::text[], ?::numeric[]) AS r(id, v) ` +
            `WHERE p.ctid = ANY(ARRAY(SELECT m.ctid FROM UNNEST(?::text[], ?::numeric[]) AS k(id, v), ` +
            `LATERAL (SELECT ctid FROM ${this.t} WHERE destination = ? AND entity = ? AND entity_id = k.id ` +
            `AND ${keyProbe(['destination', 'entity'], 'entity_id', 'k.id')} AND version <= k.v OFFSET 0) AS m)) ` +
            `AND p.destination = ? AND p.entity = ? AND p.entity_id = r.id AND p.version <= r.v`,
          [
            ids,
            versions,
            ids,
            versions,
            this.destination,
            this.entity,
            this.destination,
            this.entity,
            this.destination,
            this.entity,
          ],
        );
        continue;
      }
      const ors = part.map(() => '(entity_id = ? AND version <= ?)').join(' OR ');
      removed += await this.db.execute(`DELETE FROM ${this.t} WHERE destination = ? AND entity = ? AND (${ors})`, [
        this.destination,
        this.entity,
        ...part.flatMap((e) => [e.entityId, e.version]),
      ]);
    }
    return removed;
  }

  /** Parked records waiting for any of these ledger keys (through the waiting_on index). */
  async waitingFor(keys: readonly string[]): Promise<ParkedRecord[]> {
    const out: ParkedRecord[] = [];
    for (const part of chunks([...new Set(keys)], rowsPerStatement(this.db, CHUNK))) {
      // PostgreSQL: a probe of the waiting_on index per key, the park's own rows picked after it (OFFSET 0 keeps
      // that filter out of the probe: with it, a park without statistics is read through its primary key, whole,
      // per key). The `= ANY` form scanned the whole park on every wake-up (30 ms to 0.9 s at 100,000 parked).
      const rows =
        this.db.kind === 'postgresql'
          ? await this.db.query(
              `SELECT m.* FROM UNNEST(?::text[]) AS k(v), LATERAL (SELECT ${this.all} FROM ${this.t} ` +
                `WHERE waiting_on = k.v OFFSET 0) AS m WHERE m.destination = ? AND m.entity = ?`,
              [pgArrayLiteral(part), this.destination, this.entity],
            )
          : await this.db.query(
              `SELECT ${this.all} FROM ${this.t} WHERE waiting_on IN (${part.map(() => '?').join(', ')}) AND destination = ? AND entity = ?`,
              [...part, this.destination, this.entity],
            );
      out.push(...rows.map(toParked));
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
