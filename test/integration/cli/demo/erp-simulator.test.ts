import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURED_TABLES, POISON_STATUS, createErpSchema } from '../../../../cli/demo/erp/schema.js';
import { type Ledger, checkLedger, runSimulator } from '../../../../cli/demo/erp/simulator.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type ErpDatabase, createErpDatabase } from '../../../../cli/demo/erp/database.js';

// The demo ERP in a database of its own (the demo owns schema "erp"; other suites must not see it).
let erp: ErpDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  erp = await createErpDatabase(requireEnv('PG_URL'), `demo_erp_${uniqueSuffix()}`);
  pool = erp.pool;
});

afterAll(async () => {
  await erp?.close({ drop: true });
});

describe('demo ERP on PostgreSQL', () => {
  it('creates the tables, the translation codes and a trigger-filled change table with the txid watermark', async () => {
    const tables = await pool.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'erp' ORDER BY table_name`,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'change_log',
      'code_translation',
      'document',
      'document_domain',
      'party',
      'person',
      'phone',
      'shipment',
    ]);
    const cols = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'erp' AND table_name = 'shipment' ORDER BY ordinal_position`,
    );
    expect(cols.rows.map((r) => r.column_name)).toEqual(
      expect.arrayContaining(['SHPMT_NO', 'Z_CUST_CD', 'STAT_CD', 'dtUpdt']),
    );
    const codes = await pool.query(
      `SELECT value FROM erp.code_translation WHERE table_name = 'shipment_status' AND code = '10'`,
    );
    expect(codes.rows).toEqual([{ value: 'CREATED' }]);
    const poison = await pool.query(`SELECT 1 FROM erp.code_translation WHERE code = $1`, [POISON_STATUS]);
    expect(poison.rows).toHaveLength(0);
    const ctCols = await pool.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'erp' AND table_name = 'change_log'`,
    );
    expect(ctCols.rows).toEqual(expect.arrayContaining([{ column_name: 'txid', data_type: 'xid8' }]));
    const triggers = await pool.query(
      `SELECT DISTINCT event_object_table AS t FROM information_schema.triggers WHERE trigger_schema = 'erp' ORDER BY 1`,
    );
    // Each captured table fills the change table; the change table itself carries the commit wake-up (NOTIFY).
    expect(triggers.rows.map((r) => r.t)).toEqual([...CAPTURED_TABLES.map((t) => t.table), 'change_log'].sort());
  });

  it('hides the credentials of the demo database URL', () => {
    expect(erp.displayUrl).not.toContain(new URL(requireEnv('PG_URL')).password || '\u0000');
    expect(erp.displayUrl).toContain(`/${erp.name}`);
  });

  it('refuses to seed over an existing ERP schema', async () => {
    await expect(createErpSchema(pool)).rejects.toThrow(/already has a schema "erp"/);
  });

  describe('a 5-second operations run', () => {
    let ledger: Ledger;
    let seqAtLongTxCommit: { committedSeqs: bigint[]; later: bigint } | undefined;

    beforeAll(async () => {
      ledger = await runSimulator(pool, { durationMs: 5_000, rate: 40, longTransactionMs: 2_500, seed: 7 });
      const long = await pool.query(
        `SELECT seq FROM erp.change_log WHERE record_id IN (SELECT "SHPMT_NO" FROM erp.shipment WHERE "REMARK" = 'booked in a long transaction') AND table_name = 'erp.shipment'`,
      );
      const max = await pool.query(`SELECT max(seq) AS m FROM erp.change_log`);
      seqAtLongTxCommit = { committedSeqs: long.rows.map((r) => BigInt(r.seq)), later: BigInt(max.rows[0].m) };
    }, 60_000);

    it('records every row per customer and every change: the ledger matches the tables and the change table', async () => {
      const check = await checkLedger(pool, ledger);
      expect(check.mismatches).toEqual([]);
      expect(check.ok).toBe(true);
      for (const c of ['acme', 'globex']) {
        const total = check.counts.filter((x) => x.customer === c).reduce((n, x) => n + x.database, 0);
        expect(total).toBeGreaterThan(0);
      }
      const changes = Object.values(ledger.changes).reduce((a, b) => a + b, 0);
      const inTable = await pool.query(`SELECT count(*)::int AS n FROM erp.change_log`);
      expect(inTable.rows[0].n).toBe(changes);
      expect(ledger.operations).toBeGreaterThan(50);
    });

    it('includes the races, a long transaction that committed after later changes, and one poison row', async () => {
      expect(ledger.races.documentsBeforeRegistration).toBeGreaterThan(0);
      expect(ledger.races.phonesBeforePersons).toBeGreaterThan(0);
      // A document's change row comes before its registration's; a phone's before its person's.
      const order = await pool.query(`
        SELECT count(*)::int AS n FROM erp.change_log d JOIN erp.change_log r
          ON r.record_id = d.record_id AND r.table_name = 'erp.document_domain'
         WHERE d.table_name = 'erp.document' AND d.op = 'I' AND d.seq < r.seq`);
      expect(order.rows[0].n).toBeGreaterThan(0);
      expect(ledger.longTransaction?.committedAt).not.toBeNull();
      expect(ledger.longTransaction!.heldMs).toBeGreaterThanOrEqual(2_400);
      // Its change row has a lower sequence than rows committed while it was open: what a naive poller skips.
      expect(seqAtLongTxCommit!.committedSeqs).toHaveLength(1);
      expect(seqAtLongTxCommit!.committedSeqs[0]! < seqAtLongTxCommit!.later).toBe(true);
      const poison = Object.values(ledger.customers).flatMap((c) => c.poison);
      expect(poison).toHaveLength(1);
      const row = await pool.query(`SELECT "STAT_CD" FROM erp.shipment WHERE "SHPMT_NO" = $1`, [poison[0]!.id]);
      expect(row.rows).toEqual([{ STAT_CD: POISON_STATUS }]);
    });

    it('detects a row the ledger does not know (the check can fail)', async () => {
      await pool.query(
        `INSERT INTO erp.phone ("PHONE_ID", "PERS_ID", "PHONE_NO", "Z_CUST_CD") VALUES (999999, 1, 'x', 'AC01')`,
      );
      const check = await checkLedger(pool, ledger);
      expect(check.ok).toBe(false);
      expect(check.mismatches).toEqual(
        expect.arrayContaining([
          'acme phone: in the ERP but not in the ledger: 999999',
          `change table: ${ledger.changes.phone! + 1} changes of erp.phone, the ledger wrote ${ledger.changes.phone}`,
        ]),
      );
    });
  });
});
