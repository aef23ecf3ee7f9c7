import { describe, expect, it } from 'vitest';
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
