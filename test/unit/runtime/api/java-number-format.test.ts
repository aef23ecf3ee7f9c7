import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  javaBigDecimalToString,
  javaDoubleToString,
  javaFloatToString,
} from '../../../../runtime/api/java-number-format.js';

describe("Java's Double.toString / Float.toString layout", () => {
  it.each([
    [1, '1.0'],
    [-2.5, '-2.5'],
    [0, '0.0'],
    [-0, '-0.0'],
    [1e7, '1.0E7'],
    [9999999, '9999999.0'],
    [0.001, '0.001'],
    [0.0001, '1.0E-4'],
    [123456789.123, '1.23456789123E8'],
    [1.7976931348623157e308, '1.7976931348623157E308'],
    [5e-324, '4.9E-324'],
    [NaN, 'NaN'],
    [-Infinity, '-Infinity'],
  ])('double %d → %s', (d, s) => {
    expect(javaDoubleToString(d)).toBe(s);
  });

  it.each([
    [0.1, '0.1'],
    [1 / 3, '0.33333334'],
    [3.4028234663852886e38, '3.4028235E38'],
    [16777216, '1.6777216E7'],
    [-3668128.25, '-3668128.2'],
    [3668128.75, '3668128.8'],
  ])('float %d → %s', (f, s) => {
    expect(javaFloatToString(f)).toBe(s);
  });

  it('reads back to the same double / float', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        expect(Number(javaDoubleToString(d))).toBe(d);
      }),
    );
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        expect(Math.fround(Number(javaFloatToString(f)))).toBe(Math.fround(f));
      }),
    );
  });
});

describe("Java's BigDecimal.toString (decimal.format=NUMERIC as Jackson writes it)", () => {
  it.each([
    [123456789012345678n, 4, '12345678901234.5678'],
    [-1n, 4, '-0.0001'],
    [100n, 8, '0.00000100'],
    [1n, 6, '0.000001'],
    [1n, 7, '1E-7'],
    [1n, 8, '1E-8'],
    [-12n, 10, '-1.2E-9'],
    [15n, -2, '1.5E+3'],
    [0n, 2, '0.00'],
    [42n, 0, '42'],
  ])('%s scale %s → %s', (unscaled, scale, text) => {
    expect(javaBigDecimalToString(unscaled, scale)).toBe(text);
  });
});
