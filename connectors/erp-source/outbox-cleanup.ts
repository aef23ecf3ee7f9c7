import { ConfigError, type Logger } from '../../runtime/api/index.js';
import type { ChangeTableSettings } from './config.js';
import { type Cursor, isDone } from './cursor.js';
import { keyInPredicate } from '../shared/sql/index.js';
import type { Dialect } from './dialects/dialect.js';
import { type ChangeRow, type TableId, type TableInfo, qualified } from './model.js';

/** Parameters per DELETE stay below SQL Server's 2,100 (and far below the others' limits). */
const MAX_PARAMS_PER_DELETE = 2_000;
/**
 * Rows remembered for deletion while their offsets are not committed yet. Beyond this the oldest are forgotten
 * (a warning says so): they stay in the table and the start-up sweep of the next run deletes them.
 */
const MAX_TRACKED = 200_000;
/** Rows per page of the start-up sweep. */
const SWEEP_PAGE = 1_000;

type Tracked = { key: unknown[]; change: Pick<ChangeRow, 'seq' | 'txid' | 'rowversion'> };

/**
 * outbox.delete.processed: deletes outbox rows by primary key once the **committed** offset covers them. The
 * task asks the offset store what is committed (instead of trusting the order of the worker's callbacks), so a
 * row is never deleted before Kafka acknowledged it and its offset is stored; a crash between the offset commit
 * and the delete leaves the row behind, and the next start deletes it (`sweep`), it is never re-emitted.
 */
export class OutboxCleanup {
  private tracked: Tracked[] = [];
  private warnedOverflow = false;

  constructor(
    private readonly dialect: Dialect,
    private readonly table: TableInfo,
    private readonly settings: ChangeTableSettings,
    private readonly log: Logger,
  ) {}

  get tableId(): TableId {
    return this.table.id;
  }

  /** The outbox must have a primary key: rows are deleted by it. Returns the columns the reader must select. */
  static keyColumns(table: TableInfo): readonly string[] {
    if (table.keyColumns.length === 0) {
      throw ConfigError.invalid(
        'outbox.delete.processed',
        'true',
        `Outbox table ${qualified(table.id)} has no primary key; rows are deleted by primary key`,
      );
    }
    return table.keyColumns;
  }

  /** Remembers rows handed out to the worker (deleted once a committed offset covers them). */
  track(rows: readonly ChangeRow[]): void {
    for (const r of rows) {
      if (!r.raw) continue;
      this.tracked.push({
        key: this.table.keyColumns.map((k) => r.raw![k]),
        change: { seq: r.seq, ...(r.txid !== undefined ? { txid: r.txid } : {}) },
      });
    }
    if (this.tracked.length > MAX_TRACKED) {
      const dropped = this.tracked.length - MAX_TRACKED;
      this.tracked = this.tracked.slice(dropped);
      if (!this.warnedOverflow) {
        this.warnedOverflow = true;
        this.log.warn(
          'Outbox rows waiting for an offset commit exceed the tracking limit; the oldest are deleted at the next start',
          { limit: MAX_TRACKED, dropped },
        );
      }
    }
  }

  /** Deletes the tracked rows that `committed` covers; the others wait for a later commit. Returns the count. */
  async deleteCovered(committed: Cursor): Promise<number> {
    const covered: Tracked[] = [];
    const waiting: Tracked[] = [];
    for (const t of this.tracked) (isDone(committed, t.change) ? covered : waiting).push(t);
    if (covered.length === 0) return 0;
    await this.deleteKeys(covered.map((t) => t.key));
    // Only now: a failed delete keeps the rows tracked for the next commit.
    this.tracked = this.tracked.filter((t) => !covered.includes(t));
    return covered.length;
  }

  /**
   * Start-up: rows the stored offset covers but that are still in the table (the previous run stopped between an
   * offset commit and its delete). Reads by sequence up to the position's high mark, deletes what it covers.
   */
  async sweep(stored: Cursor): Promise<number> {
    const high = highMark(stored);
    if (high === null) return 0;
    const q = (c: string): string => this.dialect.quote(c);
    const seq = q(this.settings.sequenceColumn);
    const txid = stored.kind === 'xid' && this.settings.txidColumn ? this.settings.txidColumn : null;
    const cols = [
      ...this.table.keyColumns.map(q),
      `${seq} AS ${q('__erpstream_seq')}`,
      ...(txid ? [`${q(txid)}::text AS ${q('__erpstream_txid')}`] : []),
    ];
    const from = `${q(this.table.id.schema)}.${q(this.table.id.table)}`;
    const p = (n: number): string => this.dialect.placeholder(n);
    const cast = (ph: string): string => (this.dialect.kind === 'mysql' ? `CAST(${ph} AS SIGNED)` : ph);
    const limit = this.dialect.kind === 'sqlserver' ? `TOP (${SWEEP_PAGE}) ` : '';
    const tail = this.dialect.kind === 'sqlserver' ? '' : ` LIMIT ${SWEEP_PAGE}`;
    let after = -1n;
    let deleted = 0;
    for (;;) {
      const rows = await this.dialect.run(
        `SELECT ${limit}${cols.join(', ')} FROM ${from} WHERE ${seq} > ${cast(p(1))} AND ${seq} <= ${cast(p(2))} ` +
          `ORDER BY ${seq}${tail}`,
        [String(after), String(high)],
        `Reading processed rows of the outbox ${qualified(this.table.id)}`,
      );
      const keys: unknown[][] = [];
      for (const r of rows) {
        const change = {
          seq: BigInt(String(r.__erpstream_seq)),
          ...(r.__erpstream_txid !== undefined ? { txid: BigInt(String(r.__erpstream_txid)) } : {}),
        };
        if (isDone(stored, change)) keys.push(this.table.keyColumns.map((k) => r[k]));
        after = change.seq;
      }
      if (keys.length > 0) await this.deleteKeys(keys);
      deleted += keys.length;
      if (rows.length < SWEEP_PAGE) return deleted;
    }
  }

  private async deleteKeys(keys: readonly unknown[][]): Promise<void> {
    const q = (c: string): string => this.dialect.quote(c);
    const from = `${q(this.table.id.schema)}.${q(this.table.id.table)}`;
    const per = Math.max(1, Math.floor(MAX_PARAMS_PER_DELETE / this.table.keyColumns.length));
    for (let i = 0; i < keys.length; i += per) {
      const pred = keyInPredicate(
        q,
        this.table.keyColumns,
        keys.slice(i, i + per) as unknown as string[][],
        (n) => this.dialect.placeholder(n),
        1,
        this.dialect.kind !== 'sqlserver',
      );
      await this.dialect.run(
        `DELETE FROM ${from} WHERE ${pred.text}`,
        pred.params,
        `Deleting processed rows of the outbox ${qualified(this.table.id)}`,
      );
    }
  }
}

/** The highest sequence a position can cover (null: unknown, nothing is swept). */
function highMark(c: Cursor): bigint | null {
  switch (c.kind) {
    case 'gaps':
      return BigInt(c.seq);
    case 'xid':
      return c.seq === undefined ? null : BigInt(c.seq);
    default:
      return null; // SQL Server positions are rowversions: no sweep (rows left by a crash stay)
  }
}
