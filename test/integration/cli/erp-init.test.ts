import mysql from 'mysql2/promise';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { changeTableDdl, changeTriggersDdl } from '../../../connectors/erp-source/setup-sql.js';
import { initSql } from '../../../cli/erp/init-sql.js';
import { runCliProcess } from '../../unit/cli/cli-process.js';
import { requireEnv, uniqueSuffix } from '../env.js';

/**
 * `erpstream erp init --apply` on the real databases: the change table and triggers it creates capture inserts,
 * updates (key updates as delete + insert) and deletes, and they are the statements the connector's own tests
 * build their databases with.
 */

describe('erp init', () => {
  it('prints exactly the SQL the connector tests use, plus the grants', () => {
    const sql = initSql({
      dialect: 'postgresql',
      tables: [{ table: 'erp.shipment', keyColumns: ['SHPMT_NO'] }],
      changeTable: 'erp.change_log',
      user: 'erpstream',
    });
    expect(sql.statements).toEqual([
      ...changeTableDdl('postgresql', { changeTable: 'erp.change_log', keyColumns: ['record_id'] }),
      ...changeTriggersDdl('postgresql', {
        changeTable: 'erp.change_log',
        keyColumns: ['record_id'],
        table: 'erp.shipment',
        baseKeyColumns: ['SHPMT_NO'],
      }),
      'GRANT USAGE ON SCHEMA "erp" TO "erpstream"',
      'GRANT SELECT ON "erp"."shipment" TO "erpstream"',
      'GRANT SELECT ON "erp"."change_log" TO "erpstream"',
    ]);
  });

  it('--apply on PostgreSQL captures inserts, key updates and deletes', async () => {
    const url = requireEnv('PG_URL');
    const schema = `erpinit_${uniqueSuffix()}`;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA "${schema}"`);
      await c.query(`CREATE TABLE "${schema}"."shipment" ("SHPMT_NO" varchar(12) PRIMARY KEY, n int)`);
      const init = ['erp', 'init', '--dialect', 'postgresql', '-t', `${schema}.shipment:SHPMT_NO`, '--apply'];
      const r = await runCliProcess([...init, '--connection-url', url]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`change.table=${schema}.change_log`);
      await c.query(`INSERT INTO "${schema}"."shipment" VALUES ('S1', 1)`);
      await c.query(`UPDATE "${schema}"."shipment" SET "SHPMT_NO" = 'S2'`);
      await c.query(`DELETE FROM "${schema}"."shipment"`);
      const rows = await c.query(`SELECT table_name, record_id, op FROM "${schema}"."change_log" ORDER BY seq`);
      expect(rows.rows.map((x: { record_id: string; op: string }) => `${x.op}${x.record_id}`)).toEqual([
        'IS1',
        'DS1',
        'IS2',
        'DS2',
      ]);
      // Run twice, it says which statement failed and how far it got.
      const again = await runCliProcess([...init, '--connection-url', url]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('Statement 1 of 6 failed');
    } finally {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  }, 60_000);

  it('--apply on MariaDB captures the same', async () => {
    const base = requireEnv('MYSQL_URL');
    const db = `erpinit_${uniqueSuffix()}`;
    const c = await mysql.createConnection({ uri: base });
    try {
      await c.query(`CREATE DATABASE \`${db}\``);
      await c.query(`CREATE TABLE \`${db}\`.\`shipment\` (SHPMT_NO varchar(12) PRIMARY KEY, n int)`);
      const r = await runCliProcess([
        'erp',
        'init',
        '--dialect',
        'mariadb',
        '-t',
        `${db}.shipment:SHPMT_NO`,
        '--apply',
        '--connection-url',
        base,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      await c.query(`INSERT INTO \`${db}\`.shipment VALUES ('S1', 1)`);
      await c.query(`UPDATE \`${db}\`.shipment SET n = 2`);
      await c.query(`DELETE FROM \`${db}\`.shipment`);
      const [rows] = await c.query(`SELECT record_id, op FROM \`${db}\`.change_log ORDER BY seq`);
      expect((rows as Array<{ record_id: string; op: string }>).map((x) => `${x.op}${x.record_id}`)).toEqual([
        'IS1',
        'US1',
        'DS1',
      ]);
    } finally {
      await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await c.end();
    }
  }, 60_000);
});
