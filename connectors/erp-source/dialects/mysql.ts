import type mysql from 'mysql2/promise';
import { ConfigError, DecimalType, classifyDbError, DebeziumTypes, SchemaBuilder } from '../../../runtime/api/index.js';
import type { ChangeTableSettings } from '../config.js';
import type { Cursor } from '../cursor.js';
import { type ChangeRow, type ColumnInfo, type RawRow, type TableId, type TableInfo, qualified } from '../model.js';
import { changeColumns, checkChangeColumns, parseTableName, readGapChanges, toChangeRow } from './common.js';
import {
  MYSQL_UTC_SESSION,
  databaseOfUrl,
  keyAfterPredicate,
  keyInPredicate,
  loadMysql,
  mysqlConnectionSettings,
  mysqlSyntax,
} from '../../shared/sql/index.js';
import type { ChangeBatch, Dialect, GapReadOptions, OpenTransactions, SnapshotSession } from './dialect.js';
import { gapHandoff, handoffFloor } from './handoff.js';
import {
  columnSchema,
  dateToDays,
  decimalFrom,
  timeToMicros,
  timestampToMicros,
  toBigInt,
  toBytes,
  zonedToIso,
} from './types.js';

const MAX_KEYS_PER_QUERY = 5_000;
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/** Column alias of a FLOAT column's exact value (see rowsOf). */
/**
 * The least time between two readings of the gap evidence. Well above the 100 ms that INNODB_TRX's cache must go
 * unread before the server refreshes it, so this task's own readings never keep it stale.
 */
const EVIDENCE_INTERVAL_MS = 500;

const FLOAT_ALIAS = '__erpstream_float_';

export interface MysqlConnectionOptions {
  url: string;
  user: string | null;
  password: string | null;
}

/**
 * MySQL / MariaDB. The driver returns DECIMAL and BIGINT as strings and dates as the server's text
 * (`decimalNumbers: false`, `bigNumberStrings`, `dateStrings`), so DATETIME(6) keeps its microseconds.
 * There is no transaction watermark: capture always uses gap tracking on the sequence.
 */
