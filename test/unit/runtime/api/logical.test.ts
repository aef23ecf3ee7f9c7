import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, bigintToTwosComplement, twosComplementToBigint } from '../../../../runtime/api/index.js';

describe('Decimal', () => {
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
