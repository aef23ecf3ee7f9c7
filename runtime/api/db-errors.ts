import { ConfigError, DataError, RetriableError } from './errors.js';

/** Driver codes that mean "try again": the connection went away, the server is busy or a transaction lost a race. */
const RETRIABLE_CODES = new Set([
  // Node sockets and the drivers' own connection codes
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ESOCKET',
  'ECONNCLOSED',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  // PostgreSQL: connection exceptions, shutdowns, too many connections, serialization failures and deadlocks
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08P01',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '53300',
  '40001',
  '40P01',
  // MySQL/MariaDB: too many connections, server shutdown, a killed connection, lock conflicts
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/**
 * Driver messages that mean the connection is gone, for errors that carry no code. pg rejects every statement
 * queued behind a terminated backend with "Client has encountered a connection error and is not queryable".
 */
const LOST_CONNECTION =
  /Connection terminated|connection is closed|Connection lost|not connected|closed state|not queryable|timeout expired|Query read timeout|timeout exceeded when trying to connect/i;

/**
 * Turns a database driver error into a typed one: connection loss and transient conflicts become RetriableError
 * (the runtime retries with backoff); anything else is a DataError naming what was being done and the driver code.
 */
export function classifyDbError(err: unknown, what: string): Error {
  if (err instanceof ConfigError || err instanceof DataError || err instanceof RetriableError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  if ((code !== undefined && RETRIABLE_CODES.has(code)) || LOST_CONNECTION.test(msg)) {
    return new RetriableError(`${what}: database connection problem (${code ?? 'connection lost'}): ${msg}`, {
      cause: err,
    });
  }
  // The driver's text ("password authentication failed") says what, not which settings to look at.
  const hint = code !== undefined && AUTH_CODES.has(code) ? `; ${AUTH_HINT}` : '';
  return new DataError(`${what}: ${msg}${code ? ` (${code})` : ''}${hint}`, undefined, { cause: err });
}

/** Driver codes of a refused login: PostgreSQL 28P01/28000, MySQL/MariaDB access denied, SQL Server's ELOGIN. */
const AUTH_CODES = new Set(['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ELOGIN']);
const AUTH_HINT =
  'the database refused the login: check the user and password the connector uses (its *.user and *.password keys, or the user in the URL) and that the user may connect to that database';

/**
 * Whether a driver error (or the typed error wrapping it) is a refused login, so config validation can show it on
 * the password key rather than on the URL.
 */
export function isLoginRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && AUTH_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether a driver error (or the typed error wrapping it) is a unique-key violation: PostgreSQL 23505, MySQL/MariaDB
 * ER_DUP_ENTRY (1062), SQL Server 2627/2601. Lets a writer racing another over the same key treat "already there"
 * as an answer instead of a failure.
 */
export function isDuplicateKeyError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const x = e as {
      code?: unknown;
      errno?: unknown;
      number?: unknown;
      originalError?: { info?: { number?: unknown } };
      cause?: unknown;
    };
    if (x.code === '23505' || x.code === 'ER_DUP_ENTRY' || x.errno === 1062) return true;
    const n = x.number ?? x.originalError?.info?.number;
    if (n === 2627 || n === 2601) return true;
    e = x.cause;
  }
  return false;
}