export class MysqlDialect implements Dialect {
  readonly kind = 'mysql' as const;
  database = '';
  private conn: mysql.Connection | null = null;
  private ct: { settings: ChangeTableSettings; id: TableId } | null = null;
  private readonly integerKeys = new Map<string, boolean[]>();
  /** When the gap evidence was last read (openTransactionAgeMs). */
  private lastEvidenceMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: MysqlConnectionOptions) {
    this.database = databaseOfUrl(options.url, 'connection.url');
  }

  get defaultSchema(): string {
    return this.database;
  }

  private async open(): Promise<mysql.Connection> {
    const conn = await (
      await loadMysql()
    ).createConnection({
      ...mysqlConnectionSettings({ ...this.options, urlKey: 'connection.url' }),
      // JSON as the document's text: parsing it would round big numbers and turn the JSON value null into NULL.
      jsonStrings: true,
    });
    conn.on('error', () => {
      if (this.conn === conn) this.conn = null;
    });
    await conn.query(MYSQL_UTC_SESSION);
    return conn;
  }

  async connect(): Promise<void> {
    if (this.conn) return;
    try {
      this.conn = await this.open();
    } catch (e) {
      this.conn = null;
      throw classifyDbError(e, 'Connecting to MySQL/MariaDB');
    }
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    await c?.end().catch(() => {});
  }

  quote(identifier: string): string {
    return mysqlSyntax.quote(identifier);
  }

  placeholder(n: number): string {
    return mysqlSyntax.placeholder(n);
  }

  run(text: string, params: unknown[], what: string): Promise<RawRow[]> {
    return this.query(text, params, what);
  }

  private qname(id: TableId): string {
    return `${this.quote(id.schema)}.${this.quote(id.table)}`;
  }

  private async query(text: string, params: unknown[], what: string, conn?: mysql.Connection): Promise<RawRow[]> {
    try {
      if (!conn) await this.connect();
      const [rows] = await (conn ?? this.conn!).query(text, params);
      return rows as RawRow[];
    } catch (e) {
      const err = classifyDbError(e, what);
      if (!conn && err.name === 'RetriableError') await this.close();
      throw err;
    }
  }

  async listTables(): Promise<TableId[]> {
    const rows = await this.query(
      `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLES
        WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA = ? ORDER BY 1, 2`,
      [this.database],
      'Listing tables',
    );
    return rows.map((r) => ({ schema: String(r.s), table: String(r.t) }));
  }

  async describe(id: TableId): Promise<TableInfo> {
    const cols = await this.query(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, IS_NULLABLE AS nullable,
              NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale, DATETIME_PRECISION AS dt_precision
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [id.schema, id.table],
      `Reading the catalog of ${qualified(id)}`,
    );
    if (cols.length === 0) throw new ConfigError(`Table ${qualified(id)} does not exist (or is not readable)`);
    const keys = await this.query(
      `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
      [id.schema, id.table],
      `Reading the primary key of ${qualified(id)}`,
    );
    const keyColumns = keys.map((k) => String(k.name));
    const jsonColumns = await this.mariadbJsonColumns(id);
    const columns = cols.map((c) =>
      mysqlColumn(
        String(c.name),
        jsonColumns.has(String(c.name)) ? 'json' : String(c.data_type),
        String(c.column_type),
        c.nullable === 'YES',
        keyColumns.includes(String(c.name)),
        c.scale === null ? null : Number(c.scale),
        c.precision === null ? null : Number(c.precision),
        c.dt_precision === null ? null : Number(c.dt_precision),
      ),
    );
    this.integerKeys.set(
      qualified(id),
      keyColumns.map((k) => INTEGER_TYPES.has(String(cols.find((c) => c.name === k)?.data_type).toLowerCase())),
    );
    return { id, columns, keyColumns };
  }

  /** MariaDB's JSON is LONGTEXT with a json_valid() check: find those columns so they map to io.debezium.data.Json. */
  private async mariadbJsonColumns(id: TableId): Promise<Set<string>> {
    try {
      const rows = await this.query(
        `SELECT CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
        [id.schema, id.table],
        'Reading check constraints',
      );
      const out = new Set<string>();
      for (const r of rows) {
        const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(r.c).trim());
        if (m) out.add(m[1]!.replace(/``/g, '`'));
      }
      return out;
    } catch {
      return new Set(); // MySQL has no TABLE_NAME there, and a real JSON type instead
    }
  }

  /** Integer key columns compare against CAST(? AS SIGNED): a string compared to an integer goes through a double. */
  private wrapFor(table: TableInfo): (column: number, ph: string) => string {
    const ints = this.integerKeys.get(qualified(table.id)) ?? [];
    return (i, ph) => (ints[i] ? `CAST(${ph} AS SIGNED)` : ph);
  }

  async prepareChangeTable(settings: ChangeTableSettings): Promise<Cursor['kind']> {
    const id = parseTableName(settings.table, this.defaultSchema);
    let info: TableInfo;
    try {
      info = await this.describe(id);
    } catch (e) {
      if (e instanceof ConfigError) throw ConfigError.invalid('change.table', settings.table, e.message);
      throw e;
    }
    checkChangeColumns(settings, info);
    this.ct = { settings, id };
    await this.checkEvidenceReadable();
    return 'gaps';
  }

  /**
   * Gap tracking gives a sequence number up only when no transaction that could hold it is still open, which it
   * reads from information_schema.INNODB_TRX. Without the PROCESS privilege that table looks empty or is refused:
   * refuse to start rather than give gaps up blind.
   */
  private async checkEvidenceReadable(): Promise<void> {
    await this.connect();
    try {
      await this.conn!.query('SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX');
      const [grants] = await this.conn!.query('SHOW GRANTS');
      const text = (grants as RawRow[]).map((g) => String(Object.values(g)[0])).join('\n');
      if (/GRANT (ALL PRIVILEGES|.*\bPROCESS\b).* ON \*\.\* TO/i.test(text)) return;
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (errno !== 1227 && errno !== 1142 && errno !== 1044) throw classifyDbError(e, 'Reading INNODB_TRX');
    }
    throw new ConfigError(
      'Gap tracking on MySQL/MariaDB reads information_schema.INNODB_TRX to tell a transaction still open from a ' +
        'rollback before giving a sequence number up, and the connection.user lacks the PROCESS privilege it needs: ' +
        "GRANT PROCESS ON *.* TO '<user>'@'<host>'",
      'connection.user',
    );
  }

  private changeTable(): { settings: ChangeTableSettings; id: TableId } {
    // Invariant: the task prepares the change table before its first read.
    if (!this.ct) throw new Error('prepareChangeTable() must run before reading changes');
    return this.ct;
  }

  private selectList(): string {
    return changeColumns(this.changeTable().settings)
      .map((c) => this.quote(c))
      .join(', ');
  }

  private async handoffWith(conn?: mysql.Connection): Promise<Cursor> {
    const { settings, id } = this.changeTable();
    const seq = this.quote(settings.sequenceColumn);
    const max = await this.query(
      `SELECT CAST(MAX(${seq}) AS CHAR) AS m FROM ${this.qname(id)}`,
      [],
      'Reading the change table high mark',
      conn,
    );
    const m = (max[0]?.m as string | null | undefined) ?? null;
    if (m === null) return gapHandoff(null, [], Date.now());
    const recent = await this.query(
      `SELECT CAST(${seq} AS CHAR) AS s FROM ${this.qname(id)} WHERE ${seq} > CAST(? AS SIGNED) ORDER BY ${seq}`,
      [String(handoffFloor(BigInt(m)))],
      'Reading recent change sequence numbers',
      conn,
    );
    return gapHandoff(
      BigInt(m),
      recent.map((r) => BigInt(String(r.s))),
      Date.now(),
    );
  }

  async lowestSequence(): Promise<bigint | null> {
    const { settings, id } = this.changeTable();
    const seq = this.quote(settings.sequenceColumn);
    const rows = await this.query(
      `SELECT CAST(MIN(${seq}) AS CHAR) AS m FROM ${this.qname(id)}`,
      [],
      'Reading the change table low mark',
    );
    const m = rows[0]?.m;
    return m === null || m === undefined ? null : BigInt(String(m));
  }

  currentCursor(): Promise<Cursor> {
    return this.handoffWith();
  }

  async readChanges(
    cursor: Cursor,
    limit: number,
    nowMs: number,
    gapTimeoutMs: number,
    options: GapReadOptions = {},
  ): Promise<ChangeBatch> {
    const { settings, id } = this.changeTable();
    if (cursor.kind !== 'gaps') throw new ConfigError(`MySQL/MariaDB cannot resume from a ${cursor.kind} position`);
    const seq = this.quote(settings.sequenceColumn);
    return readGapChanges(
      cursor,
      limit,
      nowMs,
      gapTimeoutMs,
      (after, n) =>
        this.query(
          `SELECT ${this.selectList()} FROM ${this.qname(id)} WHERE ${seq} > CAST(? AS SIGNED) ORDER BY ${seq} LIMIT ?`,
          [after, n],
          'Reading the change table',
        ),
      (seqs) =>
        this.query(
          `SELECT ${this.selectList()} FROM ${this.qname(id)} WHERE ${seq} IN (${seqs.map(() => 'CAST(? AS SIGNED)').join(', ')})`,
          seqs,
          'Re-reading change table gaps',
        ),
      (raw) => toChangeRow(raw, settings, id.schema),
      { ...options, openTransactionAge: () => this.openTransactionAgeMs() },
    );
  }

  /**
   * The age of the oldest InnoDB transaction open on the server besides this connection's that has written a
   * row (a sequence number is taken by an insert; readers cannot hold one), measured on the server's clock
   * (null: none). Needs the PROCESS privilege.
   *
   * INNODB_TRX is not a live view: the server serves it from a cache that it refreshes only when nobody has read it
   * for 100 ms. Read more often than that — by this task's own polls, another task, a monitoring tool — it keeps
   * showing the transactions of minutes ago, and a transaction begun since is missing: its gap would be given up
   * while it still holds it. So each reading is proved current: a probe transaction is begun on a new connection
   * (a new thread id) just before the read, and the read counts only when it shows that probe. Otherwise the live
   * transaction list of SHOW ENGINE INNODB STATUS (no cache, heavier) answers; if that cannot be read whole either,
   * the answer is 'stale' and every gap is kept. Read at most once per EVIDENCE_INTERVAL_MS ('not-checked' in
   * between), so that this task's own reads leave the cache time to refresh.
   */
  async openTransactionAgeMs(): Promise<OpenTransactions> {
    const started = Date.now();
    if (started - this.lastEvidenceMs < EVIDENCE_INTERVAL_MS) return 'not-checked';
    this.lastEvidenceMs = started;
    let probe: mysql.Connection | undefined;
    let probeId: string;
    try {
      probe = await this.open();
      const [ids] = await probe.query('SELECT CAST(CONNECTION_ID() AS CHAR) AS id');
      probeId = String((ids as RawRow[])[0]!.id);
      await probe.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    } catch (e) {
      await probe?.end().catch(() => {});
      throw classifyDbError(e, 'Starting the INNODB_TRX probe transaction');
    }
    try {
      const rows = await this.query(
        `SELECT CAST(trx_mysql_thread_id AS CHAR) AS thread,
                CAST(ROUND((UNIX_TIMESTAMP(NOW(3)) - UNIX_TIMESTAMP(trx_started)) * 1000) AS CHAR) AS age
           FROM information_schema.INNODB_TRX
          WHERE trx_mysql_thread_id <> CONNECTION_ID() AND (trx_rows_modified > 0 OR trx_mysql_thread_id = ?)`,
        [probeId],
        'Reading open transactions (information_schema.INNODB_TRX)',
      );
      if (!rows.some((r) => String(r.thread) === probeId)) {
        const status = await this.query('SHOW ENGINE INNODB STATUS', [], 'Reading open transactions (InnoDB status)');
        return oldestWriterInStatus(String(status[0]?.Status ?? ''));
      }
      let oldest: number | null = null;
      for (const r of rows) {
        if (String(r.thread) === probeId) continue;
        const age = Number(r.age);
        if (oldest === null || age > oldest) oldest = age;
      }
      return oldest;
    } finally {
      await probe.end().catch(() => {});
    }
  }

  rowReader(): Dialect {
    return this; // readRows uses the catalog state describe() built on this instance
  }

  /**
   * `SELECT * FROM table <tail>`, with FLOAT columns exact: the text protocol prints a FLOAT with 6 significant
   * digits (3.40282e38), while `col + 0e0` is the stored single-precision value as a DOUBLE, printed in full. The
   * exact value replaces the column's own (same name, same place), so the row's columns still follow the table.
   */
  private async rowsOf(
    table: TableInfo,
    tail: string,
    params: unknown[],
    what: string,
    conn?: mysql.Connection,
  ): Promise<RawRow[]> {
    const floats = table.columns.filter((c) => c.dbType.startsWith('float')).map((c) => c.name);
    if (floats.length === 0) return this.query(`SELECT * FROM ${this.qname(table.id)} ${tail}`, params, what, conn);
    const exact = floats.map((c, i) => `(${this.quote(c)} + 0e0) AS ${this.quote(`${FLOAT_ALIAS}${i}`)}`);
    const rows = await this.query(
      `SELECT *, ${exact.join(', ')} FROM ${this.qname(table.id)} ${tail}`,
      params,
      what,
      conn,
    );
    for (const row of rows) {
      floats.forEach((c, i) => {
        row[c] = row[`${FLOAT_ALIAS}${i}`];
        delete row[`${FLOAT_ALIAS}${i}`];
      });
    }
    return rows;
  }

  /** Change rows visible to `conn`'s transaction above `after`, in sequence order; with `deletesOf`, its deletes. */
  private async changesAbove(
    conn: mysql.Connection,
    after: string,
    limit: number,
    deletesOf?: readonly string[],
  ): Promise<ChangeRow[]> {
    const { settings, id } = this.changeTable();
    const seq = this.quote(settings.sequenceColumn);
    const params: unknown[] = [after];
    let only = '';
    if (deletesOf) {
      if (deletesOf.length === 0) return [];
      only =
        ` AND ${this.quote(settings.tableColumn)} IN (${deletesOf.map(() => '?').join(', ')})` +
        ` AND ${this.quote(settings.operationColumn)} = ?`;
      params.push(...deletesOf, settings.deleteValue);
    }
    params.push(limit);
    const raws = await this.query(
      `SELECT ${this.selectList()} FROM ${this.qname(id)} WHERE ${seq} > CAST(? AS SIGNED)${only} ORDER BY ${seq} LIMIT ?`,
      params,
      'Snapshot read of the change table',
      conn,
    );
    return raws.map((raw) => toChangeRow(raw, settings, id.schema));
  }

  readRows(table: TableInfo, keys: ReadonlyArray<readonly string[]>, conn?: mysql.Connection): Promise<RawRow[]> {
    return this.rowsByKey(table, keys, conn);
  }

  private async rowsByKey(
    table: TableInfo,
    keys: ReadonlyArray<readonly string[]>,
    conn?: mysql.Connection,
  ): Promise<RawRow[]> {
    const out: RawRow[] = [];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_QUERY) {
      const pred = keyInPredicate(
        (c) => this.quote(c),
        table.keyColumns,
        keys.slice(i, i + MAX_KEYS_PER_QUERY),
        mysqlSyntax.placeholder,
        1,
        true,
        this.wrapFor(table),
      );
      out.push(
        ...(await this.rowsOf(
          table,
          `WHERE ${pred.text}`,
          pred.params,
          `Reading rows of ${qualified(table.id)}`,
          conn,
        )),
      );
    }
    return out;
  }

  async beginSnapshot(): Promise<SnapshotSession> {
    let conn: mysql.Connection;
    try {
      conn = await this.open();
      await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    } catch (e) {
      throw classifyDbError(e, 'Starting the snapshot transaction');
    }
    // Read inside the consistent snapshot: sequence numbers of transactions still open become gaps.
    const handoff = await this.handoffWith(conn);
    return {
      handoff,
      count: async (t) =>
        Number((await this.query(`SELECT COUNT(*) AS n FROM ${this.qname(t.id)}`, [], 'Snapshot count', conn))[0]!.n),
      chunk: async (t, afterKey, limit) => {
        const order = t.keyColumns.map((c) => this.quote(c)).join(', ');
        if (afterKey === null) {
          return this.rowsOf(t, `ORDER BY ${order} LIMIT ?`, [limit], 'Snapshot read', conn);
        }
        const pred = keyAfterPredicate(
          (c) => this.quote(c),
          t.keyColumns,
          afterKey,
          mysqlSyntax.placeholder,
          1,
          this.wrapFor(t),
        );
        return this.rowsOf(
          t,
          `WHERE ${pred.text} ORDER BY ${order} LIMIT ?`,
          [...pred.params, limit],
          'Snapshot read',
          conn,
        );
      },
      changesAbove: (after, limit, deletesOf) => this.changesAbove(conn, after, limit, deletesOf),
      rows: (t, keys) => this.rowsByKey(t, keys, conn),
      close: async () => {
        await conn.query('COMMIT').catch(() => {});
        await conn.end().catch(() => {});
      },
    };
  }
}

