import { describe, expect, it } from 'vitest';
// The page's own modules are plain browser JavaScript; their pure parts run under Node as they are.
// @ts-expect-error -- a .js module without types, shipped as is (no build step)
import { formatValue, niceMax } from '../../../console/plot.js';

describe('console plot axis and labels', () => {
  it('rounds the axis top up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect([0, -1, NaN, 0.3, 1, 1.1, 2.4, 3, 7, 99, 1234].map((v) => niceMax(v))).toEqual([
      1, 1, 1, 0.5, 1, 2, 2.5, 5, 10, 100, 2000,
    ]);
  });

  it('formats lags and rates for people', () => {
    expect(formatValue(null, 'ms')).toBe('–');
    expect(formatValue(12.4, 'ms')).toBe('12 ms');
    expect(formatValue(1500, 'ms')).toBe('1.5 s');
    expect(formatValue(65_000, 'ms')).toBe('65 s');
    expect(formatValue(3.14159, '/s')).toBe('3.1/s');
    expect(formatValue(250.4, '/s')).toBe('250/s');
    expect(formatValue(7.6, '')).toBe('7.6');
    expect(formatValue(2.5, '')).toBe('2.5');
    expect(formatValue(12.4, '')).toBe('12');
    expect(formatValue(3, '')).toBe('3');
  });
});
