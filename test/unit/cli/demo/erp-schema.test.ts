import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPTURED_TABLES,
  SHIPMENT_STATUS,
  createErpSchema,
  erpSchemaStatements,
} from '../../../../cli/demo/erp/schema.js';

// PGlite runs the same DDL in process (one session): enough to prove the schema, triggers and the xid8
// watermark column work there. The concurrent demo runs against PostgreSQL (test/integration/cli/demo).
let db: PGlite;

beforeAll(async () => {
  db = await PGlite.create();
  await createErpSchema({ query: (sql, params) => db.query(sql, params as unknown[]) as never });
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe('demo ERP schema', () => {
  it('has a capture trigger for every captured table, and the code translation rows', () => {
    const sql = erpSchemaStatements().join(';\n');
    for (const { table } of CAPTURED_TABLES) expect(sql).toContain(`CREATE TRIGGER "${table}_erpstream_capture"`);
    expect(sql).toContain(`('shipment_status', '10', 'CREATED')`);
    expect(Object.keys(SHIPMENT_STATUS)).not.toContain('77');
  });

  it('writes one change row per row change, with the key as text and the writing transaction id', async () => {
    await db.query(
      `INSERT INTO erp.shipment ("SHPMT_NO", "Z_CUST_CD", "STAT_CD") VALUES ('S1', 'AC01', '10'), ('S2', 'GX01', '10')`,
    );
    await db.query(`UPDATE erp.shipment SET "STAT_CD" = '20' WHERE "SHPMT_NO" = 'S1'`);
    await db.query(
      `INSERT INTO erp.phone ("PHONE_ID", "PERS_ID", "PHONE_NO", "Z_CUST_CD") VALUES (1, 99, '+49', 'AC01')`,
    );
    await db.query(`DELETE FROM erp.phone WHERE "PHONE_ID" = 1`);
    const rows = await db.query<{ table_name: string; record_id: string; op: string; txid: string }>(
      `SELECT table_name, record_id, op, txid::text AS txid FROM erp.change_log ORDER BY seq`,
    );
    expect(rows.rows.map((r) => [r.table_name, r.record_id, r.op])).toEqual([
      ['erp.shipment', 'S1', 'I'],
      ['erp.shipment', 'S2', 'I'],
      ['erp.shipment', 'S1', 'U'],
      ['erp.phone', '1', 'I'],
      ['erp.phone', '1', 'D'],
    ]);
    // Both rows of the multi-row insert share a transaction id; the next statement has a later one.
    expect(rows.rows[0]!.txid).toBe(rows.rows[1]!.txid);
    expect(BigInt(rows.rows[2]!.txid)).toBeGreaterThan(BigInt(rows.rows[1]!.txid));
    const xmin = await db.query<{ x: string }>(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x`);
    expect(BigInt(xmin.rows[0]!.x)).toBeGreaterThan(BigInt(rows.rows[4]!.txid));
  });
});
