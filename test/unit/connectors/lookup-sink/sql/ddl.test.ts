import { describe, expect, it } from 'vitest';
import type { SqlClient } from '../../../../../connectors/lookup-sink/sql/client.js';
import {
  guardedUpsertRows,
  inList,
  pgArrayLiteral,
  rowsPerStatement,
} from '../../../../../connectors/lookup-sink/sql/ddl.js';

const client = (kind: SqlClient['kind']): SqlClient =>
  ({ kind, quote: (i: string) => (kind === 'mysql' ? `\`${i}\`` : `"${i}"`) }) as unknown as SqlClient;
const pgc = client('postgresql');
const my = client('mysql');

describe('PostgreSQL array parameters', () => {
  it('quotes every element and escapes quotes and backslashes; null and undefined are NULL', () => {
    expect(pgArrayLiteral(['a"b', 'c\\d', '{x,y}', 'NULL', null, undefined, 12n, 3, true, ''])).toBe(
      '{"a\\"b","c\\\\d","{x,y}","NULL",NULL,NULL,"12","3","true",""}',
    );
    expect(pgArrayLiteral([])).toBe('{}');
  });

  it('binds an id list as one array parameter on PostgreSQL and as placeholders elsewhere', () => {
    expect(inList(pgc, 'entity_id', ['1', '2', '3'])).toEqual({ sql: 'entity_id = ANY(?)', params: ['{"1","2","3"}'] });
    expect(inList(my, 'entity_id', ['1', '2'])).toEqual({ sql: 'entity_id IN (?, ?)', params: ['1', '2'] });
  });

  it('upserts a batch through UNNEST with one typed array per column, keeping the version guard', () => {
    const { sql, params } = guardedUpsertRows(
      pgc,
      'ledger',
      ['id', 'version', 'note'],
      ['varchar', 'numeric', 'text'],
      ['id'],
      'version',
      [
        ['a', 1n, 'x'],
        ['b', 2n, null],
      ],
    );
    expect(sql).toBe(
      'INSERT INTO "ledger" AS cur ("id", "version", "note") SELECT * FROM UNNEST(?::varchar[], ?::numeric[], ?::text[]) ' +
        'ON CONFLICT ("id") DO UPDATE SET "note" = EXCLUDED."note", "version" = EXCLUDED."version" ' +
        'WHERE cur."version" IS NULL OR cur."version" < EXCLUDED."version"',
    );
    expect(params).toEqual(['{"a","b"}', '{"1","2"}', '{"x",NULL}']);
  });

  it('keeps a VALUES tuple per row on the other dialects', () => {
    const { sql, params } = guardedUpsertRows(
      my,
      'ledger',
      ['id', 'version'],
      ['varchar', 'numeric'],
      ['id'],
      'version',
      [
        ['a', 1n],
        ['b', 2n],
      ],
    );
    expect(sql).toMatch(/VALUES \(\?, \?\), \(\?, \?\) ON DUPLICATE KEY UPDATE/);
    expect(params).toEqual(['a', 1n, 'b', 2n]);
    expect(rowsPerStatement(my, 500)).toBe(500);
    expect(rowsPerStatement(pgc, 500)).toBeGreaterThan(500);
  });
});
