import { describe, expect, it } from 'vitest';
import { splitRoundRobin } from '../../../../connectors/erp-source/connector.js';

describe('ErpSourceConnector task split', () => {
  it('spreads tables over at most tasks.max tasks, never an empty task', () => {
    expect(splitRoundRobin(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([
      ['a', 'c', 'e'],
      ['b', 'd'],
    ]);
    expect(splitRoundRobin(['a'], 4)).toEqual([['a']]);
    expect(splitRoundRobin(['a', 'b'], 1)).toEqual([['a', 'b']]);
  });
});
