import type sql from 'mssql';
import {
  ConfigError,
  DataError,
  DecimalType,
  classifyDbError,
  DebeziumTypes,
  SchemaBuilder,
} from '../../../runtime/api/index.js';
import type { ChangeTableSettings } from '../config.js';
import type { ChangeTrackingCursor, Cursor, RowversionCursor } from '../cursor.js';
import { type ChangeRow, type ColumnInfo, type RawRow, type TableId, type TableInfo, qualified } from '../model.js';
import { changeColumns, checkChangeColumns, parseTableName, readGapChanges, toChangeRow } from './common.js';
import {
  keyAfterPredicate,
  keyInPredicate,
  loadMssql,
  sqlServerConnectionSettings,
  sqlServerSyntax,
} from '../../shared/sql/index.js';
import type { ChangeBatch, Dialect, GapReadOptions, RawChange, SnapshotSession } from './dialect.js';
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

const RV_ALIAS = '__erpstream_rv';
const CT_VERSION = '__erpstream_ct_version';
const CT_OP = '__erpstream_ct_op';
const CT_PRESENT = '__erpstream_ct_present';
const ctKey = (i: number) => `__erpstream_ct_k${i}`;
/** SQL Server allows 2100 parameters per request. */
const MAX_PARAMS = 2000;

export interface MssqlConnectionOptions {
  url: string;
  user: string | null;
  password: string | null;
}

/** sqlserver://user:pass@host:1433/db?encrypt=false&trustServerCertificate=true → mssql config. */
export function mssqlConfig(o: MssqlConnectionOptions): sql.config {
  return sqlServerConnectionSettings(
    { ...o, urlKey: 'connection.url' },
    { encrypt: true, trustServerCertificate: false },
  );
}

/**
 * SQL Server (`mssql`). Decimal, money, bigint and datetime2 columns are selected as text (CONVERT) so tedious
 * never turns them into floats or millisecond Dates; the select list therefore comes from the catalog.
 * Change-table capture uses the change table's rowversion below MIN_ACTIVE_ROWVERSION() when it has one.
 */
export class SqlServerDialect implements Dialect {
  readonly kind = 'sqlserver' as const;
  readonly defaultSchema = 'dbo';
  readonly database: string;
  private pool: sql.ConnectionPool | null = null;
  private readonly config: sql.config;
  private ct: { settings: ChangeTableSettings; id: TableId; kind: 'rv' | 'gaps' | 'ct' } | null = null;
  /** capture.mode=change_tracking: the captured tables, in name order (the order a range is read in). */
  private ctTables: TableInfo[] = [];
  private readonly selects = new Map<string, string>();

  constructor(options: MssqlConnectionOptions) {
    this.config = mssqlConfig(options);
    this.database = this.config.database!;
  }

  async connect(): Promise<void> {
    if (this.pool) return;
    try {
      const pool = new (await loadMssql()).ConnectionPool(this.config);
      pool.on('error', () => {
        if (this.pool === pool) this.pool = null;
      });
      this.pool = await pool.connect();
    } catch (e) {
      this.pool = null;
      throw classifyDbError(e, 'Connecting to SQL Server');
    }
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.close().catch(() => {});
  }

  quote(identifier: string): string {
    return sqlServerSyntax.quote(identifier);
  }

  placeholder(n: number): string {
    return sqlServerSyntax.placeholder(n);
  }

  run(text: string, params: unknown[], what: string): Promise<RawRow[]> {
    return this.query(text, params, what);
  }

  private qname(id: TableId): string {
    return `${this.quote(id.schema)}.${this.quote(id.table)}`;
  }

  private async query(text: string, params: unknown[], what: string, on?: sql.Transaction): Promise<RawRow[]> {
    try {
      if (!on) await this.connect();
      const req = on ? on.request() : this.pool!.request();
      params.forEach((p, i) => req.input(`p${i + 1}`, p));
      const res = await req.query(text);
      return res.recordset as RawRow[];
    } catch (e) {
      const err = classifyDbError(e, what);
      if (!on && err.name === 'RetriableError') await this.close();
      throw err;
    }
  }

