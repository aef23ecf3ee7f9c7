import { ConfigError, RetriableError, redactUrl, urlWithCredentials } from '../../runtime/api/index.js';
import { isPlainObject } from '../support.js';

/**
 * Code translation tables (table → code → value), loaded from a YAML/JSON structure or from a database
 * query returning (table, code, value) rows. PostgreSQL and MySQL/MariaDB are chosen by URL scheme.
 */
export type CodeTables = ReadonlyMap<string, ReadonlyMap<string, string | null>>;

/** The text a code is looked up by: trimmed (ERP CHAR codes are space-padded), numbers as digits. */
export function codeText(code: unknown): string {
  if (code instanceof Uint8Array) return Buffer.from(code).toString('utf8').trim();
  return String(code).trim();
}

export function tablesFromData(key: string, source: string, data: unknown): CodeTables {
  if (!isPlainObject(data)) throw ConfigError.invalid(key, source, 'expected a mapping of table → {code: value}');
  const tables = new Map<string, Map<string, string | null>>();
  for (const [table, codes] of Object.entries(data)) {
    if (!isPlainObject(codes)) {
      throw ConfigError.invalid(key, source, `table "${table}" must be a mapping of code → value`);
    }
    const m = new Map<string, string | null>();
    for (const [code, value] of Object.entries(codes)) m.set(codeText(code), value === null ? null : String(value));
    tables.set(table, m);
  }
  return tables;
}

function tablesFromRows(rows: readonly unknown[][]): CodeTables {
  const tables = new Map<string, Map<string, string | null>>();
  for (const row of rows) {
    if (row.length < 3) throw new ConfigError('tables.query must return three columns: table name, code, value');
    const table = codeText(row[0]);
    let m = tables.get(table);
    if (!m) tables.set(table, (m = new Map()));
    m.set(codeText(row[1]), row[2] === null || row[2] === undefined ? null : codeText(row[2]));
  }
  return tables;
}

export function dialectOf(url: string): 'postgres' | 'mysql' {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  throw ConfigError.invalid(
    'tables.connection.url',
    redactUrl(url),
    'the scheme must be postgres://, postgresql://, mysql:// or mariadb://',
  );
}

const CONNECT_TIMEOUT_MS = 10_000;

/** Runs the query once on a short-lived connection; connection failures are retriable. */
export async function loadTablesFromDatabase(
  url: string,
  query: string,
  credentials: { user: string | null; password: string | null } = { user: null, password: null },
): Promise<CodeTables> {
  const dialect = dialectOf(url);
  try {
    if (dialect === 'postgres') {
      const { default: pg } = await import('pg');
      const client = new pg.Client({
        connectionString: urlWithCredentials(url, credentials.user, credentials.password),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      await client.connect();
      try {
        const result = await client.query<unknown[]>({ text: query, rowMode: 'array' });
        return tablesFromRows(result.rows);
      } finally {
        await client.end();
      }
    }
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection({
      uri: url.replace(/^mariadb:/i, 'mysql:'),
      ...(credentials.user ? { user: credentials.user } : {}),
      ...(credentials.password ? { password: credentials.password } : {}),
      connectTimeout: CONNECT_TIMEOUT_MS,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    try {
      const [rows] = await conn.query({ sql: query, rowsAsArray: true });
      return tablesFromRows(rows as unknown[][]);
    } finally {
      await conn.end();
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new RetriableError(`Loading code tables from ${redactUrl(url)} failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
