import { describe, expect, it } from 'vitest';
import { pgColumn } from '../../../../connectors/erp-source/dialects/postgres.js';
import type { TableInfo } from '../../../../connectors/erp-source/model.js';
import { assertCompatible, diffTableSchemas } from '../../../../connectors/erp-source/schema-change.js';

type Col = [name: string, type: string, precision?: number | null, scale?: number | null];

const table = (cols: Col[], keyColumns = ['id']): TableInfo => ({
  id: { schema: 'erp', table: 'invoice' },
  keyColumns,
  columns: cols.map(([name, type, p = null, s = null]) => pgColumn(name, type, true, keyColumns.includes(name), p, s)),
});

const base: Col[] = [
  ['id', 'integer'],
  ['ref', 'character varying'],
  ['amount', 'numeric', 10, 2],
  ['qty', 'smallint'],
];

describe('diffTableSchemas', () => {
  it('finds nothing when the description is the same (a varchar length is not part of the event schema)', () => {
    expect(diffTableSchemas(table(base), table(base))).toEqual({ changes: [], incompatible: [] });
  });

  it('accepts a widened DECIMAL, an integer promotion, a column added and a column dropped', () => {
    const after = table([
      ['id', 'integer'],
      ['amount', 'numeric', 14, 2],
      ['qty', 'bigint'],
      ['note', 'text'],
    ]);
    const d = diffTableSchemas(table(base), after);
    expect(d.incompatible).toEqual([]);
    expect(d.changes).toEqual([
      'column note added (text)',
      'column ref dropped',
      'column amount numeric [Decimal(10,2)] → numeric [Decimal(14,2)]',
      'column qty smallint [int16] → bigint [int64]',
    ]);
  });

  it('rejects a DECIMAL scale change, a type change and a primary key change', () => {
    const after = table(
      [
        ['id', 'integer'],
        ['ref', 'integer'],
        ['amount', 'numeric', 10, 4],
        ['qty', 'smallint'],
      ],
      ['id', 'ref'],
    );
    const d = diffTableSchemas(table(base), after);
    expect(d.incompatible).toEqual([
      'primary key (id) → (id, ref)',
      'column ref character varying [string] → integer [int32]',
      'column amount numeric [Decimal(10,2)] → numeric [Decimal(10,4)]',
    ]);
    expect(() => assertCompatible(after, d)).toThrow(
      /Incompatible schema change in erp\.invoice: primary key \(id\) → \(id, ref\); column ref/,
    );
  });

  it('rejects a narrowing promotion (int64 → int32)', () => {
    const narrowed = diffTableSchemas(
      table([...base.slice(0, 3), ['qty', 'bigint']]),
      table([...base.slice(0, 3), ['qty', 'integer']]),
    );
    expect(narrowed.incompatible).toEqual(['column qty bigint [int64] → integer [int32]']);
  });
});