/** The MySQL/MariaDB type map (docs/erp-source.md lists it). */
export function mysqlColumn(
  name: string,
  dataType: string,
  columnType: string,
  nullable: boolean,
  isKey: boolean,
  scale: number | null,
  precision: number | null,
  datetimePrecision: number | null,
): ColumnInfo {
  const t = dataType.toLowerCase();
  const ct = columnType.toLowerCase();
  const unsigned = ct.includes('unsigned');
  const col = (builder: SchemaBuilder, convert: (raw: unknown) => unknown): ColumnInfo => ({
    name,
    dbType: ct,
    nullable,
    schema: columnSchema(builder, !isKey),
    convert: (raw) => (raw === null || raw === undefined ? null : convert(raw)),
  });
  switch (t) {
    case 'tinyint':
      if (ct.startsWith('tinyint(1)')) return col(SchemaBuilder.bool(), (v) => Number(v) !== 0);
      return col(SchemaBuilder.int16(), (v) => Number(v));
    case 'smallint':
      return col(unsigned ? SchemaBuilder.int32() : SchemaBuilder.int16(), (v) => Number(v));
    case 'mediumint':
      return col(SchemaBuilder.int32(), (v) => Number(v));
    case 'int':
    case 'integer':
      return unsigned ? col(SchemaBuilder.int64(), toBigInt) : col(SchemaBuilder.int32(), (v) => Number(v));
    case 'bigint':
      // BIGINT UNSIGNED can exceed int64: carry it as an exact DECIMAL(20,0).
      return unsigned
        ? col(DecimalType.builder(0, 20), (v) => decimalFrom(String(v), 0))
        : col(SchemaBuilder.int64(), toBigInt);
    case 'decimal':
    case 'numeric':
      return col(DecimalType.builder(scale ?? 0, precision ?? undefined), (v) => decimalFrom(v, scale ?? 0));
    case 'float':
      return col(SchemaBuilder.float32(), (v) => Number(v));
    case 'double':
    case 'real':
      return col(SchemaBuilder.float64(), (v) => Number(v));
    case 'bit':
      return ct === 'bit(1)'
        ? col(SchemaBuilder.bool(), (v) => (Buffer.isBuffer(v) ? v[0] !== 0 : Boolean(Number(v))))
        : col(SchemaBuilder.bytes(), toBytes);
    case 'date':
      return col(DebeziumTypes.date(), (v) => dateToDays(String(v)));
    case 'time':
      return col(DebeziumTypes.microTime(), (v) => timeToMicros(String(v)));
    case 'datetime':
      // As Debezium: up to millisecond precision io.debezium.time.Timestamp (ms), above it MicroTimestamp (µs).
      return (datetimePrecision ?? 0) <= 3
        ? col(DebeziumTypes.timestamp(), (v) => timestampToMicros(String(v)) / 1000n)
        : col(DebeziumTypes.microTimestamp(), (v) => timestampToMicros(String(v)));
    case 'timestamp':
      return col(DebeziumTypes.zonedTimestamp(), (v) => zonedToIso(String(v)));
    case 'year':
      return col(SchemaBuilder.int32(), (v) => Number(v));
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return col(SchemaBuilder.bytes(), toBytes);
    case 'json':
      return col(DebeziumTypes.json(), (v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    case 'uuid':
      return col(DebeziumTypes.uuid(), (v) => String(v));
    default:
      // char, varchar, text, enum, set, and MariaDB's JSON alias (longtext): text.
      return col(SchemaBuilder.string(), (v) =>
        Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'object' ? JSON.stringify(v) : String(v),
      );
  }
}

/**
 * The age in ms of the oldest writing transaction in SHOW ENGINE INNODB STATUS (`---TRANSACTION …, ACTIVE n sec`
 * blocks with `undo log entries` above 0; null: none), or 'stale' when the transaction list is missing or
 * truncated. Errs on the side of holding: whole seconds are rounded up, a writing block without a readable age
 * counts as open forever, and the list is taken as wide as the text allows (a statement text quoted inside it can
 * only add blocks).
 */
export function oldestWriterInStatus(status: string): OpenTransactions {
  const start = status.indexOf('LIST OF TRANSACTIONS FOR EACH SESSION:');
  const end = status.lastIndexOf('\n--------\nFILE I/O\n');
  if (start < 0 || end < start) return 'stale';
  const list = status.slice(start, end);
  if (/truncated/i.test(list)) return 'stale';
  let oldest: number | null = null;
  for (const block of list.split('\n---TRANSACTION ').slice(1)) {
    const undo = /undo log entries (\d+)/.exec(block);
    if (!undo || Number(undo[1]) === 0) continue;
    const active = /ACTIVE (?:\(PREPARED\) )?(\d+) sec/.exec(block);
    const age = active ? (Number(active[1]) + 1) * 1000 : Number.POSITIVE_INFINITY;
    if (oldest === null || age > oldest) oldest = age;
  }
  return oldest;
}
