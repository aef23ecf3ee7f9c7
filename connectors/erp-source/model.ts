import type { Schema } from '../../runtime/api/index.js';

/** A captured table, by schema (MySQL: database) and name. */
export interface TableId {
  readonly schema: string;
  readonly table: string;
}

export function qualified(id: TableId): string {
  return `${id.schema}.${id.table}`;
}

/** One column as the catalog describes it, with its Connect schema and a converter from the driver value. */
export interface ColumnInfo {
  readonly name: string;
  /** The database type as the catalog spells it (lower case), e.g. `numeric`, `timestamp with time zone`. */
  readonly dbType: string;
  readonly nullable: boolean;
  /** Connect schema of the column inside the row struct (`Value` / `Key`). */
  readonly schema: Schema;
  /** Driver value → Connect value (exact: no float for decimals, bigint for int64, bytes for binary). */
  readonly convert: (raw: unknown) => unknown;
}

export interface TableInfo {
  readonly id: TableId;
  readonly columns: readonly ColumnInfo[];
  /** Primary key column names in key order. */
  readonly keyColumns: readonly string[];
}

export type ChangeOp = 'c' | 'u' | 'd';

/** One row of the change table: which key of which table changed, how, and where it sits in the capture order. */
export interface ChangeRow {
  readonly table: TableId;
  /** Key values as text, in the base table's key column order (bound as parameters, never spliced into SQL). */
  readonly key: readonly string[];
  readonly op: ChangeOp;
  readonly seq: bigint;
  /** PostgreSQL transaction id of the writer (xid8), when the watermark column exists. */
  readonly txid?: bigint;
  /** SQL Server rowversion of the change row, when the watermark column exists. */
  readonly rowversion?: bigint;
  /** Change time in epoch ms, when the change table has a timestamp column. */
  readonly tsMs?: number;
  /** capture.mode=outbox: the outbox row as read (it is the event). */
  readonly raw?: RawRow;
  /** The base row read in the same statement (change_tracking joins it); null when the row is gone. */
  readonly current?: RawRow | null;
}

/** A base-table row as the driver returned it, by column name. */
export type RawRow = Record<string, unknown>;

/** The key of a change or row as one string, for maps. */
export function keyString(values: readonly unknown[]): string {
  // Key values read from a change table are already text: nothing to normalize.
  if (values.every((v) => typeof v === 'string')) return JSON.stringify(values);
  return JSON.stringify(values.map((v) => (v === null || v === undefined ? null : normalizeKeyPart(v))));
}

/** One key value as a map key: distinct values give distinct strings (null is not a text a key value gives). */
export function keyPartString(v: unknown): string {
  return v === null || v === undefined ? '\u0000null' : normalizeKeyPart(v);
}

function normalizeKeyPart(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Key values as text for offsets and parameters (JSON-safe; bigint and Decimal exact). */
export function textOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
