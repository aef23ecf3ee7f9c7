import type { ConnectionOptions } from './connection.js';
import type { SqlKind } from './syntax.js';

/** A database row: column name → exact JS value (bigint, decimal text, Buffer, …). */
export type Row = Record<string, unknown>;

/**
 * A pooled connection to one database with the few operations a connector needs. SQL is written with `?`
 * placeholders and each client rewrites them to its driver's form (numberPlaceholders), so statements are written
 * once for every database; values are always bound, never spliced into SQL text.
 */
export interface SqlClient {
  readonly kind: SqlKind;
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /**
   * The query plus the warnings the server raised for it, for a dialect that coerces bound values silently (MySQL
   * and MariaDB compare 'abc' to an integer column as 0, with a warning). Absent where a bad value is an error.
   */
  queryWithWarnings?(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[]; warnings: string[] }>;
  /** Runs a statement and returns the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Streams a query's rows in slices of about `sliceRows`, each awaited before the next is read, so a whole table
   * passes through in bounded memory (a server-side cursor). Absent where not implemented (SQL Server).
   */
  scan?(
    sql: string,
    params: readonly unknown[],
    sliceRows: number,
    onRows: (rows: Row[]) => Promise<void> | void,
  ): Promise<void>;
  /** Runs fn on one connection inside a transaction (committed when fn resolves, rolled back when it throws). */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** A dotted name, each part quoted (the database's SqlSyntax.quoteQualified). */
  quote(identifier: string): string;
  close(): Promise<void>;
}

/**
 * Opens a pooled client for a database; drivers load lazily so an unused one costs nothing. `applicationName`
 * shows in the server's session list (PostgreSQL), so an operator sees which connector holds a connection.
 */
export async function openSqlClient(
  kind: SqlKind,
  options: ConnectionOptions,
  applicationName: string,
): Promise<SqlClient> {
  switch (kind) {
    case 'postgresql':
      return (await import('./postgres-pool.js')).PostgresClient.open(options, applicationName);
    case 'mysql':
      return (await import('./mysql-pool.js')).MysqlClient.open(options);
    case 'sqlserver':
      return (await import('./sqlserver-pool.js')).SqlServerClient.open(options);
  }
}

/**
 * A database's `2026-11-22 10:00:00.123456` as ISO-8601 (`2026-11-22T10:00:00.123456`), microseconds kept; anything
 * else (infinity, BC dates, a zone suffix) as it is. Called per timestamp value of every looked-up row.
 */
export function isoLocalTimestamp(text: string): string {
  const n = text.length;
  const last = text.charCodeAt(n - 1);
  return n >= 19 && n <= 26 && text.charCodeAt(4) === 45 && text.charCodeAt(10) === 32 && last >= 48 && last <= 57
    ? `${text.slice(0, 10)}T${text.slice(11)}`
    : text;
}

/**
 * A json/jsonb (MySQL/MariaDB JSON) column value as the database's own text. Parsing it would lose what a copy
 * must keep: a bare JSON string (`"s"` bound back as the text s is not JSON), JSON null (parsed, it is SQL NULL),
 * numbers beyond a double, json's spacing. Bound, it is that text; written into a JSON document (exactJson) it is
 * spliced as it is; JSON.stringify sees the parsed value.
 */
export class JsonText {
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
  toString(): string {
    return this.text;
  }
}

/** Binds values the drivers do not take as they are: bigint as exact text, plain objects/arrays as JSON. */
export function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof JsonText) return value.text;
  if (value === null || value instanceof Date || value instanceof Uint8Array || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return (value as { toJSON(): unknown }).toJSON();
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
