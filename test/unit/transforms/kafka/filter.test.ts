import { describe, expect, it } from 'vitest';
import { Schemas } from '../../../../runtime/api/index.js';
import { filterPlugin } from '../../../../transforms/kafka/filter.js';
import { KAFKA, predicate, record, transform } from './record-smt-fixtures.js';

describe('Filter', () => {
  it('is registered as Filter with no config keys', () => {
    expect(filterPlugin.className).toBe(`${KAFKA}Filter`);
    expect(filterPlugin.aliases).toEqual(['Filter']);
    expect(filterPlugin.config.names()).toEqual([]);
  });

  it('drops every record, with or without schema, tombstones included', () => {
    const f = transform('Filter');
    expect(f.apply(record({ valueSchema: Schemas.STRING, value: 'x' }))).toBeNull();
    expect(f.apply(record({ value: { a: 1 } }))).toBeNull();
    expect(f.apply(record({ value: null }))).toBeNull();
  });

  it('combined with a predicate, drops only the records the predicate selects', () => {
    // What the chain does with `predicate` (and `negate`): apply the SMT only where the predicate holds.
    const f = transform(`${KAFKA}Filter`);
    const isTombstone = predicate('RecordIsTombstone');
    const chain = (r: ReturnType<typeof record>, negate: boolean) => (isTombstone.test(r) !== negate ? f.apply(r) : r);
    const live = record({ value: { id: 1 } });
    const dead = record({ value: null });
    expect(chain(live, false)).toBe(live);
    expect(chain(dead, false)).toBeNull();
    expect(chain(live, true)).toBeNull();
    expect(chain(dead, true)).toBe(dead);
  });
});
