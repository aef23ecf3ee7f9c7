import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type Decimal, type SourceRecord } from '../../../../runtime/api/index.js';
import { mssqlConfig } from '../../../../connectors/erp-source/dialects/sqlserver.js';
import { changeTableDdl, changeTriggersDdl } from '../../../../connectors/erp-source/setup-sql.js';
import { uniqueSuffix } from '../../env.js';
import { CHANGE_TABLE, TaskHarness, envelope, events, header, keyOf } from './harness.js';

const MSSQL_URL = process.env.MSSQL_URL?.trim();
const SKIP_REASON =
  'skipped: MSSQL_URL is not set — SQL Server cannot run on our machines; start compose/ SQL Server 2022 and set ' +
  'MSSQL_URL=sqlserver://sa:…@127.0.0.1:1433/master?encrypt=false to run';

/**
 * SQL Server: rowversion watermark (MIN_ACTIVE_ROWVERSION()), decimals/datetime2 read as text, SNAPSHOT isolation
 * for snapshots. Runs only against a real SQL Server; nothing stands in for it.
 */
if (!MSSQL_URL) console.warn(`[erp-source] SQL Server suite ${SKIP_REASON}`);

describe.skipIf(!MSSQL_URL)(
  `ErpSource change_table capture on SQL Server (${MSSQL_URL ? 'MSSQL_URL set' : SKIP_REASON})`,
  () => {
    const schema = `erps_${uniqueSuffix()}`;
    let pool: sql.ConnectionPool;
    const exec = async (text: string, on: sql.ConnectionPool = pool) =>
      (await on.request().query(text)).recordset ?? [];
    const q = (t: string) => `[${schema}].[${t}]`;
    const props = (table: string, extra: Record<string, string> = {}) => ({
      'connection.url': MSSQL_URL!,
      'change.table': `${schema}.${CHANGE_TABLE}`,
      'topic.prefix': 'erp',
      'table.include.list': `${schema}\\.${table}`,
      'poll.interval.ms': '50',
      ...extra,
    });
    const createCaptured = async (table: string, columns: string) => {
      await exec(`CREATE TABLE ${q(table)} (${columns})`);
      for (const ddl of changeTriggersDdl('sqlserver', {
        changeTable: `${schema}.${CHANGE_TABLE}`,
        keyColumns: ['record_id'],
        table: `${schema}.${table}`,
        baseKeyColumns: ['id'],
      })) {
        await exec(ddl);
      }
    };

    beforeAll(async () => {
      pool = await new sql.ConnectionPool(mssqlConfig({ url: MSSQL_URL!, user: null, password: null })).connect();
      const db = String((await exec('SELECT DB_NAME() AS d'))[0]!.d);
      await exec(`ALTER DATABASE [${db}] SET ALLOW_SNAPSHOT_ISOLATION ON`).catch(() => {});
      await exec(`CREATE SCHEMA [${schema}]`);
      for (const ddl of changeTableDdl('sqlserver', {
        changeTable: `${schema}.${CHANGE_TABLE}`,
        keyColumns: ['record_id'],
      })) {
        await exec(ddl);
      }
    });

    afterAll(async () => {
      if (!pool) return;
      const tables = await exec(`SELECT name FROM sys.tables WHERE schema_id = SCHEMA_ID('${schema}')`);
      for (const t of tables) await exec(`DROP TABLE ${q(String(t.name))}`);
      await exec(`DROP SCHEMA [${schema}]`);
      await pool.close();
    });

    it('emits a change whose transaction committed after later ones were emitted (rowversion watermark)', async () => {
      await createCaptured('doc', 'id int PRIMARY KEY, body nvarchar(40)');
      const h = new TaskHarness(props('doc', { 'snapshot.mode': 'never' }));
      await h.start();
      expect(h.logs.find((l) => l.msg === 'ErpSource task starting')!.fields!.capture).toBe('rowversion watermark');
      const single = await new sql.ConnectionPool({
        ...mssqlConfig({ url: MSSQL_URL!, user: null, password: null }),
        pool: { max: 1, min: 1 },
      }).connect();
      try {
        await exec('BEGIN TRANSACTION', single);
        await exec(`INSERT INTO ${q('doc')} (id, body) VALUES (1000, N'late')`, single);
        for (let i = 1; i <= 100; i++) await exec(`INSERT INTO ${q('doc')} (id, body) VALUES (${i}, N'early')`);
        // rows above the open transaction's rowversion wait for it (MIN_ACTIVE_ROWVERSION); nothing is skipped
        await exec('COMMIT', single);
      } finally {
        await single.close();
      }
      const got = await h.pollUntil((all) => new Set(events(all).map((r) => keyOf(r))).size >= 101);
      expect(events(got).map((r) => keyOf(r))).toContain(1000);
      await h.stop();
    });

    it('streams deletes with tombstones and keeps money/decimal/datetime2/uniqueidentifier exact', async () => {
      await createCaptured(
        'typed',
        'id int PRIMARY KEY, amount decimal(19,4), m money, ts datetime2(7), g uniqueidentifier, big bigint, b varbinary(8), t nvarchar(40)',
      );
      await exec(
        `INSERT INTO ${q('typed')} VALUES (1, 12345678901234.5678, 922337203685477.5807, '2024-02-29 23:59:59.1234567',
        'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 9007199254740993, 0x00FF01, N'物流 🚚')`,
      );
      const h = new TaskHarness(props('typed'));
      await h.start();
      const snap = await h.pollUntil((all) => events(all).length >= 1);
      const after = envelope(events(snap)[0]!).after!;
      expect((after.get('amount') as Decimal).toString()).toBe('12345678901234.5678');
      expect((after.get('m') as Decimal).toString()).toBe('922337203685477.5807');
      expect(after.get('ts')).toBe(1709251199123456n);
      expect(after.get('g')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
      expect(after.get('big')).toBe(9007199254740993n);
      expect(after.get('t')).toBe('物流 🚚');
      await exec(`DELETE FROM ${q('typed')} WHERE id = 1`);
      const del = await h.pollUntil((all) => all.some((r) => r.value === null));
      expect(envelope(events(del)[0]!).op).toBe('d');
      expect(header(events(del)[0]!, 'erpstream.version')).toMatch(/^\d+$/);
      await h.stop();
    });
  },
);

describe.skipIf(!MSSQL_URL)(
  `ErpSource change_tracking capture on SQL Server (${MSSQL_URL ? 'MSSQL_URL set' : SKIP_REASON})`,
  () => {
    const schema = `erpct_${uniqueSuffix()}`;
    let pool: sql.ConnectionPool;
    const exec = async (text: string) => (await pool.request().query(text)).recordset ?? [];
    const q = (t: string) => `[${schema}].[${t}]`;
    const props = (table: string, extra: Record<string, string> = {}) => ({
      'connection.url': MSSQL_URL!,
      'capture.mode': 'change_tracking',
      'topic.prefix': 'erp',
      'table.include.list': `${schema}\\.${table}`,
      'poll.interval.ms': '50',
      ...extra,
    });
    const createTracked = async (table: string) => {
      await exec(`CREATE TABLE ${q(table)} (id int PRIMARY KEY, body nvarchar(40), amount decimal(12,2))`);
      await exec(`ALTER TABLE ${q(table)} ENABLE CHANGE_TRACKING`);
    };

    beforeAll(async () => {
      pool = await new sql.ConnectionPool(mssqlConfig({ url: MSSQL_URL!, user: null, password: null })).connect();
      const db = String((await exec('SELECT DB_NAME() AS d'))[0]!.d);
      await exec(`ALTER DATABASE [${db}] SET ALLOW_SNAPSHOT_ISOLATION ON`).catch(() => {});
      // Already on is fine; the connector checks CHANGE_TRACKING_CURRENT_VERSION() itself.
      await exec(
        `ALTER DATABASE [${db}] SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)`,
      ).catch(() => {});
      await exec(`CREATE SCHEMA [${schema}]`);
    });

    afterAll(async () => {
      if (!pool) return;
      const tables = await exec(`SELECT name FROM sys.tables WHERE schema_id = SCHEMA_ID('${schema}')`);
      for (const t of tables) await exec(`DROP TABLE ${q(String(t.name))}`);
      await exec(`DROP SCHEMA [${schema}]`);
      await pool.close();
    });

    it('snapshots, then streams net changes joined to the current row with the CT version as erpstream.version', async () => {
      await createTracked('doc');
      await exec(`INSERT INTO ${q('doc')} VALUES (1, N'existing', 1.50)`);
      const h = new TaskHarness(props('doc'));
      await h.start();
      expect(h.logs.find((l) => l.msg === 'ErpSource task starting')!.fields!.capture).toBe(
        'SQL Server Change Tracking',
      );
      const snap = await h.pollUntil((all) => events(all).length >= 1);
      expect(envelope(events(snap)[0]!).op).toBe('r');

      await exec(`INSERT INTO ${q('doc')} VALUES (2, N'new', 2.25)`);
      await exec(`UPDATE ${q('doc')} SET body = N'changed' WHERE id = 1`);
      await exec(`DELETE FROM ${q('doc')} WHERE id = 2`);
      const got = await h.pollUntil((all) => events(all).length >= 2);
      const byKey = new Map(events(got).map((r) => [Number(keyOf(r)), r]));
      const upd = byKey.get(1)!;
      expect(envelope(upd).op).toBe('u');
      expect(envelope(upd).after!.get('body')).toBe('changed');
      const current = BigInt(String((await exec('SELECT CHANGE_TRACKING_CURRENT_VERSION() AS v'))[0]!.v));
      const version = BigInt(String(header(upd, 'erpstream.version')));
      expect(version).toBeGreaterThan(0n);
      expect(version).toBeLessThanOrEqual(current);
      // Insert then delete of key 2 is one net change: a delete (with its tombstone).
      expect(envelope(byKey.get(2)!).op).toBe('d');
      expect(got.some((r) => r.value === null && Number(keyOf(r)) === 2)).toBe(true);
      await h.stop();
    });

    it('a stored version below CHANGE_TRACKING_MIN_VALID_VERSION fails clearly, or re-snapshots with when_needed', async () => {
      await createTracked('purged');
      await exec(`INSERT INTO ${q('purged')} VALUES (1, N'x', 0)`);
      const min = BigInt(
        String((await exec(`SELECT CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID('${q('purged')}')) AS m`))[0]!.m),
      );
      expect(min).toBeGreaterThan(0n); // the table's tracking began after version 0
      const stale = {
        sourcePartition: { server: 'erp', table: `${schema}.purged` },
        sourceOffset: { stream: { kind: 'ct', version: '0' } },
      } as unknown as SourceRecord;
      const strict = new TaskHarness(props('purged'));
      strict.store.commit([stale]);
      const err = await strict.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/CHANGE_TRACKING_MIN_VALID_VERSION/);
      expect((err as ConfigError).key).toBe('snapshot.mode');

      const lenient = new TaskHarness(props('purged', { 'snapshot.mode': 'when_needed' }));
      lenient.store.commit([stale]);
      await lenient.start();
      const again = await lenient.pollUntil((all) => events(all).length >= 1);
      expect(envelope(events(again)[0]!).op).toBe('r');
      await lenient.stop();
    });
  },
);
