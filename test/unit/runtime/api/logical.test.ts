import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DataError,
  Decimal,
  MAX_DECIMAL_BYTES,
  MAX_DECIMAL_RESCALE,
  TimeType,
  bigintToTwosComplement,
  twosComplementToBigint,
} from '../../../../runtime/api/index.js';

describe('Decimal', () => {
  it('refuses a hostile exponent or rescale instead of computing 10^n for minutes, naming the value', () => {
    // Without the bound each of these held the thread for minutes (10^999999999 as a bigint).
    expect(() => Decimal.parse('1e999999999')).toThrow(/exponent of "1e999999999" is out of range/);
    expect(() => Decimal.parse('1e-999999999', 2)).toThrow(DataError);
    expect(() => Decimal.parse(`${'9'.repeat(100)}E+99999999`)).toThrow(/99999999…" is out of range/);
    expect(() => Decimal.parse('1.5').setScale(999_999_999)).toThrow(/scale 1 to scale 999999999 is out of range/);
    expect(() => Decimal.fromBigInt(1n, 999_999_999)).toThrow(DataError);
    // What PostgreSQL's numeric can hold still parses: scale up to 16,383, and exponents to the bound.
    expect(Decimal.parse('1E-16383').scale).toBe(16383);
    expect(Decimal.parse(`1e${MAX_DECIMAL_RESCALE}`).precision()).toBe(MAX_DECIMAL_RESCALE + 1);
    expect(Decimal.parse('1.25').setScale(16383).scale).toBe(16383);
  });

  it('keeps money exact through parse and print', () => {
    expect(Decimal.parse('12345678901234.5678').toString()).toBe('12345678901234.5678');
    expect(Decimal.parse('-0.0001').toString()).toBe('-0.0001');
    expect(Decimal.parse('1.5e3').toString()).toBe('1500');
    expect(Decimal.parse('42', 4).toString()).toBe('42.0000');
  });

  it('refuses to lose digits when rescaling unless asked to round', () => {
    expect(() => Decimal.parse('1.25').setScale(1)).toThrow(/without rounding/);
    expect(Decimal.parse('1.25').setScale(1, true).toString()).toBe('1.3');
    expect(Decimal.parse('-1.25').setScale(1, true).toString()).toBe('-1.3');
  });

  it('rejects text that is not a number, naming it', () => {
    expect(() => Decimal.parse('12,50')).toThrow(/"12,50"/);
    expect(Decimal.parse(' \t1.50\n').toString()).toBe('1.50');
    // Whitespace then a letter backtracked quadratically (30,000 spaces: 1.4 s; 1 MB: most of an hour).
    for (const text of [
      `${' '.repeat(30_000)}x`,
      `${' '.repeat(30_000)}1x${' '.repeat(30_000)}`,
      `1${'0'.repeat(100_000)}x`,
    ]) {
      const start = performance.now();
      expect(() => Decimal.parse(text)).toThrow(expect.objectContaining({ code: 'ERPSTREAM_DATA' }));
      expect(performance.now() - start).toBeLessThan(100);
    }
  });

  it('reads and writes large two-complement decimals in linear time, and refuses more bytes than the bound', () => {
    // A shift per byte copied the growing bigint every time: 64 KB took ~1 s both ways, 300 KB a minute (a record's
    // decimal, read by the JSON or Avro converter). Now native hex: a few ms.
    const bytes = Buffer.alloc(MAX_DECIMAL_BYTES, 0x5a);
    bytes[0] = 0x85; // negative
    let start = performance.now();
    const d = Decimal.fromBytes(bytes, 2);
    const back = d.toBytes();
    expect(performance.now() - start).toBeLessThan(100);
    expect(d.unscaled < 0n).toBe(true);
    expect(back.equals(bytes)).toBe(true);
    start = performance.now();
    expect(() => Decimal.fromBytes(Buffer.alloc(100_000, 1), 2)).toThrow(
      expect.objectContaining({
        code: 'ERPSTREAM_DATA',
        message: expect.stringContaining(`A decimal of 100000 bytes is too large: at most ${MAX_DECIMAL_BYTES} bytes`),
      }),
    );
    expect(performance.now() - start).toBeLessThan(50);
    // Both sides of the switch to hex agree with the byte loop.
    for (const n of [2n ** 127n - 1n, -(2n ** 127n), 2n ** 128n, -(2n ** 128n) - 1n, 2n ** 1000n + 12345n]) {
      expect(twosComplementToBigint(bigintToTwosComplement(n))).toBe(n);
      expect(twosComplementToBigint(bigintToTwosComplement(-n))).toBe(-n);
    }
  });

  it('round-trips the unscaled value through two-complement bytes like Java BigInteger', () => {
    expect([...bigintToTwosComplement(0n)]).toEqual([0]);
    expect([...bigintToTwosComplement(-1n)]).toEqual([0xff]);
    expect([...bigintToTwosComplement(128n)]).toEqual([0x00, 0x80]);
    expect([...bigintToTwosComplement(-129n)]).toEqual([0xff, 0x7f]);
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 2000n), max: 2n ** 2000n }), (n) => {
        expect(twosComplementToBigint(bigintToTwosComplement(n))).toBe(n);
      }),
    );
  });
});

describe('TimeType on read', () => {
  it("refuses milliseconds outside a day as Java's Time.toLogical does (a DataError, so the record can go to the DLQ)", () => {
    expect(TimeType.toLogical(0).getTime()).toBe(0);
    expect(TimeType.toLogical(86_400_000).getTime()).toBe(86_400_000);
    for (const ms of [-1, 86_400_001, 2_147_483_647, Number.NaN])
      expect(() => TimeType.toLogical(ms)).toThrow(
        expect.objectContaining({ code: 'ERPSTREAM_DATA', message: expect.stringContaining('less than 86400000') }),
      );
  });
});
