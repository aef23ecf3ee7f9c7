import { describe, expect, it } from 'vitest';
import { deleteByKeys, keyProbe, selectByKeys, updateByKeys } from '../../../../../connectors/shared/sql/predicates.js';

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

  it('keyAlone: PostgreSQL probes the key index alone and picks the fixed columns after; elsewhere the IN-list first', () => {
    const pg = selectByKeys({ kind: 'postgresql' }, '*', 't', fixed, 'waiting_on', ['x'], { keyAlone: true });
    expect(pg.sql).toBe(
      'SELECT m.* FROM UNNEST(?::text[]) AS k(v), LATERAL (SELECT * FROM t WHERE waiting_on = k.v OFFSET 0) AS m ' +
        'WHERE m.destination = ? AND m.entity = ?',
    );
    expect(pg.params).toEqual(['{"x"}', 'd', 'e']);
    const my = selectByKeys({ kind: 'mysql' }, '*', 't', fixed, 'waiting_on', ['x', 'y'], { keyAlone: true });
    expect(my.sql).toBe('SELECT * FROM t WHERE waiting_on IN (?, ?) AND destination = ? AND entity = ?');
    expect(my.params).toEqual(['x', 'y', 'd', 'e']);
  });
});

describe('deleteByKeys', () => {
  const fixed = [
    ['destination', 'd'],
    ['entity', 'e'],
  ] as const;
  const atMost = { where: [{ column: 'version', op: '<=', each: [1n, 2n], type: 'numeric' }] } as const;

  it('PostgreSQL, values per key: the keys unnested once, the probe found by tuple id, every condition checked again', () => {
    const q = deleteByKeys({ kind: 'postgresql' }, 't', fixed, 'entity_id', ['a', 'b'], atMost);
    expect(q.sql).toBe(
      'WITH k(v, v1) AS (SELECT * FROM UNNEST(?::text[], ?::numeric[])) DELETE FROM t AS p USING k AS r ' +
        'WHERE p.ctid = ANY(ARRAY(SELECT m.ctid FROM k, LATERAL (SELECT ctid FROM t WHERE destination = ? ' +
        'AND entity = ? AND entity_id = k.v AND (destination, entity, entity_id) >= (?, ?, k.v) AND version <= k.v1 ' +
        'OFFSET 0) AS m)) AND p.destination = ? AND p.entity = ? AND p.entity_id = r.v AND p.version <= r.v1',
    );
    expect(q.params).toEqual(['{"a","b"}', '{"1","2"}', 'd', 'e', 'd', 'e', 'd', 'e']);
    expect(placeholders(q.sql)).toBe(q.params.length);
  });

  it('elsewhere: an OR-list of each key with its values', () => {
    const q = deleteByKeys({ kind: 'mysql' }, 't', fixed, 'entity_id', ['a', 'b'], atMost);
    expect(q.sql).toBe(
      'DELETE FROM t WHERE destination = ? AND entity = ? AND ((entity_id = ? AND version <= ?) OR ' +
        '(entity_id = ? AND version <= ?))',
    );
    expect(q.params).toEqual(['d', 'e', 'a', 1n, 'b', 2n]);
  });
});

describe('updateByKeys', () => {
  const set = [
    ['state', 'done'],
    ['done_at', 5],
  ] as const;
  const fixed = [['connector', 'c']] as const;
  const held = { where: [{ column: 'request_id', op: '=', value: 'r' }] } as const;

  it('PostgreSQL, one value for all keys: updated by tuple id, the conditions checked again on the row', () => {
    const q = updateByKeys({ kind: 'postgresql' }, 't', set, fixed, 'entity_id', ['a'], held);
    expect(q.sql).toBe(
      'UPDATE t AS p SET state = ?, done_at = ? WHERE p.ctid = ANY(ARRAY(SELECT m.ctid FROM UNNEST(?::text[]) AS ' +
        'k(v), LATERAL (SELECT ctid FROM t WHERE connector = ? AND entity_id = k.v AND (connector, entity_id) >= ' +
        '(?, k.v) AND request_id = ? OFFSET 0) AS m)) AND p.connector = ? AND p.request_id = ?',
    );
    expect(q.params).toEqual(['done', 5, '{"a"}', 'c', 'c', 'r', 'c', 'r']);
    expect(placeholders(q.sql)).toBe(q.params.length);
  });

  it('elsewhere: an IN-list after the fixed columns and conditions', () => {
    const q = updateByKeys({ kind: 'sqlserver' }, 't', set, fixed, 'entity_id', ['a', 'b'], held);
    expect(q.sql).toBe(
      'UPDATE t SET state = ?, done_at = ? WHERE connector = ? AND request_id = ? AND entity_id IN (?, ?)',
    );
    expect(q.params).toEqual(['done', 5, 'c', 'r', 'a', 'b']);
  });
});

describe('keyProbe', () => {
  it('compares the fixed columns and the key as one row, a placeholder per fixed column', () => {
    expect(keyProbe(['connector'], 'entity_id', 'k.v')).toBe('(connector, entity_id) >= (?, k.v)');
    expect(keyProbe([], 'id', 'k.v')).toBe('(id) >= (k.v)');
  });
});
