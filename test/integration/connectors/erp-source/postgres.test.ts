import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresDialect } from '../../../../connectors/erp-source/dialects/postgres.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { pgFixture } from './harness.js';
import { defineCaptureSuite } from './capture.suite.js';
import { defineOutboxDeleteSuite } from './outbox-delete.suite.js';
import { defineSchemaEvolutionSuite } from './schema-evolution.suite.js';

defineCaptureSuite('PostgreSQL (transaction watermark)', pgFixture, { gapTracking: false });
defineOutboxDeleteSuite('PostgreSQL', () => pgFixture());
defineSchemaEvolutionSuite('PostgreSQL', () => pgFixture());

describe('ErpSource PostgreSQL connection settings', () => {
  it('connects as connection.user with connection.password when connection.url carries no user', async () => {
    const admin = new pg.Client({ connectionString: requireEnv('PG_URL') });
    await admin.connect();
    const role = `erps_user_${uniqueSuffix()}`;
    const password = 'pw with spaces/@:%';
    await admin.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
    const url = new URL(requireEnv('PG_URL'));
    url.username = '';
    url.password = '';
    const dialect = new PostgresDialect({ url: url.toString(), user: role, password });
    try {
      await dialect.connect();
      const rows = await dialect.run('SELECT current_user AS u', [], 'test');
      expect(rows[0]!.u).toBe(role);
    } finally {
      await dialect.close();
      await admin.query(`DROP ROLE "${role}"`);
      await admin.end();
    }
  });
});
