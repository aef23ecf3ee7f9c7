import { ConfigError, urlWithCredentials } from '../../../runtime/api/index.js';

/**
 * Connection settings shared by every connection the connectors open: credentials from their own config keys
 * (never logged), a 10 s connect timeout, and sessions in UTC so date/time text means the same on every server.
 * Only the settings live here, not the drivers: each module that opens a connection imports its driver itself, so
 * a database nobody uses costs nothing.
 */
export interface ConnectionOptions {
  url: string;
  user: string | null;
  password: string | null;
  /** The config key the URL came from, so errors name it. */
  urlKey: string;
}

export const CONNECT_TIMEOUT_MS = 10_000;

/** Turns a session to UTC on MySQL/MariaDB (run once per new connection). */
export const MYSQL_UTC_SESSION = `SET time_zone = '+00:00'`;

/** The URL without credentials, path or options: what an error may show. */
function shownUrl(u: URL): string {
  return `${u.protocol}//${u.host}/`;
}

/** The database a URL's path names; a URL without one is a config error naming `urlKey`. */
export function databaseOfUrl(url: string, urlKey: string): string {
  const u = new URL(url.replace(/^(mariadb|mssql):/i, 'mysql:'));
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw ConfigError.invalid(urlKey, shownUrl(u), 'The URL must name a database');
  return database;
}

/** pg settings: credentials go into the URL, because pg parses a URL without a user over a separate `user`. */
export function pgConnectionSettings(
  o: ConnectionOptions,
  applicationName: string,
): { connectionString: string; connectionTimeoutMillis: number; application_name: string } {
  return {
    connectionString: urlWithCredentials(o.url, o.user, o.password),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: applicationName,
  };
}

/**
 * mysql2 settings: DECIMAL and BIGINT as strings and dates as the server's text (`decimalNumbers: false`,
 * `bigNumberStrings`, `dateStrings`), so nothing passes through a float and DATETIME(6) keeps its microseconds.
 */
export function mysqlConnectionSettings(o: ConnectionOptions) {
  return {
    uri: o.url.replace(/^mariadb:/i, 'mysql:'),
    ...(o.user ? { user: o.user } : {}),
    ...(o.password ? { password: o.password } : {}),
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: true,
    timezone: 'Z',
    connectTimeout: CONNECT_TIMEOUT_MS,
  } as const;
}

/**
 * `sqlserver://user:pass@host:1433/db?encrypt=false&trustServerCertificate=true` → mssql settings. The URL's
 * `encrypt` and `trustServerCertificate` win over the caller's defaults.
 */
export function sqlServerConnectionSettings(
  o: ConnectionOptions,
  defaults: { encrypt: boolean; trustServerCertificate: boolean },
) {
  const u = new URL(o.url.replace(/^mssql:/i, 'sqlserver:'));
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw ConfigError.invalid(o.urlKey, shownUrl(u), 'The URL must name a database');
  const flag = (name: string, dflt: boolean): boolean => {
    const v = u.searchParams.get(name);
    return v === null ? dflt : v === 'true';
  };
  return {
    server: u.hostname,
    port: u.port ? Number(u.port) : 1433,
    database,
    user: o.user ?? (decodeURIComponent(u.username) || undefined),
    password: o.password ?? (decodeURIComponent(u.password) || undefined),
    options: {
      encrypt: flag('encrypt', defaults.encrypt),
      trustServerCertificate: flag('trustServerCertificate', defaults.trustServerCertificate),
    },
    pool: { max: 4, min: 0 },
    connectionTimeout: CONNECT_TIMEOUT_MS,
  };
}
