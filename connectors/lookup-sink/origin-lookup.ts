import { ErpStreamError } from '../../runtime/api/index.js';
import type { LookupSinkSettings } from './config.js';
import { type EntityId, idText } from './record-fields.js';
import type { Row, SqlClient } from './sql/client.js';
import { chunks, inList } from './sql/ddl.js';
import { bindTemplate } from './sql/named-params.js';
import { isolatePoison } from './poison.js';
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

  /**
   * The current rows of these ids, every row of an id (a join yields one per registration: fan-out), and the ids the
   * database could not take (poison), isolated by splitting the batch, each with the database's reason.
   */
  async rows(ids: readonly EntityId[]): Promise<LookupResult> {
    const out = new Map<string, Row[]>();
    const poison = new Map<string, Error>();
    const asked = (part: readonly EntityId[]) => new Set(part.map((id) => idText(id)));
    // The chunks go out together: a put() larger than lookup.batch.size waits for one round trip, not several.
    const parts = await Promise.all(
      chunks(ids, this.settings.batchSize).map((chunk) =>
        isolatePoison(chunk, (part) => this.query(part), {
          label: (id) => idText(id),
          check: (part, r) => this.problem(part, r, asked(part)),
        }),
      ),
    );
    for (const part of parts) {
      for (const [id, e] of part.poison) poison.set(id, e);
      for (const r of part.results) {
        for (const row of r.rows) {
          const id = this.rowId(row);
          const list = out.get(id);
          if (list) list.push(row);
          else out.set(id, [row]);
        }
      }
    }
    return { rows: out, poison };
  }

  /** A returned key nobody asked for (the database coerced an id) or a coercion warning; null when clean. */
  private problem(part: readonly EntityId[], r: QueryAnswer, asked: Set<string>): string | null {
    for (const row of r.rows) {
      const id = this.rowId(row);
      if (!asked.has(id)) {
        const req = part.length === 1 ? ` for the requested id ${JSON.stringify(idText(part[0]!))}` : '';
        return `The lookup returned key ${JSON.stringify(id)}${req}: the database coerced the id to another value`;
      }
    }
    // Only warnings about a requested id count: a lookup.query may warn about its own expressions on good data.
    const values = part.flatMap((id) => id.map((v) => `'${v}'`));
    const about = r.warnings.filter((w) => values.some((v) => w.includes(v)));
    if (about.length > 0) return `The lookup raised warnings: ${about.slice(0, 3).join('; ')}`;
    return null;
  }

  private async query(asked: readonly EntityId[]): Promise<QueryAnswer> {
    const { lookupTable, lookupQuery, keyColumns } = this.settings;
    // MariaDB resolves `pk IN ('abc')` against the primary key without a word; with two values it compares them
    // and warns. A lone id is therefore asked twice where warnings are the signal.
    const part = asked.length === 1 && this.db.queryWithWarnings ? [asked[0]!, asked[0]!] : asked;
    let sql: string;
    let params: unknown[];
    if (lookupQuery) {
      ({ sql, params } = bindTemplate(lookupQuery, (name) => {
        if (name === 'ids') return { list: part };
        throw new ErpStreamError(
          'LOOKUP_SINK_QUERY_PARAMETER',
          `lookup.query: unknown parameter :${name} (only :ids is available)`,
        );
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
    // Where the database coerces silently, its warnings are the only sign that an id did not fit the column.
    if (this.db.queryWithWarnings) return this.db.queryWithWarnings(sql, params);
    return { rows: await this.db.query(sql, params), warnings: [] };
  }
}

interface QueryAnswer {
  rows: Row[];
  warnings: string[];
}

export interface LookupResult {
  /** Every looked-up row per id text (several when the query fans out); an id without rows is gone. */
  readonly rows: Map<string, Row[]>;
  /** Ids the database could not take, with its reason: their records go to the DLQ. */
  readonly poison: Map<string, Error>;
}