  async listTables(): Promise<TableId[]> {
    const rows = await this.query(
      `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY 1, 2`,
      [],
      'Listing tables',
    );
    return rows.map((r) => ({ schema: String(r.s), table: String(r.t) }));
  }

  async describe(id: TableId): Promise<TableInfo> {
    const cols = await this.query(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, IS_NULLABLE AS nullable, NUMERIC_PRECISION AS [precision],
              NUMERIC_SCALE AS scale, DATETIME_PRECISION AS dt_precision
         FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @p1 AND TABLE_NAME = @p2 ORDER BY ORDINAL_POSITION`,
      [id.schema, id.table],
      `Reading the catalog of ${qualified(id)}`,
    );
    if (cols.length === 0) throw new ConfigError(`Table ${qualified(id)} does not exist (or is not readable)`);
    const keys = await this.query(
      `SELECT k.COLUMN_NAME AS name FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS c
         JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k ON k.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND k.TABLE_SCHEMA = c.TABLE_SCHEMA
        WHERE c.CONSTRAINT_TYPE = 'PRIMARY KEY' AND c.TABLE_SCHEMA = @p1 AND c.TABLE_NAME = @p2 ORDER BY k.ORDINAL_POSITION`,
      [id.schema, id.table],
      `Reading the primary key of ${qualified(id)}`,
    );
    const keyColumns = keys.map((k) => String(k.name));
    const columns = cols.map((c) =>
      mssqlColumn(
        String(c.name),
        String(c.data_type),
        c.nullable === 'YES',
        keyColumns.includes(String(c.name)),
        c.scale === null ? null : Number(c.scale),
        c.precision === null ? null : Number(c.precision),
      ),
    );
    this.selects.set(qualified(id), columns.map((c) => selectExpr(this.quote(c.name), c.dbType)).join(', '));
    return { id, columns, keyColumns };
  }

  private selectOf(t: TableInfo): string {
    return this.selects.get(qualified(t.id)) ?? '*';
  }

  async prepareChangeTable(settings: ChangeTableSettings): Promise<Cursor['kind']> {
    if (settings.changeTracking) {
      const v = await this.currentVersion();
      if (v === null) {
        throw ConfigError.invalid(
          'capture.mode',
          'change_tracking',
          `Change Tracking is not enabled on database ${this.database}: ` +
            `ALTER DATABASE [${this.database}] SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)`,
        );
      }
      this.ct = { settings, id: { schema: this.defaultSchema, table: '' }, kind: 'ct' };
      return 'ct';
    }
    const id = parseTableName(settings.table, this.defaultSchema);
    let info: TableInfo;
    try {
      info = await this.describe(id);
    } catch (e) {
      if (e instanceof ConfigError) throw ConfigError.invalid('change.table', settings.table, e.message);
      throw e;
    }
    checkChangeColumns(settings, info);
    const rv = settings.rowversionColumn ? info.columns.find((c) => c.name === settings.rowversionColumn) : undefined;
    const kind = rv && (rv.dbType === 'timestamp' || rv.dbType === 'rowversion') ? 'rv' : 'gaps';
    this.ct = { settings, id, kind };
    return kind;
  }

  private changeTable(): { settings: ChangeTableSettings; id: TableId; kind: 'rv' | 'gaps' | 'ct' } {
    // Invariant: the task prepares the change table before its first read.
    if (!this.ct) throw new Error('prepareChangeTable() must run before reading changes');
    return this.ct;
  }

  private changeSelect(): string {
    const { settings } = this.changeTable();
    const cols = changeColumns(settings).map((c) =>
      c === settings.sequenceColumn ? `CONVERT(varchar(24), ${this.quote(c)}) AS ${this.quote(c)}` : this.quote(c),
    );
    if (this.changeTable().kind === 'rv') {
      cols.push(
        `CONVERT(varchar(24), CAST(${this.quote(settings.rowversionColumn!)} AS bigint)) AS ${this.quote(RV_ALIAS)}`,
      );
    }
    return cols.join(', ');
  }

  private async watermark(on?: sql.Transaction): Promise<bigint> {
    const rows = await this.query(
      'SELECT CONVERT(varchar(24), CAST(MIN_ACTIVE_ROWVERSION() AS bigint)) AS w',
      [],
      'Reading MIN_ACTIVE_ROWVERSION()',
      on,
    );
    return BigInt(String(rows[0]!.w));
  }

  private async gapHandoffOn(on?: sql.Transaction): Promise<Cursor> {
    const { settings, id } = this.changeTable();
    const seq = this.quote(settings.sequenceColumn);
    const max = await this.query(
      `SELECT CONVERT(varchar(24), MAX(${seq})) AS m FROM ${this.qname(id)}`,
      [],
      'Reading the high mark',
      on,
    );
    const m = (max[0]?.m as string | null | undefined) ?? null;
    if (m === null) return gapHandoff(null, [], Date.now());
    const recent = await this.query(
      `SELECT CONVERT(varchar(24), ${seq}) AS s FROM ${this.qname(id)} WHERE ${seq} > CAST(@p1 AS bigint) ORDER BY ${seq}`,
      [String(handoffFloor(BigInt(m)))],
      'Reading recent sequence numbers',
      on,
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
      `SELECT CONVERT(varchar(24), MIN(${seq})) AS m FROM ${this.qname(id)}`,
      [],
      'Reading the change table low mark',
    );
    const m = rows[0]?.m;
    return m === null || m === undefined ? null : BigInt(String(m));
  }

  /** CHANGE_TRACKING_CURRENT_VERSION(): the version of the last committed transaction (null when CT is off). */
  private async currentVersion(on?: sql.Transaction): Promise<bigint | null> {
    const rows = await this.query(
      'SELECT CONVERT(varchar(24), CHANGE_TRACKING_CURRENT_VERSION()) AS v',
      [],
      'Reading CHANGE_TRACKING_CURRENT_VERSION()',
      on,
    );
    const v = rows[0]?.v;
    return v === null || v === undefined ? null : BigInt(String(v));
  }

  async captureTables(tables: readonly TableInfo[]): Promise<void> {
    for (const t of tables) {
      const rows = await this.query(
        'SELECT 1 AS ok FROM sys.change_tracking_tables WHERE object_id = OBJECT_ID(@p1)',
        [this.qname(t.id)],
        `Checking Change Tracking on ${qualified(t.id)}`,
      );
      if (rows.length === 0) {
        throw ConfigError.invalid(
          'table.include.list',
          qualified(t.id),
          `Change Tracking is not enabled on table ${qualified(t.id)}: ALTER TABLE ${this.qname(t.id)} ENABLE CHANGE_TRACKING`,
        );
      }
    }
    this.ctTables = [...tables].sort((a, b) => (qualified(a.id) < qualified(b.id) ? -1 : 1));
  }

  async minValidVersion(table: TableInfo): Promise<bigint | null> {
    const rows = await this.query(
      'SELECT CONVERT(varchar(24), CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@p1))) AS m',
      [this.qname(table.id)],
      `Reading CHANGE_TRACKING_MIN_VALID_VERSION of ${qualified(table.id)}`,
    );
    const m = rows[0]?.m;
    return m === null || m === undefined ? null : BigInt(String(m));
  }

  /**
   * Change Tracking: the net changes of each table in (version, upper], upper = CHANGE_TRACKING_CURRENT_VERSION()
   * frozen when the range begins (CT versions follow commit order, so nothing can still commit below it), joined
   * to the base table so each change carries the current row (null when gone). Tables are read one after the
   * other; a page that fills stops the poll with a position inside the range. A key changed again after the
   * freeze leaves the range (its version passed upper) and comes with the next one: nothing is skipped.
   */
  private async readChangeTracking(cursor: ChangeTrackingCursor, limit: number): Promise<ChangeBatch> {
    let upper = cursor.upper;
    if (upper === undefined) {
      for (const t of this.ctTables) {
        const min = await this.minValidVersion(t);
        if (min !== null && BigInt(cursor.version) < min) {
          throw new ConfigError(
            `Change Tracking history of ${qualified(t.id)} after version ${cursor.version} was cleaned up ` +
              `(CHANGE_TRACKING_MIN_VALID_VERSION is ${min}): changes were lost. Restart the task with ` +
              'snapshot.mode=when_needed to re-snapshot, or raise CHANGE_RETENTION',
            'snapshot.mode',
          );
        }
      }
      upper = String((await this.currentVersion()) ?? 0n);
    }
    const rows: ChangeRow[] = [];
    const positions: Cursor[] = [];
    let full = false;
    if (BigInt(upper) > BigInt(cursor.version)) {
      const start = cursor.table
        ? Math.max(
            0,
            this.ctTables.findIndex((t) => qualified(t.id) === cursor.table),
          )
        : 0;
      for (let i = start; i < this.ctTables.length && rows.length < limit; i++) {
        const t = this.ctTables[i]!;
        const want = limit - rows.length;
        const after = i === start && cursor.table === qualified(t.id) ? cursor.after : undefined;
        const page = await this.changeTrackingPage(t, cursor.version, upper, after, want);
        for (const raw of page) {
          const row = this.changeTrackingRow(t, raw);
          rows.push(row);
          positions.push({
            kind: 'ct',
            version: cursor.version,
            upper,
            table: qualified(t.id),
            after: [String(row.seq), [...row.key]],
          });
        }
        if (page.length >= want) {
          full = true;
          break;
        }
      }
    }
    const end: ChangeTrackingCursor = full
      ? (positions[positions.length - 1] as ChangeTrackingCursor)
      : { kind: 'ct', version: BigInt(upper) > BigInt(cursor.version) ? upper : cursor.version };
    if (positions.length > 0) positions[positions.length - 1] = end;
    return { rows, positions, end, expiredGaps: [], full };
  }

  private async changeTrackingPage(
    t: TableInfo,
    since: string,
    upper: string,
    after: [string, string[]] | undefined,
    limit: number,
  ): Promise<RawRow[]> {
    const q = (c: string) => this.quote(c);
    const types = new Map(t.columns.map((c) => [c.name, c.dbType]));
    const keyText = (k: string) =>
      types.get(k) === 'uniqueidentifier'
        ? `LOWER(CONVERT(varchar(36), ct.${q(k)}))`
        : `CONVERT(nvarchar(4000), ct.${q(k)})`;
    const select = [
      `CONVERT(varchar(24), ct.SYS_CHANGE_VERSION) AS ${q(CT_VERSION)}`,
      `ct.SYS_CHANGE_OPERATION AS ${q(CT_OP)}`,
      ...t.keyColumns.map((k, i) => `${keyText(k)} AS ${q(ctKey(i))}`),
      `CASE WHEN t.${q(t.keyColumns[0]!)} IS NULL THEN 0 ELSE 1 END AS ${q(CT_PRESENT)}`,
      ...t.columns.map((c) => selectAs(`t.${q(c.name)}`, c.dbType, q(c.name))),
    ].join(', ');
    const join = t.keyColumns.map((k) => `t.${q(k)} = ct.${q(k)}`).join(' AND ');
    const params: unknown[] = [limit, since, upper];
    let where = 'ct.SYS_CHANGE_VERSION <= CAST(@p3 AS bigint)';
    if (after) {
      params.push(after[0]);
      const pred = keyAfterPredicate(
        (c) => `ct.${q(c)}`,
        t.keyColumns,
        after[1],
        sqlServerSyntax.placeholder,
        params.length + 1,
      );
      params.push(...pred.params);
      where +=
        ' AND (ct.SYS_CHANGE_VERSION > CAST(@p4 AS bigint) OR ' +
        `(ct.SYS_CHANGE_VERSION = CAST(@p4 AS bigint) AND ${pred.text}))`;
    }
    return this.query(
      `SELECT TOP (@p1) ${select}
         FROM CHANGETABLE(CHANGES ${this.qname(t.id)}, CAST(@p2 AS bigint)) AS ct
         LEFT OUTER JOIN ${this.qname(t.id)} AS t ON ${join}
        WHERE ${where}
        ORDER BY ct.SYS_CHANGE_VERSION, ${t.keyColumns.map((k) => `ct.${q(k)}`).join(', ')}`,
      params,
      `Reading CHANGETABLE(CHANGES ${qualified(t.id)})`,
    );
  }

  private changeTrackingRow(t: TableInfo, raw: RawRow): ChangeRow {
    const version = BigInt(String(raw[CT_VERSION]));
    const code = String(raw[CT_OP] ?? '').trim();
    const op = code === 'I' ? 'c' : code === 'U' ? 'u' : code === 'D' ? 'd' : undefined;
    if (!op) {
      throw new DataError(
        `CHANGETABLE(CHANGES ${qualified(t.id)}) returned SYS_CHANGE_OPERATION ${JSON.stringify(code)} at version ${version}`,
        'SYS_CHANGE_OPERATION',
      );
    }
    const present = Number(raw[CT_PRESENT]) === 1;
    const current: RawRow | null = present ? Object.fromEntries(t.columns.map((c) => [c.name, raw[c.name]])) : null;
    return {
      table: t.id,
      key: t.keyColumns.map((_, i) => String(raw[ctKey(i)])),
      op,
      seq: version,
      current,
    };
  }

  async currentCursor(): Promise<Cursor> {
    if (this.changeTable().kind === 'ct') return { kind: 'ct', version: String((await this.currentVersion()) ?? 0n) };
    if (this.changeTable().kind === 'rv') return { kind: 'rv', rv: String((await this.watermark()) - 1n) };
    return this.gapHandoffOn();
  }

  async readChanges(
    cursor: Cursor,
    limit: number,
    nowMs: number,
    gapTimeoutMs: number,
    options: GapReadOptions = {},
  ): Promise<ChangeBatch> {
    if (cursor.kind === 'ct') return this.readChangeTracking(cursor, limit);
    const { settings, id } = this.changeTable();
    const toRow = (raw: RawChange) => {
      const row = toChangeRow(raw, settings, id.schema);
      const rv = raw[RV_ALIAS];
      return rv === undefined || rv === null ? row : { ...row, rowversion: BigInt(String(rv)) };
    };
    const seq = this.quote(settings.sequenceColumn);
    if (cursor.kind === 'gaps') {
      return readGapChanges(
        cursor,
        limit,
        nowMs,
        gapTimeoutMs,
        (after, n) =>
          this.query(
            `SELECT TOP (@p2) ${this.changeSelect()} FROM ${this.qname(id)} WHERE ${seq} > CAST(@p1 AS bigint) ORDER BY ${seq}`,
            [after, n],
            'Reading the change table',
          ),
        (seqs) =>
          this.query(
            `SELECT ${this.changeSelect()} FROM ${this.qname(id)} WHERE ${seq} IN (${seqs.map((_, i) => `CAST(@p${i + 1} AS bigint)`).join(', ')})`,
            seqs,
            'Re-reading change table gaps',
          ),
        toRow,
        options,
      );
    }
    if (cursor.kind !== 'rv') throw new ConfigError(`SQL Server cannot resume from a ${cursor.kind} position`);
    // Frozen once per poll: every rowversion below it belongs to a finished transaction.
    const w = await this.watermark();
    const rv = this.quote(settings.rowversionColumn!);
    const raws = await this.query(
      `SELECT TOP (@p3) ${this.changeSelect()} FROM ${this.qname(id)}
        WHERE CAST(${rv} AS bigint) > CAST(@p1 AS bigint) AND CAST(${rv} AS bigint) < CAST(@p2 AS bigint)
        ORDER BY ${rv}`,
      [cursor.rv, String(w), limit],
      'Reading the change table',
    );
    const rows = raws.map(toRow);
    const full = rows.length >= limit;
    const positions: RowversionCursor[] = rows.map((r) => ({ kind: 'rv', rv: String(r.rowversion) }));
    const end: RowversionCursor = full ? positions[positions.length - 1]! : { kind: 'rv', rv: String(w - 1n) };
    if (positions.length > 0) positions[positions.length - 1] = end;
    return { rows, positions, end, expiredGaps: [], full };
  }

  rowReader(): Dialect {
    return this; // readRows uses the catalog state describe() built on this instance
  }

  async readRows(table: TableInfo, keys: ReadonlyArray<readonly string[]>): Promise<RawRow[]> {
    const out: RawRow[] = [];
    const per = Math.max(1, Math.floor(MAX_PARAMS / table.keyColumns.length));
    for (let i = 0; i < keys.length; i += per) {
      const pred = keyInPredicate(
        (c) => this.quote(c),
        table.keyColumns,
        keys.slice(i, i + per),
        sqlServerSyntax.placeholder,
        1,
        false,
      );
      out.push(
        ...(await this.query(
          `SELECT ${this.selectOf(table)} FROM ${this.qname(table.id)} WHERE ${pred.text}`,
          pred.params,
          `Reading rows of ${qualified(table.id)}`,
        )),
      );
    }
    return out;
  }

  async beginSnapshot(): Promise<SnapshotSession> {
    await this.connect();
    const tx = this.pool!.transaction();
    try {
      // SNAPSHOT isolation needs ALLOW_SNAPSHOT_ISOLATION ON; it gives one consistent view for every chunk.
      await tx.begin((await loadMssql()).ISOLATION_LEVEL.SNAPSHOT);
    } catch (e) {
      throw classifyDbError(e, 'Starting the snapshot transaction (is ALLOW_SNAPSHOT_ISOLATION ON?)');
    }
    // Change Tracking: the version read inside the snapshot transaction; every later commit has a higher one.
    const kind = this.changeTable().kind;
    const handoff: Cursor =
      kind === 'ct'
        ? { kind: 'ct', version: String((await this.currentVersion(tx)) ?? 0n) }
        : kind === 'rv'
          ? { kind: 'rv', rv: String((await this.watermark(tx)) - 1n) }
          : await this.gapHandoffOn(tx);
    return {
      handoff,
      count: async (t) =>
        Number((await this.query(`SELECT COUNT_BIG(*) AS n FROM ${this.qname(t.id)}`, [], 'Snapshot count', tx))[0]!.n),
      chunk: async (t, afterKey, limit) => {
        const order = t.keyColumns.map((c) => this.quote(c)).join(', ');
        if (afterKey === null) {
          return this.query(
            `SELECT TOP (@p1) ${this.selectOf(t)} FROM ${this.qname(t.id)} ORDER BY ${order}`,
            [limit],
            'Snapshot read',
            tx,
          );
        }
        const pred = keyAfterPredicate(
          (c) => this.quote(c),
          t.keyColumns,
          afterKey,
          (n) => `@p${n + 1}`,
          1,
        );
        return this.query(
          `SELECT TOP (@p1) ${this.selectOf(t)} FROM ${this.qname(t.id)} WHERE ${pred.text} ORDER BY ${order}`,
          [limit, ...pred.params],
          'Snapshot read',
          tx,
        );
      },
      close: async () => {
        await tx.commit().catch(() => {});
      },
    };
  }
}

/** Columns tedious would make lossy are read as text. */
function selectExpr(quoted: string, dbType: string): string {
  return selectAs(quoted, dbType, quoted);
}

/** `expr` (a column, maybe table-qualified) as `alias`, converted to text where tedious would be lossy. */
function selectAs(expr: string, dbType: string, alias: string): string {
  switch (dbType) {
    case 'decimal':
    case 'numeric':
    case 'money':
    case 'smallmoney':
    case 'bigint':
      return `CONVERT(varchar(64), ${expr}) AS ${alias}`;
    case 'datetime2':
    case 'datetime':
    case 'smalldatetime':
      return `CONVERT(varchar(32), ${expr}, 121) AS ${alias}`;
    case 'datetimeoffset':
      return `CONVERT(varchar(40), SWITCHOFFSET(${expr}, '+00:00'), 121) AS ${alias}`;
    case 'date':
      return `CONVERT(varchar(10), ${expr}, 23) AS ${alias}`;
    case 'time':
      return `CONVERT(varchar(20), ${expr}, 114) AS ${alias}`;
    case 'uniqueidentifier':
      return `LOWER(CONVERT(varchar(36), ${expr})) AS ${alias}`;
    default:
      return expr === alias ? expr : `${expr} AS ${alias}`;
  }
}

/** The SQL Server type map (docs/erp-source.md lists it). */
export function mssqlColumn(
  name: string,
  dataType: string,
  nullable: boolean,
  isKey: boolean,
  scale: number | null,
  precision: number | null,
): ColumnInfo {
  const t = dataType.toLowerCase();
  const col = (builder: SchemaBuilder, convert: (raw: unknown) => unknown): ColumnInfo => ({
    name,
    dbType: t,
    nullable,
    schema: columnSchema(builder, !isKey),
    convert: (raw) => (raw === null || raw === undefined ? null : convert(raw)),
  });
  switch (t) {
    case 'bit':
      return col(SchemaBuilder.bool(), (v) => v === true || v === 1 || v === '1' || v === 'true');
    case 'tinyint':
    case 'smallint':
      return col(SchemaBuilder.int16(), (v) => Number(v));
    case 'int':
      return col(SchemaBuilder.int32(), (v) => Number(v));
    case 'bigint':
      return col(SchemaBuilder.int64(), toBigInt);
    case 'decimal':
    case 'numeric':
      return col(DecimalType.builder(scale ?? 0, precision ?? undefined), (v) => decimalFrom(String(v), scale ?? 0));
    case 'money':
      return col(DecimalType.builder(4, 19), (v) => decimalFrom(String(v), 4));
    case 'smallmoney':
      return col(DecimalType.builder(4, 10), (v) => decimalFrom(String(v), 4));
    case 'real':
      return col(SchemaBuilder.float32(), (v) => Number(v));
    case 'float':
      return col(SchemaBuilder.float64(), (v) => Number(v));
    case 'date':
      return col(DebeziumTypes.date(), (v) => dateToDays(String(v)));
    case 'time':
      return col(DebeziumTypes.microTime(), (v) => timeToMicros(String(v)));
    case 'datetime':
    case 'smalldatetime':
      return col(DebeziumTypes.timestamp(), (v) => timestampToMicros(String(v)) / 1000n);
    case 'datetime2':
      return col(DebeziumTypes.microTimestamp(), (v) => timestampToMicros(String(v)));
    case 'datetimeoffset':
      return col(DebeziumTypes.zonedTimestamp(), (v) => zonedToIso(String(v)));
    case 'uniqueidentifier':
      return col(DebeziumTypes.uuid(), (v) => String(v).toLowerCase());
    case 'binary':
    case 'varbinary':
    case 'image':
    case 'timestamp':
    case 'rowversion':
      return col(SchemaBuilder.bytes(), toBytes);
    default:
      // char, varchar, nchar, nvarchar, text, ntext, xml: text.
      return col(SchemaBuilder.string(), (v) => String(v));
  }
}
