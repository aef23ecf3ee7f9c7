import { describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { MysqlDialect } from '../../../../connectors/erp-source/dialects/mysql.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { mysqlFixture } from './harness.js';
import { defineCaptureSuite } from './capture.suite.js';
import { defineOutboxDeleteSuite } from './outbox-delete.suite.js';
import { defineSchemaEvolutionSuite } from './schema-evolution.suite.js';

defineCaptureSuite('MariaDB (gap tracking)', mysqlFixture, { gapTracking: true });
defineOutboxDeleteSuite('MariaDB', () => mysqlFixture());
defineSchemaEvolutionSuite('MariaDB', () => mysqlFixture());

describe('ErpSource MariaDB connection settings', () => {
  it('connects as connection.user with connection.password when connection.url carries no user', async () => {
    const admin = await mysql.createConnection({ uri: requireEnv('MYSQL_URL') });
    const user = `erps_user_${uniqueSuffix()}`.slice(0, 32);
    const password = 'pw with spaces/@:%';
    await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
    const url = new URL(requireEnv('MYSQL_URL').replace(/^mysql:/, 'mariadb:'));
    await admin.query(`GRANT SELECT ON ${admin.escapeId(url.pathname.slice(1))}.* TO ?@'%'`, [user]);
    url.username = '';
    url.password = '';
    const dialect = new MysqlDialect({ url: url.toString(), user, password });
    try {
      await dialect.connect();
      const rows = await dialect.run('SELECT CURRENT_USER() AS u', [], 'test');
      expect(String(rows[0]!.u)).toBe(`${user}@%`);
    } finally {
      await dialect.close();
      await admin.query(`DROP USER ?@'%'`, [user]);
      await admin.end();
    }
  });

  it('refuses a wrong connection.password with an error that does not show it', async () => {
    const url = new URL(requireEnv('MYSQL_URL'));
    const user = decodeURIComponent(url.username);
    url.username = '';
    url.password = '';
    const dialect = new MysqlDialect({ url: url.toString(), user, password: 'n0t-the-password' });
    const err = await dialect.connect().then(
      () => null,
      (e: unknown) => e as Error,
    );
    await dialect.close();
    expect(err?.message).toMatch(/Access denied/);
    expect(err?.message).not.toContain('n0t-the-password');
  });
});
