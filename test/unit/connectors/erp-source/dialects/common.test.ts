import { describe, expect, it } from 'vitest';
import { DataError } from '../../../../../runtime/api/index.js';
import {
  keyAfterPredicate,
  keyInPredicate,
  toChangeRow,
} from '../../../../../connectors/erp-source/dialects/common.js';
import { parseSettings } from '../../../../../connectors/erp-source/config.js';

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

describe('SQL building (values always bound)', () => {
  it('binds key values as parameters, never as SQL text', () => {
    const evil = "1'); DROP TABLE x; --";
    const one = keyInPredicate(q, ['id'], [['1'], [evil]], (n) => `$${n}`, 1, true);
    expect(one).toEqual({ text: '"id" IN ($1, $2)', params: ['1', evil] });
    const rows = keyInPredicate(
      q,
      ['a', 'b'],
      [
        ['1', 'x'],
        ['2', 'y'],
      ],
      (n) => `$${n}`,
      1,
      true,
    );
    expect(rows.text).toBe('("a", "b") IN (($1, $2), ($3, $4))');
    const ors = keyInPredicate(q, ['a', 'b'], [['1', 'x']], (n) => `@p${n}`, 1, false);
    expect(ors.text).toBe('(("a" = @p1 AND "b" = @p2))');
  });

  it('quotes identifiers so a hostile column name stays an identifier', () => {
    expect(keyInPredicate(q, ['we"ird'], [['1']], () => '?', 1, true).text).toBe('"we""ird" IN (?)');
  });

  it('builds keyset pagination over composite keys', () => {
    const p = keyAfterPredicate(q, ['a', 'b'], ['1', 'x'], (n) => `$${n}`, 1);
    expect(p).toEqual({ text: '(("a" > $1) OR ("a" = $2 AND "b" > $3))', params: ['1', '1', 'x'] });
  });
});

describe('change rows', () => {
  const s = parseSettings({
    'connection.url': 'postgresql://h/db',
    'change.table': 'erp.change_log',
    'topic.prefix': 'erp',
    'change.table.key.columns': 'k1,k2',
  }).changeTable;

  it('maps operation codes and qualifies bare table names with the change table schema', () => {
    const r = toChangeRow({ seq: '42', table_name: 'shipment', op: 'U', k1: 7, k2: 'home' }, s, 'erp');
    expect(r).toEqual({ table: { schema: 'erp', table: 'shipment' }, key: ['7', 'home'], op: 'u', seq: 42n });
  });

  it('names the column and value of a bad change row', () => {
    expect(() => toChangeRow({ seq: '1', table_name: 't', op: 'X', k1: 1, k2: 2 }, s, 'erp')).toThrow(
      /"X" in column op/,
    );
    expect(() => toChangeRow({ seq: '1', table_name: 't', op: 'I', k1: null, k2: 2 }, s, 'erp')).toThrow(DataError);
  });
});
