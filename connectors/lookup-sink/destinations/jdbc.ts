import { ConfigError } from '../../../runtime/api/index.js';
import { idOf } from '../record-fields.js';
import type { Row, SqlClient } from '../sql/client.js';
import { chunks, guardedUpsert } from '../sql/ddl.js';
import { type TextTemplate, renderTemplate, rowValue } from '../template.js';
import type { Delivery, Destination, Rejection, Removal } from './destination.js';

/** The columns written: the shaped row when delivery.transforms is configured, else the looked-up row. */
const columnsOf = (d: Delivery) => d.shaped?.row ?? d.row;

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/**
 * Upserts rows into a table with a version guard: a row is only overwritten by a higher version, so an older
 * delivery (a replay, a second task) can never win. Only the columns the table has are written; removals are
 * DELETEs guarded the same way.
 */
export class JdbcDestination implements Destination {
  private readonly columnsByTable = new Map<string, string[]>();

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

  async deliver(items: readonly Delivery[]): Promise<readonly Rejection[]> {
    const byTable = new Map<string, Delivery[]>();
    for (const d of items) byTable.set(d.target, [...(byTable.get(d.target) ?? []), d]);
    await this.db.transaction(async (tx) => {
      for (const [table, list] of byTable) {
        const cols = await this.columns(table);
        const lower = new Set(cols.map((c) => c.toLowerCase()));
        const rowCols = Object.keys(columnsOf(list[0]!)).filter(
          (c) => lower.has(c.toLowerCase()) && c.toLowerCase() !== this.versionColumn.toLowerCase(),
        );
        const all = [...rowCols, this.versionColumn];
        const keys = this.keyColumns.map((k) => rowCols.find((c) => c.toLowerCase() === k.toLowerCase()) ?? k);
        for (const part of chunks(list, 200)) {
          const sql = guardedUpsert(tx, table, all, keys, this.versionColumn, part.length);
          await tx.execute(
            sql,
            part.flatMap((d) => [...rowCols.map((c) => rowValue(columnsOf(d), c) ?? null), d.version]),
          );
        }
      }
    });
    return [];
  }

  async remove(items: readonly Removal[]): Promise<readonly Rejection[]> {
    await this.db.transaction(async (tx) => {
      for (const r of items) {
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
