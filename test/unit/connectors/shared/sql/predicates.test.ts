import { describe, expect, it } from 'vitest';
import { keyProbe, selectByKeys } from '../../../../../connectors/shared/sql/predicates.js';

const placeholders = (sql: string) => sql.split('?').length - 1;

describe('selectByKeys', () => {
  const fixed = [
    ['destination', 'd'],
    ['entity', 'e'],
  ] as const;

  it('PostgreSQL: one array of keys, a probe per key through the key index, every placeholder bound', () => {
    const q = selectByKeys({ kind: 'postgresql' }, 'entity_id, version', 't', fixed, 'entity_id', ['a"b', 'c,d']);
    expect(q.sql).toBe(
      'SELECT m.* FROM UNNEST(?::text[]) AS k(v), LATERAL (SELECT entity_id, version FROM t WHERE destination = ? ' +
        'AND entity = ? AND entity_id = k.v AND (destination, entity, entity_id) >= (?, ?, k.v) OFFSET 0) AS m',
    );
    expect(q.params).toEqual(['{"a\\"b","c,d"}', 'd', 'e', 'd', 'e']);
    expect(placeholders(q.sql)).toBe(q.params.length);
  });

  it('elsewhere: an IN-list after the fixed columns', () => {
    const q = selectByKeys({ kind: 'mysql' }, 'entity_id', 't', fixed, 'entity_id', ['a', 'b']);
    expect(q.sql).toBe('SELECT entity_id FROM t WHERE destination = ? AND entity = ? AND entity_id IN (?, ?)');
    expect(q.params).toEqual(['d', 'e', 'a', 'b']);
  });
});

describe('keyProbe', () => {
  it('compares the fixed columns and the key as one row, a placeholder per fixed column', () => {
    expect(keyProbe(['connector'], 'entity_id', 'k.v')).toBe('(connector, entity_id) >= (?, k.v)');
    expect(keyProbe([], 'id', 'k.v')).toBe('(id) >= (k.v)');
  });
});
