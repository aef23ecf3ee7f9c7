import pg from 'pg';
import {
  ConfigError,
  classifyDbError,
  DecimalType,
  DebeziumTypes,
  SchemaBuilder,
  urlWithCredentials,
} from '../../../runtime/api/index.js';
import type { ChangeTableSettings } from '../config.js';
import type { Cursor, GapCursor, XidCursor } from '../cursor.js';
import { type ChangeRow, type ColumnInfo, type RawRow, type TableId, type TableInfo, qualified } from '../model.js';
import { changeColumns, checkChangeColumns, parseTableName, readGapChanges, toChangeRow } from './common.js';
import { keyAfterPredicate, keyInPredicate, postgresSyntax } from '../../shared/sql/index.js';
import type { ChangeBatch, Dialect, GapReadOptions, RawChange, SnapshotSession } from './dialect.js';
import { gapHandoff, handoffFloor } from './handoff.js';
import { type CommitListenerEvents, PgCommitListener } from './postgres-notify.js';
import {
  columnSchema,
  dateToDays,
  decimalFrom,
  timeToMicros,
  timestampToMicros,
  toBigInt,
  variableScaleDecimal,
  variableScaleDecimalSchema,
  zonedToIso,
} from './types.js';

const BYTEA_OID = 17;
const TXID_ALIAS = '__erpstream_txid';
/** Parameters per statement stay far below PostgreSQL's 65535. */
const MAX_PARAMS = 30_000;

/**
 * Every value arrives as the server's text, except bytea (Buffer): the converters in types.ts turn text into
 * exact Connect values, so no float or millisecond Date ever sits in between.
 */
const textTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === BYTEA_OID) return pg.types.getTypeParser(oid, format ?? 'text');
    return (v: string) => v;
  },
} as pg.CustomTypesConfig;

export interface PgConnectionOptions {
  url: string;
  user: string | null;
  password: string | null;
}

export class PostgresDialect implements Dialect {
  readonly kind = 'postgresql' as const;
  readonly defaultSchema = 'public';
  database = '';
  private client: pg.Client | null = null;
  /**
   * Statements on the connection run one after the other through this chain: pg would queue them anyway, but a
   * short transaction (queryInIndexOrder) must not have another caller's statement land inside it.
   */
  private turn: Promise<unknown> = Promise.resolve();
  private ct: { settings: ChangeTableSettings; id: TableId; kind: 'xid' | 'gaps' } | null = null;

  constructor(private readonly options: PgConnectionOptions) {}

  private clientConfig(): pg.ClientConfig {
    return {
      // Credentials go into the URL: pg parses a URL without a user over a separate `user` option.
      connectionString: urlWithCredentials(this.options.url, this.options.user, this.options.password),
      types: textTypes,
      connectionTimeoutMillis: 10_000,
      application_name: 'erpstream-source',
    };
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client(this.clientConfig());
    // A dropped connection must surface on the next query, not crash the process.
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    await client.query(`SET TIME ZONE 'UTC'`);
    return client;
  }

