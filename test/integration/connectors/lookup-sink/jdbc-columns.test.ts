import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JdbcDestination } from '../../../../connectors/lookup-sink/destinations/jdbc.js';
import type { Delivery } from '../../../../connectors/lookup-sink/destinations/destination.js';
import { type SqlClient, openSqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { compileTopicTemplate } from '../../../../connectors/lookup-sink/template.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

// A delivery chain may give the rows of one batch different fields (a field dropped or added for some records only).
// The columns written were the first row's: a field only later rows had was silently not written. Each row now
// writes exactly its own fields, so what it leaves out does not depend on what it was batched with.
const schema = `ls_jdbc_cols_${uniqueSuffix()}`;
let db: pg.Client;
let client: SqlClient;

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(
    `CREATE TABLE ${schema}.out (id int PRIMARY KEY, a text, b text, c text, erpstream_version numeric(20,0))`,
  );
  client = await openSqlClient({ url: requireEnv('PG_URL'), user: null, password: null, urlKey: 'url' });
});

afterAll(async () => {
  await client.close();
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('JdbcDestination: rows of one batch with different fields', () => {
  it('each row writes exactly its own fields, whatever it is batched with', async () => {
    const dest = new JdbcDestination(
      client,
      compileTopicTemplate('destination.table', `${schema}.out`),
      'item',
      ['id'],
      'erpstream_version',
    );
    const item = (id: number, row: Record<string, unknown>): Delivery => ({
      entityId: String(id),
      version: 7n,
      row: { id, ...row },
      target: `${schema}.out`,
    });
    // The same batch twice: rows whose fields differ, in an order that puts the narrowest row first, and a field
    // in upper case (columns are matched without case, as the lookup's are).
    await dest.deliver([item(1, { a: 'x' }), item(2, { b: 'y', unknown: 'ignored' }), item(3, { a: 'z', C: 'w' })]);
    const { rows } = await db.query(`SELECT id, a, b, c, erpstream_version::text AS v FROM ${schema}.out ORDER BY id`);
    expect(rows).toEqual([
      { id: 1, a: 'x', b: null, c: null, v: '7' },
      { id: 2, a: null, b: 'y', c: null, v: '7' },
      { id: 3, a: 'z', b: null, c: 'w', v: '7' },
    ]);
    // A newer version of 1 without `a`, batched with a row that has it: 1 keeps its `a` (as it would alone).
    await dest.deliver([
      { ...item(1, { b: 'q' }), version: 8n },
      { ...item(2, { a: 'r', b: 's' }), version: 8n },
    ]);
    const again = await db.query(
      `SELECT id, a, b, erpstream_version::text AS v FROM ${schema}.out WHERE id < 3 ORDER BY id`,
    );
    expect(again.rows).toEqual([
      { id: 1, a: 'x', b: 'q', v: '8' },
      { id: 2, a: 'r', b: 's', v: '8' },
    ]);
  });
});
