import { describe, expect, it } from 'vitest';
import {
  inList,
  keyAfterPredicate,
  keyInPredicate,
  mysqlSyntax,
  numberPlaceholders,
  postgresSyntax,
  sqlKindOfUrl,
  sqlServerSyntax,
} from '../../../../../connectors/shared/sql/index.js';

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

describe('one syntax per database, used by both connectors', () => {
  it('quotes a hostile identifier so it stays one identifier on every database', () => {
    expect(postgresSyntax.quote('a"; DROP TABLE x; --')).toBe('"a""; DROP TABLE x; --"');
    expect(mysqlSyntax.quote('a`b')).toBe('`a``b`');
    expect(sqlServerSyntax.quote('a]b')).toBe('[a]]b]');
  });

  it('keeps a dot inside one identifier, and splits it only for a qualified name', () => {
    expect(postgresSyntax.quote('s.t')).toBe('"s.t"');
    expect(postgresSyntax.quoteQualified('s.t')).toBe('"s"."t"');
    expect(mysqlSyntax.quoteQualified('db.t')).toBe('`db`.`t`');
    expect(sqlServerSyntax.quoteQualified('dbo.t')).toBe('[dbo].[t]');
  });

  it("rewrites '?' to each driver's placeholders in order", () => {
    const sql = 'SELECT * FROM t WHERE a = ? AND b IN (?, ?)';
    expect(numberPlaceholders(sql, postgresSyntax)).toBe('SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)');
    expect(numberPlaceholders(sql, sqlServerSyntax)).toBe('SELECT * FROM t WHERE a = @p1 AND b IN (@p2, @p3)');
    expect(numberPlaceholders(sql, mysqlSyntax)).toBe(sql);
  });

  it('binds an IN-list as one array on PostgreSQL and a placeholder per value elsewhere', () => {
    expect(inList(postgresSyntax, 'id', ['a', 'b"c', null])).toEqual({
      sql: 'id = ANY(?)',
      params: ['{"a","b\\"c",NULL}'],
    });
    expect(inList(mysqlSyntax, 'id', ['a', 'b'])).toEqual({ sql: 'id IN (?, ?)', params: ['a', 'b'] });
  });

  it('tells the database from the URL scheme and nothing else', () => {
    expect(sqlKindOfUrl('postgres://h/db')).toBe('postgresql');
    expect(sqlKindOfUrl('MariaDB://h/db')).toBe('mysql');
    expect(sqlKindOfUrl('mssql://h/db')).toBe('sqlserver');
    expect(sqlKindOfUrl('oracle://h/db')).toBeNull();
    expect(sqlKindOfUrl('h/db?x=postgres://')).toBeNull();
  });
});
