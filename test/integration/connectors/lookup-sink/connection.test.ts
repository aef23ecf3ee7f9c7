import { describe, expect, it } from 'vitest';
import { RetriableError } from '../../../../runtime/api/index.js';
import { openSqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { requireEnv } from '../../env.js';

/** The origin, ledger and jdbc connections take their user from `*.connection.user` when the URL has none. */
describe.each([
  ['PostgreSQL', 'PG_URL'],
  ['MariaDB', 'MYSQL_URL'],
] as const)('LookupSink connections on %s', (_name, urlEnv) => {
  it('log in with lookup.connection.user / password given apart from a URL without credentials', async () => {
    const u = new URL(requireEnv(urlEnv));
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    const client = await openSqlClient({ url: u.toString(), user, password, urlKey: 'lookup.connection.url' });
    try {
      const rows = await client.query(
        client.kind === 'postgresql' ? 'SELECT current_user AS u' : 'SELECT CURRENT_USER() AS u',
        [],
      );
      expect(String(Object.values(rows[0]!)[0])).toMatch(new RegExp(`^${user}(@|$)`));
    } finally {
      await client.close();
    }
  });
});

describe.each([
  ['PostgreSQL', 'PG_URL', 'SELECT pg_backend_pid() AS pid', 'SELECT pg_terminate_backend(?)'],
  ['MariaDB', 'MYSQL_URL', 'SELECT CONNECTION_ID() AS pid', 'KILL ?'],
] as const)('A %s connection dropped while a transaction holds it', (_name, urlEnv, pidSql, killSql) => {
  it('fails that transaction as retriable, raises no uncaught error, and the next statement gets a new connection', async () => {
    const url = requireEnv(urlEnv);
    const client = await openSqlClient({ url, user: null, password: null, urlKey: 'lookup.connection.url' });
    const admin = await openSqlClient({ url, user: null, password: null, urlKey: 'lookup.connection.url' });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const failed = await client
        .transaction(async (tx) => {
          const [row] = await tx.query(pidSql);
          // The server ends the session between two statements: no query of ours is waiting for an answer.
          await admin.query(killSql, [Number(row!.pid)]);
          await new Promise((r) => setTimeout(r, 300));
          await tx.query('SELECT 1');
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(failed).toBeInstanceOf(RetriableError);
      expect(uncaught).toEqual([]);
      const rows = await client.query('SELECT 2 AS two');
      expect(Number(rows[0]!.two)).toBe(2);
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.close();
      await client.close();
    }
  });
});
