import { describe, expect, it } from 'vitest';
import { estimatedRecordBytes, sizedRuns } from '../../../../runtime/kafka/request-size.js';

describe('sizedRuns', () => {
  it('cuts consecutive runs, in order, none above the limit', () => {
    const sizes = [400, 400, 400, 100, 900, 50, 50];
    const runs = sizedRuns(sizes, (n) => n, 1000);
    // 800 | 500 | 900 + 50 + 50 = 1000 (the limit itself is allowed)
    expect(runs).toEqual([
      [0, 2],
      [2, 4],
      [4, 7],
    ]);
    for (const [from, to] of runs) expect(sizes.slice(from, to).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1000);
  });

  it('sends an item larger than the limit alone (the broker then names it), and nothing for no items', () => {
    expect(sizedRuns([10, 5000, 10], (n) => n, 1000)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(sizedRuns([], (n: number) => n, 1000)).toEqual([]);
  });

  it('estimates a record from its key, value and headers, plus overhead', () => {
    const small = estimatedRecordBytes(null, null);
    expect(estimatedRecordBytes(Buffer.alloc(10), Buffer.alloc(100), [['h', Buffer.alloc(5)]])).toBe(
      small + 10 + 100 + 8 + 1 + 5,
    );
    expect(estimatedRecordBytes('key', 'value', [['h', null]])).toBe(small + 3 + 5 + 8 + 1);
  });
});
