import {
  ConfigError,
  DataError,
  type Logger,
  type SourcePartition,
  type SourceRecord,
} from '../../runtime/api/index.js';
import type { TsIncSettings } from './config.js';
import type { Dialect } from './dialects/dialect.js';

// Settings types live in config.ts (it imports no mode): re-exported for the mode's callers.
export type { TsIncSettings };
import { type TableSchemas, changeEvent, keyStruct, rowStruct } from './envelope.js';
import { type RawRow, type TableInfo, qualified } from './model.js';

/**
 * capture.mode=timestamp_incrementing: plain tables read by (updated-at, id), as the Confluent JDBC source's
 * timestamp+incrementing mode, with the two fixes its issue tracker asks for (kafka-connect-jdbc #27, #915,
 * #1015, PR #1018):
 *
 * - a safety lag: each poll freezes `upper = db now - timestamp.delay.interval.ms` and reads only rows at or
 *   below it, so a transaction that commits within the lag of its timestamp is read in order;
 * - an overlap window: each poll also re-reads `(cursor.ts - timestamp.overlap.window.ms, cursor]` and emits
 *   the rows of that window it has not emitted yet, deduplicated by (timestamp, id). A row whose transaction
 *   committed after later rows were read — but within lag + window of its timestamp — is still emitted.
 *
 * What it cannot see: deletes (no row is left to read), and a row committed later than lag + window after its
 * timestamp. The emitted set lives in memory: after a restart the window is emitted again (same versions and
 * event ids: duplicates, never a loss).
 */

/** Where a table's capture stands: every row with (ts, id) <= (ts, id) was emitted. id null = "ts and below". */
export interface TsIncPosition {
  /** Microseconds since the epoch (UTC), as decimal text. */
  ts: string;
  id: string | null;
}

/** The stored offset of a table in this mode. */
export interface TsIncOffset {
  tsinc: TsIncPosition;
}

/** The database's clock minus `delayMs`, in µs since the epoch (UTC): rows at or below it count as committed. */
export async function delayedDatabaseNow(dialect: Dialect, delayMs: number): Promise<bigint> {
  const sql =
    dialect.kind === 'postgresql'
      ? `SELECT to_char((now() - $1::bigint * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS u`
      : dialect.kind === 'mysql'
        ? `SELECT DATE_FORMAT(UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND, '%Y-%m-%d %H:%i:%s.%f') AS u`
        : `SELECT CONVERT(varchar(27), DATEADD(millisecond, -@p1, SYSUTCDATETIME()), 121) AS u`;
  const param = dialect.kind === 'mysql' ? delayMs * 1000 : delayMs;
  const rows = await dialect.run(sql, [param], 'Reading the database clock');
  return timestampMicros(rows[0]!.u, 'db now');
}

/** The window re-read is bounded: above this many rows a warning says the window is too wide for the rate. */
export const WINDOW_MAX_ROWS = 50_000;

const TS_TEXT = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/;

/** A timestamp column value (server text, or a Date) → µs since the epoch. Text without a zone is UTC. */
export function timestampMicros(value: unknown, column: string): bigint {
  if (value instanceof Date) return BigInt(value.getTime()) * 1000n;
  const text = String(value).trim();
  const m = TS_TEXT.exec(text);
  if (!m) {
    throw new DataError(
      `Timestamp column ${column} has value ${JSON.stringify(text)}, which is not a timestamp`,
      column,
    );
  }
  let zone = m[4] ?? 'Z';
  if (/^[+-]\d\d$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) {
    throw new DataError(
      `Timestamp column ${column} has value ${JSON.stringify(text)}, which is not a timestamp`,
      column,
    );
  }
  const micros = BigInt(((m[3] ?? '') + '000000').slice(0, 6));
  return BigInt(ms) * 1000n + micros;
}

