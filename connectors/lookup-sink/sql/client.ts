import { ConfigError } from '../../../runtime/api/index.js';

/** A database row as the lookup sink sees it: column name → exact JS value (bigint, decimal text, Buffer, …). */
export type Row = Record<string, unknown>;

export type DialectKind = 'postgresql' | 'mysql' | 'sqlserver';

/**
 * The few operations the sink needs from a database. SQL is written with `?` placeholders and each client
 * rewrites them to its driver's form, so statements are written once for every dialect; values are always
 * bound, never spliced into SQL text.
 */
export interface SqlClient {
  readonly kind: DialectKind;
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
  quote(identifier: string): string;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  url: string;
  user: string | null;
  password: string | null;
  /** The config key the URL came from, so errors name it. */
  urlKey: string;
}

/** The scheme of a database URL, shown in errors instead of the URL (which may carry a password). */
export function urlScheme(url: string): string {
  const scheme = url.split('://')[0] ?? '';
  return `${scheme}://…`;
}

export function dialectOf(url: string, key: string): DialectKind {
  const scheme = (/^([a-z]+):\/\//i.exec(url)?.[1] ?? '').toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgresql';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  if (scheme === 'sqlserver' || scheme === 'mssql') return 'sqlserver';
  throw ConfigError.invalid(key, urlScheme(url), 'Expected a postgresql://, mysql://, mariadb:// or sqlserver:// URL');
}

/** Opens a client for the URL's dialect; drivers load lazily so an unused one costs nothing. */
export async function openSqlClient(options: ConnectionOptions): Promise<SqlClient> {
  switch (dialectOf(options.url, options.urlKey)) {
    case 'postgresql':
      return (await import('./postgres.js')).PostgresClient.open(options);
    case 'mysql':
      return (await import('./mysql.js')).MysqlClient.open(options);
    case 'sqlserver':
      return (await import('./sqlserver.js')).SqlServerClient.open(options);
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

/** Binds values the drivers do not take as they are: bigint as exact text, plain objects/arrays as JSON. */
export function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value === null || value instanceof Date || value instanceof Uint8Array || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return (value as { toJSON(): unknown }).toJSON();
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Rewrites `?` placeholders (our own SQL never has a literal `?`) with a dialect's numbered form. */
export function numberPlaceholders(sql: string, ph: (n: number) => string): string {
  let n = 0;
  return sql.replace(/\?/g, () => ph(++n));
}
