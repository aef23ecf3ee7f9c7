import type { Connection as CallbackConnection } from 'mysql2';
import mysql from 'mysql2/promise';
import { classifyDbError } from '../../../runtime/api/index.js';
import { JsonText, type Row, type SqlClient, bindable, isoLocalTimestamp } from './client.js';
import { type ConnectionOptions, MYSQL_UTC_SESSION, mysqlConnectionSettings } from './connection.js';
import { mysqlSyntax } from './syntax.js';

/** BIGINT as bigint (like PostgreSQL's int8); DECIMAL and dates stay the server's exact text. */
/**
 * BIGINT as bigint; DATETIME and TIMESTAMP as ISO-8601 text with their microseconds (`2026-11-22T10:00:00.123456`;
 * TIMESTAMP values are in UTC, the session's zone). No `Z`: MySQL and MariaDB refuse it when the value is written
 * back (a jdbc destination on MariaDB).
 */
const typeCast: mysql.TypeCast = (field, next) => {
  if (field.type === 'LONGLONG') {
    const text = field.string();
    return text === null ? null : BigInt(text);
  }
  if (field.type === 'DATETIME' || field.type === 'TIMESTAMP') {
    const text = field.string();
    return text === null ? null : isoLocalTimestamp(text);
  }
  // MySQL's JSON type, and MariaDB's JSON (a LONGTEXT the server marks as json): the text, as PostgreSQL's json.
  if (field.type === 'JSON' || field.extendedFormat === 'json') {
    const text = field.string('utf8');
    return text === null ? null : new JsonText(text);
  }
  return next();
};

type Queryable = mysql.Pool | mysql.PoolConnection;

export class MysqlClient implements SqlClient {
  readonly kind = 'mysql' as const;

  private constructor(
    private readonly target: Queryable,
    private readonly pool: mysql.Pool | null,
  ) {}

  static async open(options: ConnectionOptions): Promise<MysqlClient> {
    const pool = mysql.createPool({ ...mysqlConnectionSettings(options), connectionLimit: 4, typeCast });
    // The pool hands this event the driver's callback connection (its type says promise): a callback takes the
    // result, so a failure (a connection that dropped at once) shows on that connection's next query instead of
    // as an unhandled error.
    pool.on('connection', (conn) => {
      (conn as unknown as CallbackConnection).query(MYSQL_UTC_SESSION, () => {});
    });
    const c = new MysqlClient(pool, pool);
    await c.query('SELECT 1');
    return c;
  }

  quote(identifier: string): string {
    return mysqlSyntax.quoteQualified(identifier);
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const [rows] = await this.target.query(sql, params.map(bindable));
      return rows as Row[];
    } catch (e) {
      throw classifyDbError(e, 'MySQL query');
    }
  }

  async queryWithWarnings(sql: string, params: readonly unknown[] = []): Promise<{ rows: Row[]; warnings: string[] }> {
    // SHOW WARNINGS answers for the previous statement of the same connection.
    const conn = this.pool
      ? await this.pool.getConnection().catch((e: unknown) => Promise.reject(classifyDbError(e, 'MySQL connect')))
      : null;
    const on: Queryable = conn ?? this.target;
    try {
      const [rows] = await on.query(sql, params.map(bindable));
      const [shown] = await on.query('SHOW WARNINGS');
      const warnings = (shown as Array<{ Level?: string; Code?: number; Message?: string }>)
        .filter((w) => w.Level !== 'Note')
        .map((w) => `${w.Message ?? ''} (${w.Code ?? '?'})`);
      return { rows: rows as Row[], warnings };
    } catch (e) {
      throw classifyDbError(e, 'MySQL query');
    } finally {
      conn?.release();
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      const [res] = await this.target.query(sql, params.map(bindable));
      return (res as mysql.ResultSetHeader).affectedRows ?? 0;
    } catch (e) {
      throw classifyDbError(e, 'MySQL statement');
    }
  }

  async scan(
    sql: string,
    params: readonly unknown[],
    sliceRows: number,
    onRows: (rows: Row[]) => Promise<void> | void,
  ): Promise<void> {
    const conn = this.pool
      ? await this.pool.getConnection().catch((e: unknown) => Promise.reject(classifyDbError(e, 'MySQL connect')))
      : null;
    // The promise wrapper's `connection` is the driver's callback connection, which can stream (typed otherwise).
    const on = (conn ?? (this.target as mysql.PoolConnection)).connection as unknown as CallbackConnection;
    try {
      // The driver's row stream pauses the socket while a slice is handled: memory stays at one slice.
      const stream = on.query(sql, params.map(bindable)).stream({ highWaterMark: sliceRows });
      let slice: Row[] = [];
      for await (const row of stream as AsyncIterable<Row>) {
        slice.push(row);
        if (slice.length >= sliceRows) {
          await onRows(slice);
          slice = [];
        }
      }
      if (slice.length > 0) await onRows(slice);
    } catch (e) {
      throw classifyDbError(e, 'MySQL query');
    } finally {
      conn?.release();
    }
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (!this.pool) return fn(this);
    let conn: mysql.PoolConnection;
    try {
      conn = await this.pool.getConnection();
    } catch (e) {
      throw classifyDbError(e, 'MySQL connect');
    }
    try {
      await conn.beginTransaction();
      const result = await fn(new MysqlClient(conn, null));
      await conn.commit();
      return result;
    } catch (e) {
      await conn.rollback().catch(() => {});
      throw classifyDbError(e, 'MySQL transaction');
    } finally {
      conn.release();
    }
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }
}
