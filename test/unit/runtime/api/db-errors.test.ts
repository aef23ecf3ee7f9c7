import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, RetriableError, classifyDbError } from '../../../../runtime/api/index.js';

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('classifyDbError', () => {
  it('makes a lost connection retriable, whatever driver reported it', () => {
    const lost = [
      coded('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      coded('terminating connection due to administrator command', '57P01'),
      coded('sorry, too many clients already', '53300'),
      coded('Connection was killed', 'ER_CONNECTION_KILLED'),
      coded('Connection lost: The server closed the connection.', 'PROTOCOL_CONNECTION_LOST'),
      coded('Lock wait timeout exceeded; try restarting transaction', 'ER_LOCK_WAIT_TIMEOUT'),
      new Error('Connection terminated unexpectedly'),
      // pg rejects every statement queued behind a terminated backend with these, without a code
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('Client was closed and is not queryable'),
      new Error('Query read timeout'),
    ];
    for (const err of lost) {
      const out = classifyDbError(err, 'Reading changes');
      expect(out, err.message).toBeInstanceOf(RetriableError);
      expect(out.message).toContain('Reading changes: database connection problem');
      expect(out.cause).toBe(err);
    }
  });

  it('makes anything else a DataError naming what was being done and the driver code', () => {
    const out = classifyDbError(coded('syntax error at or near "FROM"', '42601'), 'Reading changes');
    expect(out).toBeInstanceOf(DataError);
    expect(out.message).toBe('Reading changes: syntax error at or near "FROM" (42601)');
  });

  it('says which settings to check when the database refuses the login (PostgreSQL, MariaDB)', () => {
    for (const err of [
      coded('password authentication failed for user "erpstream"', '28P01'),
      coded("Access denied for user 'erpstream'@'localhost' (using password: YES)", 'ER_ACCESS_DENIED_ERROR'),
    ]) {
      const out = classifyDbError(err, 'Connecting to PostgreSQL');
      expect(out).toBeInstanceOf(DataError);
      expect(out.message).toContain(err.message);
      expect(out.message).toContain('check the user and password the connector uses');
    }
    expect(classifyDbError(coded('syntax error', '42601'), 'x').message).not.toContain('check the user');
  });

  it('passes typed errors through unchanged', () => {
    const typed = [new ConfigError('bad', 'connection.url'), new DataError('bad row'), new RetriableError('later')];
    for (const err of typed) expect(classifyDbError(err, 'Reading')).toBe(err);
  });
});
