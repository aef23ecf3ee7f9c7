import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DataError,
  Decimal,
  MAX_DECIMAL_RESCALE,
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
  });

  it('round-trips the unscaled value through two-complement bytes like Java BigInteger', () => {
    expect([...bigintToTwosComplement(0n)]).toEqual([0]);
    expect([...bigintToTwosComplement(-1n)]).toEqual([0xff]);
    expect([...bigintToTwosComplement(128n)]).toEqual([0x00, 0x80]);
    expect([...bigintToTwosComplement(-129n)]).toEqual([0xff, 0x7f]);
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (n) => {
        expect(twosComplementToBigint(bigintToTwosComplement(n))).toBe(n);
      }),
    );
  });
});
