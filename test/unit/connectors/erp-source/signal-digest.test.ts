import { describe, expect, it } from 'vitest';
import { DIGEST_CELLS, digestOf, isSignalDigest, newSince } from '../../../../connectors/erp-source/signal-digest.js';

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('signal digest', () => {
  it('has the same JSON size bound for 10 or 5,000 ids', () => {
    const small = JSON.stringify(digestOf(ids('s', 10))).length;
    const big = JSON.stringify(digestOf(ids('s', 5000))).length;
    expect(digestOf(ids('s', 5000)).cells).toHaveLength(DIGEST_CELLS);
    expect(big).toBeLessThan(1100);
    expect(small).toBeLessThanOrEqual(big);
  });

  it('finds exactly the ids added since the digest, also among thousands, and ignores removed ones', () => {
    const old = ids('sig', 3000);
    const stored = digestOf(old);
    expect(newSince(stored, old)).toEqual(new Set());
    // 'sig-10' sorts below 'sig-9': ids carry no order, and none is assumed.
    const added = ['sig-3000', 'a', 'sig-10x', '00000'];
    const removed = new Set(['sig-5', 'sig-2999']);
    const now = [...old.filter((i) => !removed.has(i)), ...added];
    expect(newSince(stored, now)).toEqual(new Set(added));
    expect(newSince(stored, [...old].reverse())).toEqual(new Set()); // order of the read does not matter
  });

  it('decodes every difference of up to 8 rows (added and removed mixed) over many random sets', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const old = ids(`r${round}`, 50 + rnd(400));
      const stored = digestOf(old);
      const k = 1 + rnd(8);
      const adds = ids(`new${round}`, rnd(k + 1));
      const drops = new Set(old.slice(0, k - adds.length));
      const now = [...old.filter((i) => !drops.has(i)), ...adds];
      expect(newSince(stored, now)).toEqual(new Set(adds));
    }
  });

  it('says so (null) when the difference is too large to decode, never a wrong answer', () => {
    const stored = digestOf(ids('x', 100));
    const r = newSince(stored, [...ids('x', 100), ...ids('y', 200)]);
    expect(r).toBeNull();
  });

  it('rejects corrupt digests', () => {
    expect(isSignalDigest({ v: 1, cells: ['x'] })).toBe(false);
    expect(isSignalDigest(digestOf(['a']))).toBe(true);
    const bad = digestOf(['a']);
    bad.cells[0] = '1.zz.1';
    expect(newSince(bad, ['a'])).toBeNull();
  });
});
