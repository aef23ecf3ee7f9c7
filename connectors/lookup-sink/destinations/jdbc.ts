import { ConfigError, DataError } from '../../../runtime/api/index.js';
import { byTargetAndEntityId } from '../entity-order.js';
import { idOf } from '../record-fields.js';
import { type DialectKind, type Row, type SqlClient, bindable } from '../sql/client.js';
import { chunks, guardedUpsert, guardedUpsertRows } from '../sql/ddl.js';
import { type TextTemplate, renderTemplate, rowValue } from '../template.js';
import type { Delivery, Destination, Rejection, Removal, SqlStatement } from './destination.js';

/** The columns written: the shaped row when delivery.transforms is configured, else the looked-up row. */
const columnsOf = (d: Delivery) => d.shaped?.row ?? d.row;

/** Field names as one text, case and order aside. */
const fieldsKey = (keys: readonly string[]) =>
  keys
    .map((c) => c.toLowerCase())
    .sort()
    .join('\u0000');

/**
 * The rows of one table grouped by the fields they have (usually one group: the rows of one lookup share their
 * columns). A delivery chain may give rows different fields: each row writes exactly its own, so what a row leaves
 * out keeps its stored value whatever it was batched with.
 */
function byFields(list: readonly Delivery[]): Delivery[][] {
  // Each row's field names are listed once; a row with the first row's fields in the first row's spelling and order
  // (nearly always every row) joins the first group without the sorted key the grouping compares.
  const first = Object.keys(columnsOf(list[0]!));
  const same: Delivery[] = [list[0]!];
  let groups: Map<string, Delivery[]> | null = null;
  for (let i = 1; i < list.length; i++) {
    const d = list[i]!;
    const keys = Object.keys(columnsOf(d));
    if (keys.length === first.length && keys.every((k, j) => k === first[j])) {
      same.push(d);
      continue;
    }
    groups ??= new Map([[fieldsKey(first), same]]);
    const k = fieldsKey(keys);
    const g = groups.get(k);
    if (g) g.push(d);
    else groups.set(k, [d]);
  }
  return groups ? [...groups.values()] : [same];
}

