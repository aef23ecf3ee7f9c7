import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnv, uniqueSuffix } from './env.js';

const table = `smoke_types_${uniqueSuffix()}`;
let conn: mysql.Connection;

beforeAll(async () => {
  conn = await mysql.createConnection({
    uri: requireEnv('MYSQL_URL'),
    // Type fidelity: DECIMAL and BIGINT as exact strings, DATETIME as text (keeps microseconds), UTC session.
    decimalNumbers: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
  });
  await conn.query(`SET time_zone = '+00:00'`);
  await conn.query(`
    CREATE TABLE ${table} (
      id      INT PRIMARY KEY,
      amount  DECIMAL(19,4) NULL,
      big     BIGINT NULL,
      ubig    BIGINT UNSIGNED NULL,
      ts      DATETIME(6) NULL,
      tsz     TIMESTAMP(6) NULL DEFAULT NULL,
      txt     TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
      bin     VARBINARY(64) NULL,
      blb     BLOB NULL
    ) ENGINE=InnoDB`);
});

afterAll(async () => {
  await conn.query(`DROP TABLE IF EXISTS ${table}`);
  await conn.end();
});

const unicode = 'emoji 🚚📦🇨🇭, CJK 物流倉庫, combining e\u0301 a\u0308 (NFD kept), RTL שלום';
const binary = Buffer.from([0x00, 0xff, 0x01, 0xfe, 0x00, 0x7f, 0x80, 0x0a, 0x0d, 0x00]);

type Row = mysql.RowDataPacket & Record<string, unknown>;

function expectExactRows(rows: Row[]) {
  expect(rows).toHaveLength(3);
  const [r1, r2, r3] = rows as [Row, Row, Row];
  expect(r1.amount).toBe('12345678901234.5678');
  expect(r1.big).toBe('9007199254740993');
  expect(r1.ubig).toBe('18446744073709551615');
  expect(r1.ts).toBe('2024-02-29 23:59:59.123456');
  expect(r1.tsz).toBe('2024-02-29 21:59:59.654321');
  expect(r1.txt).toBe(unicode);
  expect(Buffer.isBuffer(r1.bin)).toBe(true);
  expect(Buffer.compare(r1.bin as Buffer, binary)).toBe(0);
  expect(Buffer.compare(r1.blb as Buffer, binary)).toBe(0);
  expect(r2.amount).toBe('-99999999999999.9999');
  expect(r2.big).toBe('-9223372036854775808');
  expect(r3).toMatchObject({
    amount: null,
    big: null,
    ubig: null,
    ts: null,
    tsz: null,
    txt: null,
    bin: null,
    blb: null,
  });
}

describe('MariaDB type fidelity (mysql2)', () => {
  it('round-trips DECIMAL(19,4), BIGINT > 2^53, DATETIME(6), unicode, binary and NULLs exactly', async () => {
    await conn.execute(
      `INSERT INTO ${table} (id, amount, big, ubig, ts, tsz, txt, bin, blb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        1,
        '12345678901234.5678',
        '9007199254740993',
        '18446744073709551615',
        '2024-02-29 23:59:59.123456',
        '2024-02-29 21:59:59.654321',
        unicode,
        binary,
        binary,
      ],
    );
    await conn.query(`INSERT INTO ${table} (id, amount, big) VALUES (?, ?, ?)`, [
      2,
      '-99999999999999.9999',
      '-9223372036854775808',
    ]);
    await conn.query(`INSERT INTO ${table} (id) VALUES (3)`);

    // text protocol
    const [textRows] = await conn.query<Row[]>(`SELECT * FROM ${table} ORDER BY id`);
    expectExactRows(textRows);
    // binary protocol (prepared statements) must give the same values
    const [binRows] = await conn.execute<Row[]>(`SELECT * FROM ${table} WHERE id > ? ORDER BY id`, [0]);
    expectExactRows(binRows);
  });

  it('keeps exactness through arithmetic in SQL', async () => {
    const [rows] = await conn.query<Row[]>(
      `SELECT CAST(? AS DECIMAL(19,4)) + 0.0001 AS sum, CAST(? AS SIGNED) + 2 AS big, LENGTH(?) AS len`,
      ['12345678901234.5678', '9007199254740993', binary],
    );
    expect(rows[0]).toMatchObject({ sum: '12345678901234.5679', big: '9007199254740995', len: 10 });
  });

  it('runs with the binlog settings CDC needs (ROW, FULL image)', async () => {
    const [rows] = await conn.query<Row[]>(
      `SELECT @@log_bin AS log_bin, @@binlog_format AS format, @@binlog_row_image AS image, @@version AS version`,
    );
    expect(rows[0]).toMatchObject({ format: 'ROW', image: 'FULL' });
    expect(String(rows[0]!.log_bin)).toBe('1'); // a BIGINT variable: a string under bigNumberStrings
    expect(String(rows[0]!.version)).toContain('MariaDB');
  });
});
