import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, Decimal } from '../../../../../runtime/api/index.js';
import {
  dateToDays,
  decimalFrom,
  timeToMicros,
  timestampToMicros,
  zonedToIso,
} from '../../../../../connectors/erp-source/dialects/types.js';
import { pgColumn } from '../../../../../connectors/erp-source/dialects/postgres.js';
import { mysqlColumn } from '../../../../../connectors/erp-source/dialects/mysql.js';
import { mssqlColumn } from '../../../../../connectors/erp-source/dialects/sqlserver.js';

describe('type conversions (text → Connect values)', () => {
  it('keeps microseconds and handles dates before 1970', () => {
    expect(timestampToMicros('2024-02-29 23:59:59.123456')).toBe(1709251199123456n);
    expect(timestampToMicros('1969-12-31 23:59:59.999999')).toBe(-1n);
    expect(timestampToMicros('2024-02-29T23:59:59')).toBe(1709251199000000n);
    expect(dateToDays('1970-01-02')).toBe(1);
    expect(dateToDays('1969-12-31')).toBe(-1);
    expect(timeToMicros('13:45:07.000001')).toBe(49507000001n);
  });

  it('renders zoned timestamps as ISO-8601 UTC without losing digits', () => {
    expect(zonedToIso('2024-02-29 21:59:59.654321+00')).toBe('2024-02-29T21:59:59.654321Z');
    expect(zonedToIso('2024-02-29 21:59:59')).toBe('2024-02-29T21:59:59Z');
  });

  it('refuses a decimal that arrives as a float instead of rounding it', () => {
    expect(decimalFrom('12345678901234.5678', 4)).toEqual(new Decimal(123456789012345678n, 4));
    expect(decimalFrom('1.5', 4).toString()).toBe('1.5000');
    expect(() => decimalFrom(1.5, 4)).toThrow(DataError);
  });
});