  async connect(): Promise<void> {
    if (this.client) return;
    try {
      this.client = await this.open();
      const { rows } = await this.client.query<{ db: string }>('SELECT current_database() AS db');
      this.database = rows[0]!.db;
    } catch (e) {
      this.client = null;
      throw classifyDbError(e, 'Connecting to PostgreSQL');
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  quote(identifier: string): string {
    return postgresSyntax.quote(identifier);
  }

  placeholder(n: number): string {
    return postgresSyntax.placeholder(n);
  }

  run(text: string, params: unknown[], what: string): Promise<RawRow[]> {
    return this.query(text, params, what);
  }

  private qname(id: TableId): string {
    return `${this.quote(id.schema)}.${this.quote(id.table)}`;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.turn.then(fn, fn);
    this.turn = result.catch(() => {});
    return result;
  }

  private query<R extends RawRow = RawRow>(text: string, params: unknown[], what: string): Promise<R[]> {
    return this.exclusive(async () => {
      try {
        await this.connect();
        const res = await this.client!.query<R>(text, params);
        return res.rows;
      } catch (e) {
        const err = classifyDbError(e, what);
        if (err.name === 'RetriableError') await this.close();
        throw err;
      }
    });
  }

  /**
   * Reads of the change table that must walk its indexes. Right after a bulk load, before autovacuum analyzed the
   * change table, the planner underestimates the rows the snapshot filters keep and prefers a bitmap scan of every
   * row past the position plus a sort: about 80 ms per batch at 200,000 pending changes instead of 1 ms, exactly when
   * capture has the most to do. Sorts and sequential scans are disabled for the statements `fn` runs (SET LOCAL, in
   * one transaction of their own, which no other statement of this connection can enter: see `turn`). One
   * transaction for all of a poll's reads keeps a poll at four round trips besides the snapshot.
   */
  private inIndexOrder<T>(
    what: string,
    fn: (run: (text: string, params: unknown[]) => Promise<RawRow[]>) => Promise<T>,
  ) {
    return this.exclusive(async () => {
      try {
        await this.connect();
        const client = this.client!;
        await client.query('BEGIN; SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off');
        try {
          return await fn(async (text, params) => (await client.query<RawRow>(text, params)).rows);
        } finally {
          // After a failed statement COMMIT ends the transaction as a rollback, so the connection stays usable. Its
          // own failure (a connection that died) must not hide the read's error, which says what happened.
          await client.query('COMMIT').catch(() => {});
        }
      } catch (e) {
        const err = classifyDbError(e, what);
        if (err.name === 'RetriableError') await this.close();
        throw err;
      }
    });
  }

  async listTables(): Promise<TableId[]> {
    const rows = await this.query<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1, 2`,
      [],
      'Listing tables',
    );
    return rows.map((r) => ({ schema: r.s, table: r.t }));
  }

  async describe(id: TableId): Promise<TableInfo> {
    const cols = await this.query<{
      name: string;
      data_type: string;
      nullable: string;
      precision: string | null;
      scale: string | null;
    }>(
      `SELECT column_name AS name, data_type, is_nullable AS nullable,
              numeric_precision AS precision, numeric_scale AS scale
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [id.schema, id.table],
      `Reading the catalog of ${qualified(id)}`,
    );
    if (cols.length === 0) throw new ConfigError(`Table ${qualified(id)} does not exist (or is not readable)`);
    const keys = await this.query<{ name: string }>(
      `SELECT a.attname AS name
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [id.schema, id.table],
      `Reading the primary key of ${qualified(id)}`,
    );
    const keyColumns = keys.map((k) => k.name);
    const columns = cols.map((c) =>
      pgColumn(c.name, c.data_type, c.nullable === 'YES', keyColumns.includes(c.name), c.precision, c.scale),
    );
    return { id, columns, keyColumns };
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
    const txid = settings.txidColumn ? info.columns.find((c) => c.name === settings.txidColumn) : undefined;
    if (txid && txid.dbType !== 'xid8') {
      throw ConfigError.invalid(
        'change.table.txid.column',
        settings.txidColumn,
        `Column ${settings.txidColumn} of ${settings.table} is ${txid.dbType}; it must be xid8 DEFAULT pg_current_xact_id()`,
      );
    }
    const kind = txid ? 'xid' : 'gaps';
    this.ct = { settings, id, kind };
    return kind;
  }

  private changeTable(): { settings: ChangeTableSettings; id: TableId; kind: 'xid' | 'gaps' } {
    // Invariant: the task prepares the change table before its first read.
    if (!this.ct) throw new Error('prepareChangeTable() must run before reading changes');
    return this.ct;
  }

  private selectList(extra = ''): string {
    const { settings } = this.changeTable();
    return (
      changeColumns(settings)
        .map((c) => this.quote(c))
        .join(', ') + extra
    );
  }

  async lowestSequence(): Promise<bigint | null> {
    const { settings, id } = this.changeTable();
    const seq = this.quote(settings.sequenceColumn);
    const rows = await this.query(
      `SELECT MIN(${seq})::text AS m FROM ${this.qname(id)}`,
      [],
      'Reading the change table low mark',
    );
    const m = rows[0]?.m;
    return m === null || m === undefined ? null : BigInt(String(m));
  }

  async currentCursor(): Promise<Cursor> {
    const { kind } = this.changeTable();
    if (kind === 'xid') return this.xidHandoff((text, params) => this.query(text, params, 'Reading the snapshot'));
    return this.gapHandoffNow((text, params) => this.query(text, params, 'Reading the change table high mark'));
  }

  /**
   * The watermark position "now" (or inside a snapshot transaction): the snapshot and the highest sequence it
   * sees, read in one statement so both describe the same moment.
   */
  private async xidHandoff(run: (text: string, params: unknown[]) => Promise<RawRow[]>): Promise<XidCursor> {
    const { settings, id } = this.changeTable();
    const rows = await run(
      `SELECT pg_current_snapshot()::text AS s,
              (SELECT MAX(${this.quote(settings.sequenceColumn)}) FROM ${this.qname(id)})::text AS m`,
      [],
    );
    const m = rows[0]!.m as string | null;
    return { kind: 'xid', base: rows[0]!.s as string, ...(m === null ? {} : { seq: m }) };
  }

  private async gapHandoffNow(run: (text: string, params: unknown[]) => Promise<RawRow[]>): Promise<GapCursor> {
    const { settings, id } = this.changeTable();
    const seq = this.quote(settings.sequenceColumn);
    const max = await run(`SELECT MAX(${seq})::text AS m FROM ${this.qname(id)}`, []);
    const m = (max[0]?.m as string | null | undefined) ?? null;
    if (m === null) return gapHandoff(null, [], Date.now());
    const recent = await run(`SELECT ${seq}::text AS s FROM ${this.qname(id)} WHERE ${seq} > $1 ORDER BY 1`, [
      String(handoffFloor(BigInt(m))),
    ]);
    return gapHandoff(
      BigInt(m),
      recent.map((r) => BigInt(r.s as string)),
      Date.now(),
    );
  }

  async readChanges(
    cursor: Cursor,
    limit: number,
    nowMs: number,
    gapTimeoutMs: number,
    options: GapReadOptions = {},
  ): Promise<ChangeBatch> {
    const { settings, id } = this.changeTable();
    const toRow = (raw: RawChange): ChangeRow => this.toRow(raw);
    const seq = this.quote(settings.sequenceColumn);
    if (cursor.kind === 'gaps') {
      return readGapChanges(
        cursor,
        limit,
        nowMs,
        gapTimeoutMs,
        (after, n) =>
          this.query(
            `SELECT ${this.selectList()} FROM ${this.qname(id)} WHERE ${seq} > $1 ORDER BY ${seq} LIMIT $2`,
            [after, n],
            'Reading the change table',
          ),
        (seqs) =>
          this.query(
            `SELECT ${this.selectList()} FROM ${this.qname(id)} WHERE ${seq} = ANY($1::bigint[])`,
            [seqs],
            'Re-reading change table gaps',
          ),
        toRow,
        options,
      );
    }
    if (cursor.kind !== 'xid') throw new ConfigError(`PostgreSQL cannot resume from a ${cursor.kind} position`);
    return this.readXid(cursor, limit, toRow);
  }

  /**
   * Transactions not visible in `base` but visible in `target` are exactly the ones that committed in
   * between, whatever order their ids or sequences have; one still running is in target's xip and waits.
   *
   * The range is read in sequence order, not transaction-id order: a trigger takes its sequence under the row
   * lock, so per key the sequence is the order of the changes, while an older transaction (lower txid) may write
   * a key after a younger one committed a change to it (a delete, then a re-insert). Reading by txid would emit
   * the re-insert before the delete. The range's rows are a fixed set once `target` is fixed, so paging by
   * sequence over it is exact; `floor` (its lowest sequence minus one) bounds the index scan.
   */
  private async readXid(
    cursor: XidCursor,
    limit: number,
    toRow: (raw: RawChange) => ReturnType<typeof toChangeRow>,
  ): Promise<ChangeBatch> {
    const { settings, id } = this.changeTable();
    const tx = this.quote(settings.txidColumn!);
    const seq = this.quote(settings.sequenceColumn);
    const inRange = `${tx} >= pg_snapshot_xmin($1::pg_snapshot)
          AND NOT pg_visible_in_snapshot(${tx}, $1::pg_snapshot)
          AND pg_visible_in_snapshot(${tx}, $2::pg_snapshot)`;
    const resuming = cursor.target !== undefined && cursor.floor !== undefined;
    const target = resuming
      ? cursor.target!
      : (await this.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s', [], 'Reading the snapshot'))[0]!.s;
    // The same snapshot text (xmin, xmax and running ids) means no transaction finished in between: nothing can
    // be in the range, and an idle poll costs this one statement.
    if (!resuming && target === cursor.base) {
      return { rows: [], positions: [], end: cursor, expiredGaps: [], full: false };
    }
    const read = await this.inIndexOrder('Reading the change table', async (run) => {
      let floor = resuming ? cursor.floor! : null;
      if (floor === null) {
        // `+ 0`: the planner must walk the (txid, seq) index over the range, not the sequence index from the change
        // table's first row (its min/max shortcut) nor the whole table.
        const low = await run(`SELECT (MIN(${seq} + 0) - 1)::text AS m FROM ${this.qname(id)} WHERE ${inRange}`, [
          cursor.base,
          target,
        ]);
        floor = (low[0]?.m as string | null | undefined) ?? null;
        // Nothing committed in between: the position moves to the new snapshot.
        if (floor === null) return null;
      }
      const from = resuming && cursor.afterSeq !== undefined ? cursor.afterSeq : floor;
      const raws = await run(
        `SELECT ${this.selectList(`, ${tx}::text AS ${this.quote(TXID_ALIAS)}`)} FROM ${this.qname(id)}
          WHERE ${seq} > $3::bigint AND ${inRange}
          ORDER BY ${seq} LIMIT $4`,
        [cursor.base, target, from, limit],
      );
      return { floor, raws };
    });
    if (read === null) {
      const end: XidCursor = { kind: 'xid', base: target, ...(cursor.seq === undefined ? {} : { seq: cursor.seq }) };
      return { rows: [], positions: [], end, expiredGaps: [], full: false };
    }
    const { floor, raws } = read;
    const rows = raws.map(toRow);
    const full = rows.length >= limit;
    // The sequence high mark only grows; it lets a restart notice change rows purged before they were read.
    let high = cursor.seq === undefined ? null : BigInt(cursor.seq);
    let highText = high === null ? '' : String(high);
    const positions: Cursor[] = rows.map((r, i) => {
      // The row's own text for the positions (no BigInt → string per row); the high mark only when it moves.
      const seqText = raws[i]![settings.sequenceColumn] as string;
      if (high === null || r.seq > high) {
        high = r.seq;
        highText = seqText;
      }
      return { kind: 'xid', base: cursor.base, target, floor, afterSeq: seqText, seq: highText };
    });
    const highMark = high === null ? {} : { seq: String(high) };
    const end: XidCursor = full
      ? (positions[positions.length - 1] as XidCursor)
      : { kind: 'xid', base: target, ...highMark };
    if (positions.length > 0) positions[positions.length - 1] = end;
    return { rows, positions, end, expiredGaps: [], full };
  }

  private toRow(raw: RawChange): ChangeRow {
    const { settings, id } = this.changeTable();
    const row = toChangeRow(raw, settings, id.schema);
    const t = raw[TXID_ALIAS];
    if (t === undefined || t === null) return row;
    (row as { txid?: bigint }).txid = BigInt(t as string); // a fresh object: no copy needed
    return row;
  }

  async notifyTriggerInstalled(channel: string): Promise<boolean> {
    const { id } = this.changeTable();
    const rows = await this.query(
      `SELECT 1 AS found FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal AND t.tgenabled <> 'D'
          AND position($2 in p.prosrc) > 0
        LIMIT 1`,
      [this.qname(id), channel],
      'Looking for the NOTIFY trigger of the change table',
    );
    return rows.length > 0;
  }

  listenForCommits(channel: string, events: CommitListenerEvents): { close(): Promise<void> } {
    const listener = new PgCommitListener({
      config: () => ({
        ...this.clientConfig(),
        application_name: 'erpstream-source-listen',
        // A silently dropped connection would otherwise stay "listening" forever; polling covers the gap meanwhile.
        keepAlive: true,
        keepAliveInitialDelayMillis: 30_000,
      }),
      channel,
      events,
    });
    listener.start();
    return listener;
  }

  rowReader(): Dialect {
    return new PostgresDialect(this.options); // readRows needs no catalog state: a second connection suffices
  }

  readRows(table: TableInfo, keys: ReadonlyArray<readonly string[]>): Promise<RawRow[]> {
    return this.rowsByKey(table, keys, (text, params, what) => this.query(text, params, what));
  }

  private async rowsByKey(
    table: TableInfo,
    keys: ReadonlyArray<readonly string[]>,
    run: (text: string, params: unknown[], what: string) => Promise<RawRow[]>,
  ): Promise<RawRow[]> {
    if (table.keyColumns.length === 1) {
      // One array parameter instead of thousands: the statement parses and plans in constant time.
      const k = this.quote(table.keyColumns[0]!);
      return run(
        `SELECT * FROM ${this.qname(table.id)} WHERE ${k} = ANY($1)`,
        [keys.map((key) => key[0])],
        `Reading rows of ${qualified(table.id)}`,
      );
    }
    const out: RawRow[] = [];
    const per = Math.max(1, Math.floor(MAX_PARAMS / table.keyColumns.length));
    for (let i = 0; i < keys.length; i += per) {
      const pred = keyInPredicate(
        (c) => this.quote(c),
        table.keyColumns,
        keys.slice(i, i + per),
        postgresSyntax.placeholder,
        1,
        true,
      );
      out.push(
        ...(await run(
          `SELECT * FROM ${this.qname(table.id)} WHERE ${pred.text}`,
          pred.params,
          `Reading rows of ${qualified(table.id)}`,
        )),
      );
    }
    return out;
  }

  /** Change rows visible to `run`'s transaction above `after`, in sequence order; with `deletesOf`, its deletes. */
  private async changesAbove(
    run: (text: string, params: unknown[]) => Promise<RawRow[]>,
    after: string,
    limit: number,
    deletesOf?: readonly string[],
  ): Promise<ChangeRow[]> {
    const { settings, id } = this.changeTable();
    const seq = this.quote(settings.sequenceColumn);
    const params: unknown[] = [after, limit];
    let only = '';
    if (deletesOf) {
      params.push([...deletesOf], settings.deleteValue);
      only = ` AND ${this.quote(settings.tableColumn)} = ANY($3) AND ${this.quote(settings.operationColumn)} = $4`;
    }
    // With the watermark, each row's transaction id: the task checks which rows a hand-off covers.
    const txid =
      this.changeTable().kind === 'xid'
        ? `, ${this.quote(settings.txidColumn!)}::text AS ${this.quote(TXID_ALIAS)}`
        : '';
    const raws = await run(
      `SELECT ${this.selectList(txid)} FROM ${this.qname(id)} WHERE ${seq} > $1::bigint${only} ORDER BY ${seq} LIMIT $2`,
      params,
    );
    return raws.map((raw) => this.toRow(raw));
  }

  async beginSnapshot(): Promise<SnapshotSession> {
    let client: pg.Client;
    try {
      client = await this.open();
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } catch (e) {
      throw classifyDbError(e, 'Starting the snapshot transaction');
    }
    const run = async (text: string, params: unknown[]): Promise<RawRow[]> => {
      try {
        return (await client.query<RawRow>(text, params)).rows;
      } catch (e) {
        throw classifyDbError(e, 'Snapshot read');
      }
    };
    // The first statement fixes the transaction's snapshot; the same snapshot is the streaming hand-off, so
    // every change the snapshot did not see is exactly what streaming reads first.
    const handoff: Cursor =
      this.changeTable().kind === 'xid' ? await this.xidHandoff(run) : await this.gapHandoffNow(run);
    return {
      handoff,
      count: async (t) => Number((await run(`SELECT count(*)::text AS n FROM ${this.qname(t.id)}`, []))[0]!.n),
      chunk: async (t, afterKey, limit) => {
        const order = t.keyColumns.map((c) => this.quote(c)).join(', ');
        if (afterKey === null) return run(`SELECT * FROM ${this.qname(t.id)} ORDER BY ${order} LIMIT $1`, [limit]);
        const pred = keyAfterPredicate((c) => this.quote(c), t.keyColumns, afterKey, postgresSyntax.placeholder, 1);
        return run(
          `SELECT * FROM ${this.qname(t.id)} WHERE ${pred.text} ORDER BY ${order} LIMIT $${pred.params.length + 1}`,
          [...pred.params, limit],
        );
      },
      changesAbove: (after, limit, deletesOf) => this.changesAbove(run, after, limit, deletesOf),
      rows: (t, keys) => this.rowsByKey(t, keys, (text, params) => run(text, params)),
      close: async () => {
        await client.query('COMMIT').catch(() => {});
        await client.end().catch(() => {});
      },
    };
  }
}

/** The PostgreSQL type map (docs/erp-source.md lists it). */
export function pgColumn(
  name: string,
  dataType: string,
  nullable: boolean,
  isKey: boolean,
  precision: string | number | null,
  scale: string | number | null,
): ColumnInfo {
  const optional = !isKey;
  const t = dataType.toLowerCase();
  const text = (v: unknown) => v;
  const col = (builder: SchemaBuilder, convert: (raw: unknown) => unknown): ColumnInfo => ({
    name,
    dbType: t,
    nullable,
    schema: columnSchema(builder, optional),
    convert: (raw) => (raw === null || raw === undefined ? null : convert(raw)),
  });
  switch (t) {
    case 'smallint':
      return col(SchemaBuilder.int16(), (v) => Number(v));
    case 'integer':
      return col(SchemaBuilder.int32(), (v) => Number(v));
    case 'bigint':
      return col(SchemaBuilder.int64(), toBigInt);
    case 'numeric':
      if (scale === null || scale === undefined) {
        return {
          name,
          dbType: t,
          nullable,
          schema: variableScaleDecimalSchema,
          convert: (raw) => (raw === null || raw === undefined ? null : variableScaleDecimal(raw)),
        };
      }
      return col(DecimalType.builder(Number(scale), precision === null ? undefined : Number(precision)), (v) =>
        decimalFrom(v, Number(scale)),
      );
    case 'real':
      return col(SchemaBuilder.float32(), (v) => Number(v));
    case 'double precision':
      return col(SchemaBuilder.float64(), (v) => Number(v));
    case 'boolean':
      return col(SchemaBuilder.bool(), (v) => v === 't' || v === 'true' || v === true);
    case 'date':
      return col(DebeziumTypes.date(), (v) => dateToDays(String(v)));
    case 'time without time zone':
      return col(DebeziumTypes.microTime(), (v) => timeToMicros(String(v)));
    case 'timestamp without time zone':
      return col(DebeziumTypes.microTimestamp(), (v) => timestampToMicros(String(v)));
    case 'timestamp with time zone':
      return col(DebeziumTypes.zonedTimestamp(), (v) => zonedToIso(String(v)));
    case 'bytea':
      return col(SchemaBuilder.bytes(), (v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))));
    case 'uuid':
      return col(DebeziumTypes.uuid(), text);
    case 'json':
    case 'jsonb':
      return col(DebeziumTypes.json(), text);
    default:
      // text, varchar, char, xid8, enums, arrays, intervals, money: the server's text form, unchanged.
      return col(SchemaBuilder.string(), (v) => String(v));
  }
}
