import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnv, uniqueSuffix } from './env.js';

// Type fidelity configuration: exact decimals (strings), 64-bit integers as BigInt, timestamps as the server's
// text (microsecond precision kept; a JS Date would cut it to milliseconds), bytea as Buffer.
const OID = { INT8: 20, NUMERIC: 1700, TIMESTAMP: 1114, TIMESTAMPTZ: 1184, DATE: 1082, TIME: 1083 } as const;
const fidelityTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    switch (oid) {
      case OID.INT8:
        return (v: string) => BigInt(v);
      case OID.NUMERIC:
      case OID.TIMESTAMP:
      case OID.TIMESTAMPTZ:
      case OID.DATE:
      case OID.TIME:
        return (v: string) => v;
      default:
        return pg.types.getTypeParser(oid, format ?? 'text');
    }
  },
} as pg.CustomTypesConfig;

const table = `smoke_types_${uniqueSuffix()}`;
let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: requireEnv('PG_URL'), types: fidelityTypes });
  await client.connect();
  await client.query(`SET TIME ZONE 'UTC'`);
  await client.query(`
    CREATE TABLE ${table} (
      id        integer PRIMARY KEY,
      amount    numeric(19,4),
      big       bigint,
      ts        timestamp(6),
      tstz      timestamptz(6),
      txt       text,
      bin       bytea
    )`);
});

afterAll(async () => {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.end();
});

const unicode = 'emoji 🚚📦🇨🇭, CJK 物流倉庫, combining e\u0301 a\u0308 (NFD kept), RTL שלום, nul-free \u2028 line sep';
const binary = Buffer.from([0x00, 0xff, 0x01, 0xfe, 0x00, 0x7f, 0x80, 0x0a, 0x0d, 0x00]);

describe('PostgreSQL 15 type fidelity (pg)', () => {
  it('round-trips DECIMAL(19,4), BIGINT > 2^53, microsecond timestamps, unicode, binary and NULLs exactly', async () => {
    await client.query(
      `INSERT INTO ${table} (id, amount, big, ts, tstz, txt, bin) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        1,
        '12345678901234.5678',
        '9007199254740993',
        '2024-02-29 23:59:59.123456',
        '2024-02-29 23:59:59.654321+02:00',
        unicode,
        binary,
      ],
    );
    await client.query(`INSERT INTO ${table} (id, amount, big) VALUES ($1, $2, $3)`, [
      2,
      '-99999999999999.9999',
      '-9223372036854775808',
    ]);
    await client.query(`INSERT INTO ${table} (id) VALUES (3)`);

    const { rows } = await client.query(`SELECT * FROM ${table} ORDER BY id`);
    expect(rows).toHaveLength(3);
    const [r1, r2, r3] = rows;

    expect(r1.amount).toBe('12345678901234.5678');
    expect(typeof r1.amount).toBe('string');
    expect(r1.big).toBe(9007199254740993n);
    expect(r1.big).not.toBe(BigInt(Number('9007199254740993'))); // a float would have rounded it
    expect(r1.ts).toBe('2024-02-29 23:59:59.123456');
    expect(r1.tstz).toBe('2024-02-29 21:59:59.654321+00');
    expect(r1.txt).toBe(unicode);
    expect(r1.txt.normalize('NFC')).not.toBe(r1.txt); // combining marks were not normalized away
    expect(Buffer.isBuffer(r1.bin)).toBe(true);
    expect(Buffer.compare(r1.bin, binary)).toBe(0);

    expect(r2.amount).toBe('-99999999999999.9999');
    expect(r2.big).toBe(-9223372036854775808n);

    expect(r3).toEqual({ id: 3, amount: null, big: null, ts: null, tstz: null, txt: null, bin: null });
  });

  it('keeps exactness through arithmetic in SQL and through BigInt parameters', async () => {
    const { rows } = await client.query(
      `SELECT $1::numeric(19,4) + 0.0001 AS sum, $2::bigint + 2 AS big, octet_length($3::bytea) AS len`,
      ['12345678901234.5678', 9007199254740993n.toString(), binary],
    );
    expect(rows[0]).toEqual({ sum: '12345678901234.5679', big: 9007199254740995n, len: 10 });
  });

  it('runs with the settings logical decoding needs (wal_level=logical, slots, senders)', async () => {
    const { rows } = await client.query(
      `SELECT current_setting('wal_level') AS wal_level,
              current_setting('max_replication_slots')::int AS slots,
              current_setting('max_wal_senders')::int AS senders,
              (SELECT rolreplication FROM pg_roles WHERE rolname = current_user) AS replication,
              current_setting('server_version_num')::int / 10000 AS major`,
    );
    expect(rows[0]).toMatchObject({ wal_level: 'logical', replication: true, major: 15 });
    expect(rows[0].slots).toBeGreaterThanOrEqual(4);
    expect(rows[0].senders).toBeGreaterThanOrEqual(4);
  });
});
