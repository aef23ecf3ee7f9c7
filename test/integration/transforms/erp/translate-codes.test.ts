import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataError,
  type Logger,
  SchemaBuilder,
  Schemas,
  Struct,
  type Transformation,
  silentLogger,
} from '../../../../runtime/api/index.js';
import { isLoggerAware } from '../../../../transforms/debezium/plugin-logger.js';
import { translateCodesPlugin } from '../../../../transforms/erp/translate-codes.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

/** TranslateCodes against real code tables in PostgreSQL and MariaDB, including background refresh. */

const rowSchema = SchemaBuilder.struct().field('id', Schemas.INT32).field('status', Schemas.STRING).build();

function shipment(status: string) {
  return {
    topic: 'erp.public.shipment',
    kafkaPartition: null,
    keySchema: null,
    key: null,
    valueSchema: rowSchema,
    value: new Struct(rowSchema).put('id', 1).put('status', status),
    timestamp: null,
    headers: [],
  };
}

interface Db {
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

function suite(name: string, urlEnv: 'PG_URL' | 'MYSQL_URL', connect: (url: string) => Promise<Db>) {
  describe(`TranslateCodes on ${name}`, () => {
    const table = `code_translation_${uniqueSuffix()}`;
    let db: Db;
    let url: string;
    const transforms: Transformation[] = [];

    beforeAll(async () => {
      url = requireEnv(urlEnv);
      db = await connect(url);
      await db.exec(
        `CREATE TABLE ${table} (table_name VARCHAR(64) NOT NULL, code CHAR(4) NOT NULL, value VARCHAR(64))`,
      );
      await db.exec(
        `INSERT INTO ${table} VALUES ('shipment_status', '10', 'CREATED'), ('shipment_status', '20', 'SHIPPED'), ('carrier', 'DHL', 'DHL Express')`,
      );
    });

    afterAll(async () => {
      for (const t of transforms) await t.close();
      await db?.exec(`DROP TABLE IF EXISTS ${table}`);
      await db?.close();
    });

    async function translator(extra: Record<string, string> = {}): Promise<Transformation> {
      const t = translateCodesPlugin.create();
      transforms.push(t);
      await t.configure({
        fields: 'status:shipment_status',
        'tables.connection.url': url,
        'tables.query': `SELECT table_name, code, value FROM ${table}`,
        ...extra,
      });
      return t;
    }
    const status = (t: Transformation, code: string) => (t.apply(shipment(code))!.value as Struct).get('status');

    it('loads the table at configure and translates (CHAR padding trimmed)', async () => {
      const t = await translator();
      expect(status(t, '10')).toBe('CREATED');
      expect(status(t, '20')).toBe('SHIPPED');
    });

    it('takes the user and password from their own keys when the URL carries none', async () => {
      const u = new URL(url);
      const user = decodeURIComponent(u.username);
      const password = decodeURIComponent(u.password);
      u.username = '';
      u.password = '';
      const t = await translator({
        'tables.connection.url': u.toString(),
        'tables.connection.user': user,
        'tables.connection.password': password,
      });
      expect(status(t, '20')).toBe('SHIPPED');
    });

    it('fails a record with an unknown code, naming field, code and table', async () => {
      const t = await translator({ 'on.miss': 'fail' });
      expect(() => t.apply(shipment('77'))).toThrow(DataError);
      expect(() => t.apply(shipment('77'))).toThrow(/field "status" has code "77", which table "shipment_status"/);
    });

    it('picks up a new code on refresh and keeps the old tables when the database refresh fails', async () => {
      const t = await translator({ 'tables.refresh.interval.ms': '200' });
      const warnings: string[] = [];
      const log: Logger = { ...silentLogger, warn: (m, f) => void warnings.push(`${m} ${String(f?.error)}`) };
      if (isLoggerAware(t)) t.setLogger(log);
      expect(status(t, '30')).toBe('30');

      await db.exec(`INSERT INTO ${table} VALUES ('shipment_status', '30', 'DELIVERED')`);
      await expect.poll(() => status(t, '30'), { timeout: 10_000, interval: 100 }).toBe('DELIVERED');

      await db.exec(`ALTER TABLE ${table} RENAME TO ${table}_gone`);
      try {
        await expect.poll(() => warnings.length, { timeout: 10_000, interval: 100 }).toBeGreaterThan(0);
        expect(warnings[0]).toMatch(/refresh failed/);
        expect(status(t, '30')).toBe('DELIVERED');
      } finally {
        await db.exec(`ALTER TABLE ${table}_gone RENAME TO ${table}`);
      }
    });

    it('reports an unreachable database as retriable without the password', async () => {
      const u = new URL(url);
      u.port = '1';
      u.password = 'Distinct-S3cret';
      const t = translateCodesPlugin.create();
      const err = await Promise.resolve(
        t.configure({ fields: 'status:shipment_status', 'tables.connection.url': u.toString() }),
      ).catch((e: unknown) => e as Error & { retriable?: boolean });
      expect(err).toBeInstanceOf(Error);
      expect((err as { retriable?: boolean }).retriable).toBe(true);
      expect((err as Error).message).toContain('127.0.0.1:1');
      expect((err as Error).message).not.toContain('Distinct-S3cret');
    });
  });
}

suite('PostgreSQL', 'PG_URL', async (url) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    exec: async (sql) => void (await client.query(sql)),
    close: () => client.end(),
  };
});

suite('MariaDB', 'MYSQL_URL', async (url) => {
  const conn = await mysql.createConnection(url);
  return {
    exec: async (sql) => void (await conn.query(sql)),
    close: () => conn.end(),
  };
});
