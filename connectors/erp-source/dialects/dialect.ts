import type { ChangeTableSettings } from '../config.js';
import type { Cursor } from '../cursor.js';
import type { ChangeRow, RawRow, TableId, TableInfo } from '../model.js';
import type { CommitListenerEvents } from './postgres-notify.js';

/** Row from the change table as the driver returned it (column names as configured). */
export type RawChange = Record<string, unknown>;

/** One read of the change table: rows in capture order with the cursor after each, and the cursor after all. */
export interface ChangeBatch {
  rows: ChangeRow[];
  positions: Cursor[];
  end: Cursor;
  /** Gap-tracked sequence numbers given up in this read (rolled back or older than gap.timeout.ms). */
  expiredGaps: string[];
  /** Gap tracking: missing numbers not tracked in this read (more than MAX_NEW_GAPS at once). */
  cappedGaps?: number;
  /** Whether the read hit its limit (more is waiting: poll again without sleeping). */
  full: boolean;
  /** Sequence numbers given up earlier (`GapReadOptions.recheck`) whose change rows are there now. */
  late?: string[];
  /** The numbers this read was asked to re-read (`GapReadOptions.recheck`). */
  rechecked?: readonly string[];
  /** The evidence could not be trusted in this read (OpenTransactions 'stale'): timed-out gaps were kept. */
  staleEvidence?: true;
}

/**
 * Gap tracking's evidence: the age in ms of the oldest writing transaction open on the server (null: none);
 * 'stale' when the server's view of its transactions was not provably current, 'not-checked' when it was not read
 * this time. Either of the last two keeps every gap.
 */
export type OpenTransactions = number | null | 'stale' | 'not-checked';

/** Gap tracking: what a read does besides the next page and the open gaps. */
export interface GapReadOptions {
  /** Sequence numbers given up earlier, read again: a change committed late is still emitted. */
  recheck?: readonly string[];
}

/**
 * A consistent read of the database for an initial snapshot: every chunk is read in one transaction whose
 * start defines `handoff`, the stream position that captures exactly what the snapshot did not see.
 */
export interface SnapshotSession {
  readonly handoff: Cursor;
  count(table: TableInfo): Promise<number>;
  /** Up to `limit` rows with key > afterKey (key order), or from the start when afterKey is null. */
  chunk(table: TableInfo, afterKey: readonly string[] | null, limit: number): Promise<RawRow[]>;
  /**
   * Change rows the snapshot sees with a sequence above `after`, in sequence order, at most `limit`; with
   * `deletesOf` (values of the change table's table column) only the deletes of those tables. Gives snapshot rows
   * their versions and lets a snapshot emit deletes whose rows are gone (absent where not implemented).
   */
  changesAbove?(after: string, limit: number, deletesOf?: readonly string[]): Promise<ChangeRow[]>;
  /** The rows of these keys (text values in key column order) as the snapshot sees them. */
  rows?(table: TableInfo, keys: ReadonlyArray<readonly string[]>): Promise<RawRow[]>;
  close(): Promise<void>;
}

/**
 * What the connector needs from a database. Identifiers come from the catalog or from the config checked
 * against it, are quoted by `quote`, and values are always bound as parameters: no SQL text is built from data.
 */
export interface Dialect {
  readonly kind: 'postgresql' | 'mysql' | 'sqlserver';
  /** Database name (source.db). */
  readonly database: string;
  /** The schema a bare table name belongs to (PostgreSQL `public`, MySQL the database, SQL Server `dbo`). */
  readonly defaultSchema: string;
  connect(): Promise<void>;
  close(): Promise<void>;
  quote(identifier: string): string;
  /** Placeholder of the n-th (1-based) bound parameter: `$1`, `?`, `@p1`. */
  placeholder(n: number): string;
  /** Runs a read built by a capture module (identifiers quoted by `quote`, every value bound). */
  run(text: string, params: unknown[], what: string): Promise<RawRow[]>;
  listTables(): Promise<TableId[]>;
  /** Columns (with Connect schemas and converters) and primary key; throws when the table does not exist. */
  describe(table: TableId): Promise<TableInfo>;
  /** Checks the change table against the catalog and picks the capture kind (watermark or gap tracking). */
  prepareChangeTable(settings: ChangeTableSettings): Promise<Cursor['kind']>;
  /** The lowest sequence still in the change table (null when empty): detects purges past a stored position. */
  lowestSequence(): Promise<bigint | null>;
  /** The position "now": everything committed before is taken as done (snapshot.mode=never). */
  currentCursor(): Promise<Cursor>;
  readChanges(
    cursor: Cursor,
    limit: number,
    nowMs: number,
    gapTimeoutMs: number,
    options?: GapReadOptions,
  ): Promise<ChangeBatch>;
  /**
   * Gap tracking's evidence (MySQL/MariaDB: information_schema.INNODB_TRX): how long the oldest writing transaction
   * still open on the server (other than this connection's) has been running (see OpenTransactions).
   */
  openTransactionAgeMs?(): Promise<OpenTransactions>;
  /**
   * A dialect on its own connection for `readRows`, so base rows of one batch are read while the next batch's
   * change rows are read on this one; `this` where readRows depends on per-connection catalog state.
   */
  rowReader(): Dialect;
  /** Base rows for these keys (text values in key column order), one query per call. */
  readRows(table: TableInfo, keys: ReadonlyArray<readonly string[]>): Promise<RawRow[]>;
  beginSnapshot(): Promise<SnapshotSession>;
  /**
   * Commit wake-up (PostgreSQL): whether an enabled trigger on the change table calls a function that names
   * `channel` (the NOTIFY trigger of setup-sql.ts, or the DBA's own). Absent where the database has no NOTIFY.
   */
  notifyTriggerInstalled?(channel: string): Promise<boolean>;
  /** Commit wake-up: a dedicated connection LISTENing on `channel` until closed (reconnects on its own). */
  listenForCommits?(channel: string, events: CommitListenerEvents): { close(): Promise<void> };
  /** Change Tracking (SQL Server): checks and remembers the captured tables (read in name order). */
  captureTables?(tables: readonly TableInfo[]): Promise<void>;
  /** Change Tracking: CHANGE_TRACKING_MIN_VALID_VERSION of a table (null when CT is off for it). */
  minValidVersion?(table: TableInfo): Promise<bigint | null>;
}