describe('type maps', () => {
  it('PostgreSQL: numeric → Decimal, bigint → int64, timestamp → MicroTimestamp, timestamptz → ZonedTimestamp', () => {
    const n = pgColumn('amount', 'numeric', true, false, 19, 4);
    expect(n.schema.name).toBe('org.apache.kafka.connect.data.Decimal');
    expect(n.schema.optional).toBe(true);
    expect((n.convert('1.23') as Decimal).toString()).toBe('1.2300');
    expect(pgColumn('id', 'bigint', false, true, null, null).convert('9007199254740993')).toBe(9007199254740993n);
    expect(pgColumn('id', 'bigint', false, true, null, null).schema.optional).toBe(false);
    expect(pgColumn('t', 'timestamp without time zone', true, false, null, null).schema.name).toBe(
      'io.debezium.time.MicroTimestamp',
    );
    expect(pgColumn('t', 'timestamp with time zone', true, false, null, null).schema.name).toBe(
      'io.debezium.time.ZonedTimestamp',
    );
    expect(pgColumn('u', 'uuid', true, false, null, null).schema.name).toBe('io.debezium.data.Uuid');
    expect(pgColumn('j', 'jsonb', true, false, null, null).schema.name).toBe('io.debezium.data.Json');
    expect(pgColumn('b', 'boolean', true, false, null, null).convert('t')).toBe(true);
    const v = pgColumn('x', 'numeric', true, false, null, null);
    expect(v.schema.name).toBe('io.debezium.data.VariableScaleDecimal');
    expect(pgColumn('n', 'text', true, false, null, null).convert(null)).toBeNull();
  });

  it('MySQL: DATETIME(6) → MicroTimestamp, DATETIME(3) → Timestamp (ms), TINYINT(1) → boolean, BIGINT UNSIGNED → Decimal', () => {
    expect(
      mysqlColumn('t', 'datetime', 'datetime(6)', true, false, null, null, 6).convert('2024-02-29 23:59:59.123456'),
    ).toBe(1709251199123456n);
    const ms = mysqlColumn('t', 'datetime', 'datetime(3)', true, false, null, null, 3);
    expect(ms.schema.name).toBe('io.debezium.time.Timestamp');
    expect(ms.convert('2024-02-29 23:59:59.123')).toBe(1709251199123n);
    expect(mysqlColumn('f', 'tinyint', 'tinyint(1)', true, false, null, null, null).convert(1)).toBe(true);
    const u = mysqlColumn('b', 'bigint', 'bigint(20) unsigned', true, false, 0, 20, null);
    expect((u.convert('18446744073709551615') as Decimal).toString()).toBe('18446744073709551615');
  });

  it('SQL Server: money → Decimal(19,4), datetime2 → MicroTimestamp, uniqueidentifier → Uuid, bit → boolean', () => {
    expect((mssqlColumn('m', 'money', true, false, 4, 19).convert('12.3400') as Decimal).toString()).toBe('12.3400');
    expect(mssqlColumn('t', 'datetime2', true, false, null, null).convert('2024-02-29 23:59:59.1234567')).toBe(
      1709251199123456n,
    );
    expect(
      mssqlColumn('g', 'uniqueidentifier', true, false, null, null).convert('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),
    ).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(mssqlColumn('b', 'bit', true, false, null, null).convert(true)).toBe(true);
  });
});

describe('date and time arithmetic (checked against Date and BigInt)', () => {
  const pad = (n: number, w: number) => String(Math.abs(n)).padStart(w, '0');
  /** The reference: calendar by Date, µs by BigInt. */
  const refMicros = (y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string) => {
    const dt = new Date(0);
    dt.setUTCFullYear(y, mo - 1, d);
    dt.setUTCHours(0, 0, 0, 0);
    const days = BigInt(Math.round(dt.getTime() / 86_400_000));
    return (
      (days * 86_400n + BigInt(h * 3600 + mi * 60 + s)) * 1_000_000n + BigInt(frac.padEnd(6, '0').slice(0, 6) || '0')
    );
  };
  const parts = fc.tuple(
    fc.oneof(
      fc.integer({ min: 1, max: 9999 }),
      fc.integer({ min: 1900, max: 2100 }),
      fc.integer({ min: -5000, max: 250_000 }),
    ),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 31 }),
    fc.integer({ min: 0, max: 23 }),
    fc.integer({ min: 0, max: 59 }),
    fc.integer({ min: 0, max: 59 }),
    fc.oneof(fc.constant(''), fc.stringMatching(/^\d{1,9}$/)),
  );

  it('timestamps, dates and zoned timestamps as the Date-based reference gives them, for any year and day', () => {
    fc.assert(
      fc.property(parts, ([y, mo, d, h, mi, s, frac]) => {
        const year = (y < 0 ? '-' : '') + pad(y, 4);
        const date = `${year}-${pad(mo, 2)}-${pad(d, 2)}`;
        const time = `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac ? `.${frac}` : ''}`;
        expect(timestampToMicros(`${date} ${time}`)).toBe(refMicros(y, mo, d, h, mi, s, frac));
        expect(BigInt(dateToDays(date)) * 86_400_000_000n).toBe(refMicros(y, mo, d, 0, 0, 0, ''));
        expect(zonedToIso(`${date} ${time}+00`)).toBe(`${date}T${time}Z`);
      }),
      { numRuns: 2000 },
    );
  });

  it('decimals as Decimal.parse reads them, whatever the digits, sign and scale', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        (u, printed, scale) => {
          const digits = (u < 0n ? -u : u).toString().padStart(printed + 1, '0');
          const text = `${u < 0n ? '-' : ''}${printed === 0 ? digits : `${digits.slice(0, -printed)}.${digits.slice(-printed)}`}`;
          let expected: Decimal | Error;
          try {
            expected = Decimal.parse(text, scale);
          } catch (e) {
            expected = e as Error;
          }
          if (expected instanceof Error) expect(() => decimalFrom(text, scale)).toThrow(expected.message);
          else expect(decimalFrom(text, scale)).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
