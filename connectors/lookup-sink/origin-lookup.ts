import type { LookupSinkSettings } from './config.js';
import { type EntityId, idText } from './record-fields.js';
import type { Row, SqlClient } from './sql/client.js';
import { chunks } from './sql/ddl.js';
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
    for (const part of chunks(ids, batchSize)) {
      let sql: string;
      let params: unknown[];
      if (lookupQuery) {
        ({ sql, params } = bindTemplate(lookupQuery, (name) => {
          if (name === 'ids') return { list: part };
          throw new Error(`lookup.query: unknown parameter :${name} (only :ids is available)`);
        }));
      } else {
        const cols = keyColumns.map((c) => this.db.quote(c));
        const rowValues = keyColumns.length === 1 || this.db.kind !== 'sqlserver';
        if (rowValues) {
          const tuple = keyColumns.length === 1 ? '?' : `(${cols.map(() => '?').join(', ')})`;
          const lhs = keyColumns.length === 1 ? cols[0]! : `(${cols.join(', ')})`;
          sql = `SELECT * FROM ${this.db.quote(lookupTable!)} WHERE ${lhs} IN (${part.map(() => tuple).join(', ')})`;
        } else {
          const ors = part.map(() => `(${cols.map((c) => `${c} = ?`).join(' AND ')})`).join(' OR ');
          sql = `SELECT * FROM ${this.db.quote(lookupTable!)} WHERE ${ors}`;
        }
        params = part.flat();
      }
      this.queries++;
      for (const row of await this.db.query(sql, params)) {
        const id = this.rowId(row);
        // A join may return a row per match; the first wins (fan-out to several destinations is not supported).
        if (!out.has(id)) out.set(id, row);
      }
    }
    return out;
  }
}
