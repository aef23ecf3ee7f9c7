import pg from 'pg';
import { classifyDbError } from '../../../runtime/api/index.js';
import { JsonText, type Row, type SqlClient, bindable, isoLocalTimestamp } from './client.js';
import { type ConnectionOptions, pgConnectionSettings } from './connection.js';
import { numberPlaceholders, postgresSyntax } from './syntax.js';

const OID = {
  BOOL: 16,
  BYTEA: 17,
  INT8: 20,
  INT2: 21,
  INT4: 23,
  OID: 26,
  JSON: 114,
  FLOAT4: 700,
  FLOAT8: 701,
  TIMESTAMP: 1114,
  TIMESTAMPTZ: 1184,
  JSONB: 3802,
} as const;

/**
 * Exact values: int8 as bigint, numeric as the server's text, timestamps as ISO-8601 text with their microseconds
 * (`2026-11-22T10:00:00.123456`, and `Z` for timestamptz in the UTC session), other date/time types as the server's
 * text, bytea as Buffer, json and jsonb as their text (JsonText). Nothing passes through a float that was not a float in the database.
 */
const exactTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    switch (oid) {
      case OID.INT8:
        return (v: string) => BigInt(v);
      case OID.INT2:
      case OID.INT4:
      case OID.OID:
      case OID.FLOAT4:
      case OID.FLOAT8:
        return (v: string) => Number(v);
      case OID.BOOL:
        return (v: string) => v === 't';
      case OID.TIMESTAMP:
        return isoLocalTimestamp;
      case OID.TIMESTAMPTZ:
        return isoTimestampUtc;
      case OID.JSON:
      case OID.JSONB:
        return (v: string) => new JsonText(v);
      case OID.BYTEA:
        return pg.types.getTypeParser(oid, format ?? 'text');
      default:
        return (v: string) => v;
    }
  },
} as pg.CustomTypesConfig;

/** `2026-11-22 10:00:00.123456+00` (the UTC session's form) → `2026-11-22T10:00:00.123456Z`. */
function isoTimestampUtc(v: string): string {
  return v.endsWith('+00') ? `${isoLocalTimestamp(v.slice(0, -3))}Z` : v;
}

type Queryable = pg.Pool | pg.PoolClient;

export class PostgresClient implements SqlClient {
  readonly kind = 'postgresql' as const;

  private constructor(
    private readonly target: Queryable,
    private readonly pool: pg.Pool | null,
  ) {}

  static async open(options: ConnectionOptions, applicationName: string): Promise<PostgresClient> {
    const pool = new pg.Pool({
      ...pgConnectionSettings(options, applicationName),
      types: exactTypes,
      max: 4,
      // Date/time values come back as the server's text: in UTC, whatever the server's default zone.
      options: '-c TimeZone=UTC',
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const c = new PostgresClient(pool, pool);
    await c.query('SELECT 1');
    return c;
  }

  quote(identifier: string): string {
    return postgresSyntax.quoteQualified(identifier);
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const res = await this.target.query(numberPlaceholders(sql, postgresSyntax), params.map(bindable));
      return res.rows as Row[];
    } catch (e) {
      throw classifyDbError(e, 'PostgreSQL query');
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      const res = await this.target.query(numberPlaceholders(sql, postgresSyntax), params.map(bindable));
      return res.rowCount ?? 0;
    } catch (e) {
      throw classifyDbError(e, 'PostgreSQL statement');
    }
  }

  async scan(
    sql: string,
    params: readonly unknown[],
    sliceRows: number,
    onRows: (rows: Row[]) => Promise<void> | void,
  ): Promise<void> {
    // A cursor lives in a transaction; a read-only one holds no locks beyond its snapshot.
    await this.transaction(async (tx) => {
      await tx.execute(`DECLARE erpstream_scan NO SCROLL CURSOR FOR ${sql}`, params);
      for (;;) {
        const rows = await tx.query(`FETCH FORWARD ${Math.max(1, Math.trunc(sliceRows))} FROM erpstream_scan`);
        if (rows.length === 0) break;
        await onRows(rows);
      }
    });
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (!this.pool) return fn(this);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw classifyDbError(e, 'PostgreSQL connect');
    }
    // The pool listens for errors on idle clients only: a connection the server drops while this transaction holds it
    // (between two statements, while fn awaits something else) would otherwise be an uncaught 'error' that ends the
    // worker. The next statement on it fails and the transaction throws; the broken client is destroyed, not reused.
    let broken: Error | undefined;
    const onError = (e: Error) => (broken ??= e);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresClient(client, null));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      if (broken === undefined) await client.query('ROLLBACK').catch(() => {});
      throw classifyDbError(e, 'PostgreSQL transaction');
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }
}