/** The table's columns a row names (matched without case, named as the table names them), version column aside. */
function columnsWritten(row: Delivery, table: ReadonlyMap<string, string>, version: string): string[] {
  const names = new Map<string, string>();
  for (const c of Object.keys(columnsOf(row))) {
    const l = c.toLowerCase();
    const column = table.get(l);
    if (column !== undefined && !names.has(l) && l !== version) names.set(l, column);
  }
  return [...names.values()];
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
/** The longest identifier each database keeps as written. */
const IDENTIFIER_MAX: Record<DialectKind, number> = { postgresql: 63, mysql: 64, sqlserver: 128 };

/** Rows per statement on PostgreSQL (one array parameter per column, whatever the row count). */
const PG_ROWS_PER_STATEMENT = 5000;
/** Rows per statement elsewhere (a placeholder per value). */
const ROWS_PER_STATEMENT = 200;

/**
 * A bound value (bindable(): JSON text for objects, ISO text for Dates, as the VALUES form binds them) whose text
 * PostgreSQL reads the same in an array literal. Bytes are bound as binary: a batch with any takes the VALUES form.
 */
function arrayReady(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

/**
 * Upserts rows into a table with a version guard: a row is only overwritten by a higher version, so an older
 * delivery (a replay, a second task) can never win. Only the columns the table has are written; removals are
 * DELETEs guarded the same way.
 */
export class JdbcDestination implements Destination {
  private readonly columnsByTable = new Map<string, string[]>();
  /** PostgreSQL: each column's type (lower-cased name → type without modifiers), null for an array column. */
  private readonly pgTypesByTable = new Map<string, Map<string, string | null>>();

  constructor(
    private readonly db: SqlClient,
    private readonly template: TextTemplate,
    private readonly entity: string,
    private readonly keyColumns: readonly string[],
    private readonly versionColumn: string,
  ) {}

  targetOf(row: Row, entityId: string): string {
    const table = renderTemplate(this.template, row, { entity: this.entity, id: entityId });
    if (!TABLE_NAME.test(table)) throw ConfigError.invalid('destination.table', table, 'Not a plain table name');
    // PostgreSQL cuts a longer identifier to its first 63 bytes without an error: another table than the one named.
    const max = IDENTIFIER_MAX[this.db.kind];
    const long = table.split('.').find((part) => part.length > max);
    if (long !== undefined) {
      throw new DataError(
        `destination.table template ${JSON.stringify(this.template.text)} gives the identifier ${JSON.stringify(long.slice(0, 80))} of ${long.length} characters for this row: at most ${max} on ${this.db.kind} (a longer one is cut, naming another table). Fix the value at its source, or use a shorter template`,
        this.template.names[0],
      );
    }
    return table;
  }

  private async columns(table: string): Promise<string[]> {
    const cached = this.columnsByTable.get(table);
    if (cached) return cached;
    const [schema, name] = table.includes('.') ? table.split('.') : [null, table];
    const current =
      this.db.kind === 'postgresql' ? 'current_schema()' : this.db.kind === 'mysql' ? 'DATABASE()' : 'SCHEMA_NAME()';
    const rows = await this.db.query(
      `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ${schema === null ? current : '?'} AND table_name = ?`,
      schema === null ? [name] : [schema, name],
    );
    const cols = rows.map((r) => String(r.c ?? r.C ?? r.COLUMN_NAME));
    if (cols.length === 0)
      throw new ConfigError(`destination.table: table ${table} does not exist`, 'destination.table');
    for (const needed of [...this.keyColumns, this.versionColumn]) {
      if (!cols.some((c) => c.toLowerCase() === needed.toLowerCase())) {
        throw new ConfigError(`destination table ${table} has no column ${needed}`, 'destination.table');
      }
    }
    this.columnsByTable.set(table, cols);
    return cols;
  }

  /**
   * PostgreSQL: the column types, for the array casts of an UNNEST upsert, by their qualified internal names and
   * without modifiers (`pg_catalog.bpchar`, not `character`, which means char(1)): the insert then applies the
   * column's own, so a too long value fails as a bound one does instead of being cut by the cast.
   */
  private async pgTypes(table: string): Promise<Map<string, string | null>> {
    const cached = this.pgTypesByTable.get(table);
    if (cached) return cached;
    const rows = await this.db.query(
      `SELECT a.attname AS c, quote_ident(n.nspname) || '.' || quote_ident(ty.typname) AS t, ty.typcategory AS k ` +
        `FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid JOIN pg_namespace n ON n.oid = ty.typnamespace ` +
        `WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped`,
      [this.db.quote(table)],
    );
    // An array column's values would be unnested element by element: those tables take the VALUES form.
    const types = new Map(rows.map((r) => [String(r.c).toLowerCase(), r.k === 'A' ? null : String(r.t)]));
    this.pgTypesByTable.set(table, types);
    return types;
  }

  sharesTransactionsWith(db: SqlClient): boolean {
    return db === this.db;
  }

  async deliver(items: readonly Delivery[], alongside: readonly SqlStatement[] = []): Promise<readonly Rejection[]> {
    const byTable = new Map<string, Delivery[]>();
    // Tables in name order, each in entity order, as the ledger writes its entries (ledger.ts): two tasks writing
    // overlapping entities (a re-delivery beside the live stream, a task not yet fenced after a rebalance) lock rows
    // in the same order, so a delivery committed with its ledger entries cannot deadlock with another.
    for (const d of [...items].sort(byTargetAndEntityId)) {
      const list = byTable.get(d.target);
      if (list) list.push(d);
      else byTable.set(d.target, [d]);
    }
    // The statements first: a batch that is one statement (one table, the usual case) needs no BEGIN and COMMIT
    // round trips around it, as a single statement is atomic by itself.
    const statements: SqlStatement[] = [];
    for (const [table, tableRows] of byTable) {
      const cols = await this.columns(table);
      const byLower = new Map(cols.map((c) => [c.toLowerCase(), c]));
      for (const list of byFields(tableRows)) {
        const rowCols = columnsWritten(list[0]!, byLower, this.versionColumn.toLowerCase());
        const all = [...rowCols, this.versionColumn];
        const keys = this.keyColumns.map((k) => rowCols.find((c) => c.toLowerCase() === k.toLowerCase()) ?? k);
        const values = (d: Delivery) => {
          const row = columnsOf(d);
          const out: unknown[] = rowCols.map((c) => rowValue(row, c) ?? null);
          out.push(d.version);
          return out;
        };
        const types = this.db.kind === 'postgresql' ? await this.pgTypes(table) : null;
        const pgTypes = types && all.map((c) => types.get(c.toLowerCase()) ?? null);
        if (pgTypes && pgTypes.every((t) => t !== null)) {
          // One statement per PG_ROWS_PER_STATEMENT rows, its SQL the same size whatever the row count.
          const rows = list.map((d) => values(d).map(bindable));
          if (rows.every((r) => r.every(arrayReady))) {
            for (const part of chunks(rows, PG_ROWS_PER_STATEMENT)) {
              statements.push(guardedUpsertRows(this.db, table, all, pgTypes, keys, this.versionColumn, part));
            }
            continue;
          }
        }
        for (const part of chunks(list, ROWS_PER_STATEMENT)) {
          const sql = guardedUpsert(this.db, table, all, keys, this.versionColumn, part.length);
          statements.push({ sql, params: part.flatMap(values) });
        }
      }
    }
    const [delivery] = statements;
    if (statements.length === 1 && alongside.length === 0) await this.db.execute(delivery!.sql, delivery!.params);
    else if (statements.length === 1 && this.db.kind === 'postgresql' && alongside.length === 1) {
      // The delivery and the statement alongside (its ledger entry) as one statement: atomic without BEGIN and COMMIT
      // round trips. The two write different tables, so neither sees the other's rows. PostgreSQL runs the main
      // statement (the ledger's) before a data-modifying WITH the main one does not read: the ledger's rows are
      // locked first, as the transaction below locks them.
      const entry = alongside[0]!;
      await this.db.execute(`WITH delivered AS (${delivery!.sql}) ${entry.sql}`, [
        ...delivery!.params,
        ...entry.params,
      ]);
    } else if (statements.length + alongside.length > 0) {
      // The ledger's statements first: the order the one statement above takes (two tasks, one committing a batch in
      // a statement and the other in a transaction, would lock the same rows in opposite orders).
      await this.db.transaction(async (tx) => {
        for (const st of [...alongside, ...statements]) await tx.execute(st.sql, st.params);
      });
    }
    return [];
  }

  async remove(items: readonly Removal[]): Promise<readonly Rejection[]> {
    // In the order deliver() writes rows: two tasks deleting the same entities (a task not yet fenced after a
    // rebalance) would otherwise lock them in their records' orders, and deadlock.
    const ordered = [...items].sort(byTargetAndEntityId);
    await this.db.transaction(async (tx) => {
      for (const r of ordered) {
        const id = idOf(r.entityId, this.keyColumns.length);
        const where = this.keyColumns.map((k) => `${tx.quote(k)} = ?`).join(' AND ');
        const v = tx.quote(this.versionColumn);
        if (r.unguarded) await tx.execute(`DELETE FROM ${tx.quote(r.target)} WHERE ${where}`, [...id]);
        else {
          await tx.execute(`DELETE FROM ${tx.quote(r.target)} WHERE ${where} AND (${v} IS NULL OR ${v} <= ?)`, [
            ...id,
            r.version,
          ]);
        }
      }
    });
    return [];
  }

  /** The connection belongs to the task (it may be shared with the lookup). */
  async close(): Promise<void> {}
}
