import type { LookupSinkSettings } from './config.js';
import { type EntityId, idText } from './record-fields.js';
import type { Row, SqlClient } from './sql/client.js';
import { chunks, inList } from './sql/ddl.js';
import { bindTemplate } from './sql/named-params.js';
import { rowValue } from './template.js';

/**
 * Reads the current origin rows for a batch of ids: one query per `lookup.batch.size` ids, through the
 * configured table or the user's `:ids` query. Rows are matched back to ids by the key columns.
 */
export class OriginLookup {
  queries = 0;

  constructor(
    private readonly db: SqlClient,
    private readonly settings: Pick<LookupSinkSettings, 'lookupTable' | 'lookupQuery' | 'keyColumns' | 'batchSize'>,
  ) {}

  rowId(row: Row): string {
    return idText(
      this.settings.keyColumns.map((c) => {
        const v = rowValue(row, c);
        return v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
      }),
    );
  }

  async rows(ids: readonly EntityId[]): Promise<Map<string, Row>> {
    const out = new Map<string, Row>();
    const { lookupTable, lookupQuery, keyColumns, batchSize } = this.settings;
    // The chunks go out together: a put() larger than lookup.batch.size waits for one round trip, not several.
    const parts = chunks(ids, batchSize).map((part) => {
      let sql: string;
      let params: unknown[];
      if (lookupQuery) {
        ({ sql, params } = bindTemplate(lookupQuery, (name) => {
          if (name === 'ids') return { list: part };
          throw new Error(`lookup.query: unknown parameter :${name} (only :ids is available)`);
        }));
      } else {
        const cols = keyColumns.map((c) => this.db.quote(c));
        if (keyColumns.length === 1) {
          // The array parameter takes the key column's type (`= ANY(?)` infers it on PostgreSQL).
          const match = inList(
            this.db,
            cols[0]!,
            part.map((id) => id[0]),
          );
          sql = `SELECT * FROM ${this.db.quote(lookupTable!)} WHERE ${match.sql}`;
          params = match.params;
        } else if (this.db.kind !== 'sqlserver') {
          const tuple = `(${cols.map(() => '?').join(', ')})`;
          sql = `SELECT * FROM ${this.db.quote(lookupTable!)} WHERE (${cols.join(', ')}) IN (${part.map(() => tuple).join(', ')})`;
          params = part.flat();
        } else {
          const ors = part.map(() => `(${cols.map((c) => `${c} = ?`).join(' AND ')})`).join(' OR ');
          sql = `SELECT * FROM ${this.db.quote(lookupTable!)} WHERE ${ors}`;
          params = part.flat();
        }
      }
      this.queries++;
      return this.db.query(sql, params);
    });
    for (const rows of await Promise.all(parts)) {
      for (const row of rows) {
        const id = this.rowId(row);
        // A join may return a row per match; the first wins (fan-out to several destinations is not supported).
        if (!out.has(id)) out.set(id, row);
      }
    }
    return out;
  }
}