/** µs since the epoch → `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), a literal every dialect compares exactly. */
export function microsText(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = String(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`;
}

function compareIds(a: string, b: string): number {
  // Incrementing columns are integers; compare numerically when both are, as the database does.
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order of (ts, id) pairs; a null id sorts after every id of the same timestamp ("ts and below"). */
export function comparePositions(a: TsIncPosition, b: TsIncPosition): number {
  const ta = BigInt(a.ts);
  const tb = BigInt(b.ts);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.id === b.id) return 0;
  if (a.id === null) return 1;
  if (b.id === null) return -1;
  return compareIds(a.id, b.id);
}

/** A row read in this mode, with its position. */
export interface TsIncRow {
  row: RawRow;
  position: TsIncPosition;
  /** True when the row came from the overlap window (committed late): its offset stays at the old cursor. */
  late: boolean;
}

/**
 * The (ts, id) pairs emitted inside the overlap window: rows re-read there are dropped when already emitted.
 * Pruned to the window below the cursor, so it holds at most the rows of one window.
 */
export class EmittedWindow {
  private readonly seen = new Map<string, bigint>();

  has(p: TsIncPosition): boolean {
    return this.seen.has(`${p.ts}|${p.id}`);
  }

  add(p: TsIncPosition): void {
    this.seen.set(`${p.ts}|${p.id}`, BigInt(p.ts));
  }

  prune(belowMicros: bigint): void {
    for (const [k, ts] of this.seen) if (ts <= belowMicros) this.seen.delete(k);
  }

  get size(): number {
    return this.seen.size;
  }
}

/** One captured table's reader: frozen upper bound, main page above the cursor, window re-read below it. */
export class TsIncTableReader {
  readonly emitted = new EmittedWindow();

  constructor(
    private readonly dialect: Dialect,
    private tableInfo: TableInfo,
    private readonly settings: TsIncSettings,
    public cursor: TsIncPosition | null,
    private readonly log: Logger,
  ) {}

  get table(): TableInfo {
    return this.tableInfo;
  }

  /** The table as described again after a schema change; a dropped timestamp or incrementing column is refused. */
  useTable(table: TableInfo): void {
    TsIncTableReader.check(table, this.settings);
    this.tableInfo = table;
  }

  /** Checks that the configured columns exist in the table; names the config key when one does not. */
  static check(table: TableInfo, settings: TsIncSettings): void {
    const names = table.columns.map((c) => c.name);
    for (const [key, col] of [
      ['timestamp.column.name', settings.timestampColumn],
      ['incrementing.column.name', settings.incrementingColumn],
    ] as const) {
      if (!names.includes(col)) {
        throw ConfigError.invalid(
          key,
          col,
          `Column not found in ${qualified(table.id)} (columns: ${names.join(', ')})`,
        );
      }
    }
  }

  /** `db now - delay`, read once per poll so both reads of the poll share it. */
  upperBound(): Promise<bigint> {
    return delayedDatabaseNow(this.dialect, this.settings.delayMs);
  }

  private select(where: string, limit: number | null): string {
    const d = this.dialect;
    const ts = d.quote(this.settings.timestampColumn);
    const id = d.quote(this.settings.incrementingColumn);
    const from = `${d.quote(this.table.id.schema)}.${d.quote(this.table.id.table)}`;
    if (d.kind === 'sqlserver') {
      return `SELECT ${limit === null ? '' : `TOP (${limit}) `}* FROM ${from} WHERE ${where} ORDER BY ${ts}, ${id}`;
    }
    return `SELECT * FROM ${from} WHERE ${where} ORDER BY ${ts}, ${id}${limit === null ? '' : ` LIMIT ${limit}`}`;
  }

  private positionOf(row: RawRow): TsIncPosition {
    const ts = row[this.settings.timestampColumn];
    const id = row[this.settings.incrementingColumn];
    if (ts === null || ts === undefined || id === null || id === undefined) {
      throw new DataError(
        `Row of ${qualified(this.table.id)} has a null ${ts === null || ts === undefined ? this.settings.timestampColumn : this.settings.incrementingColumn}; ` +
          'timestamp_incrementing needs both columns NOT NULL',
        ts === null || ts === undefined ? this.settings.timestampColumn : this.settings.incrementingColumn,
      );
    }
    return { ts: String(timestampMicros(ts, this.settings.timestampColumn)), id: String(id) };
  }

  /**
   * Late rows first (from the overlap window, not emitted yet), then up to `limit` rows above the cursor and at
   * or below the frozen upper bound, in (ts, id) order. The cursor moves only in `advance`, when the rows are handed out.
   */
  async read(limit: number): Promise<{ rows: TsIncRow[]; full: boolean }> {
    const d = this.dialect;
    const ph = (n: number) => d.placeholder(n);
    const ts = d.quote(this.settings.timestampColumn);
    const id = d.quote(this.settings.incrementingColumn);
    const upper = await this.upperBound();
    const c = this.cursor;
    const out: TsIncRow[] = [];
    if (c && this.settings.windowMs > 0) {
      const lower = BigInt(c.ts) - BigInt(this.settings.windowMs) * 1000n;
      const cTs = microsText(BigInt(c.ts));
      const where =
        c.id === null
          ? `${ts} > ${ph(1)} AND ${ts} <= ${ph(2)}`
          : `${ts} > ${ph(1)} AND (${ts} < ${ph(2)} OR (${ts} = ${ph(3)} AND ${id} <= ${ph(4)}))`;
      const params = c.id === null ? [microsText(lower), cTs] : [microsText(lower), cTs, cTs, c.id];
      const window = await d.run(
        this.select(where, WINDOW_MAX_ROWS),
        params,
        `Re-reading the overlap window of ${qualified(this.table.id)}`,
      );
      if (window.length >= WINDOW_MAX_ROWS) {
        this.log.warn('The overlap window holds more rows than are re-read; narrow timestamp.overlap.window.ms', {
          table: qualified(this.table.id),
          rows: window.length,
        });
      }
      for (const row of window) {
        const position = this.positionOf(row);
        if (!this.emitted.has(position)) out.push({ row, position, late: true });
      }
    }
    const upperText = microsText(upper);
    let where: string;
    let params: unknown[];
    if (!c) {
      where = `${ts} <= ${ph(1)}`;
      params = [upperText];
    } else if (c.id === null) {
      where = `${ts} <= ${ph(1)} AND ${ts} > ${ph(2)}`;
      params = [upperText, microsText(BigInt(c.ts))];
    } else {
      const cTs = microsText(BigInt(c.ts));
      where = `${ts} <= ${ph(1)} AND (${ts} > ${ph(2)} OR (${ts} = ${ph(3)} AND ${id} > ${ph(4)}))`;
      params = [upperText, cTs, cTs, c.id];
    }
    const page = await d.run(this.select(where, limit), params, `Reading ${qualified(this.table.id)}`);
    for (const row of page) out.push({ row, position: this.positionOf(row), late: false });
    return { rows: out, full: page.length >= limit };
  }

  /** Records the rows as emitted and moves the cursor to the last one above it; prunes the window. */
  advance(rows: readonly TsIncRow[]): void {
    for (const r of rows) {
      this.emitted.add(r.position);
      if (!r.late && (!this.cursor || comparePositions(r.position, this.cursor) > 0)) this.cursor = r.position;
    }
    if (this.cursor) this.emitted.prune(BigInt(this.cursor.ts) - BigInt(this.settings.windowMs) * 1000n);
  }

  /** The start for snapshot.mode=never: every row at or below the database's `now - delay` counts as done. */
  async startAtNow(): Promise<void> {
    this.cursor = { ts: String(await this.upperBound()), id: null };
  }
}

/** What reading the tables of a timestamp_incrementing task needs; it never calls back into the task. */
export interface TsIncReadContext {
  readonly schemas: ReadonlyMap<string, TableSchemas>;
  readonly db: string;
  readonly prefix: string;
  readonly maxBatchSize: number;
  readonly partition: (table: string) => SourcePartition;
}

/**
 * One poll: each table's late rows (overlap window) then its next page, as `op=u` events whose version is the
 * row's timestamp in µs and whose event id adds the incrementing id; offsets never move back for late rows (a
 * late row keeps the previous position, so a crash never moves past it).
 */
export async function readTimestampIncrementing(
  readers: readonly TsIncTableReader[],
  ctx: TsIncReadContext,
): Promise<{ records: SourceRecord[]; full: boolean }> {
  const records: SourceRecord[] = [];
  const db = ctx.db;
  let full = false;
  const now = Date.now();
  for (const reader of readers) {
    const name = qualified(reader.table.id);
    const current = ctx.schemas.get(name)!.table;
    // The table changed (schema.refresh.interval.ms): the reader's columns must still be there.
    if (current !== reader.table) reader.useTable(current);
    const { rows, full: tableFull } = await reader.read(ctx.maxBatchSize);
    full ||= tableFull;
    const schemas = ctx.schemas.get(name)!;
    let position = reader.cursor;
    for (const r of rows) {
      if (!r.late) position = r.position;
      const version = r.position.ts;
      const record = changeEvent({
        schemas,
        db,
        prefix: ctx.prefix,
        op: 'u', // a table read cannot tell an insert from an update
        key: keyStruct(
          schemas,
          schemas.table.keyColumns.map((k) => r.row[k]),
        ),
        before: null,
        after: rowStruct(schemas, r.row),
        version,
        eventId: `${db}:${name}:${version}:${r.position.id}`,
        sourceTsMs: Number(BigInt(r.position.ts) / 1000n),
        snapshot: 'false',
        partition: ctx.partition(name),
        offset: (position ? { tsinc: position } : {}) satisfies TsIncOffset | Record<string, never>,
        nowMs: now,
      });
      records.push(record);
    }
    reader.advance(rows);
  }
  return { records, full };
}
