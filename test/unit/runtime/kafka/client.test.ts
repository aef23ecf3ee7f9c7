import { describe, expect, it } from 'vitest';
import { replicationFactorFor } from '../../../../runtime/kafka/index.js';

describe('replicationFactorFor', () => {
  it('keeps -1 so the broker applies its default.replication.factor (not a single replica)', () => {
    expect(replicationFactorFor(-1, 1)).toBe(-1);
    expect(replicationFactorFor(-1, 5)).toBe(-1);
  });

  it('caps a count at the brokers there are, and never goes below one', () => {
    expect(replicationFactorFor(3, 1)).toBe(1);
    expect(replicationFactorFor(3, 5)).toBe(3);
    expect(replicationFactorFor(2, 0)).toBe(1);
  });
});
