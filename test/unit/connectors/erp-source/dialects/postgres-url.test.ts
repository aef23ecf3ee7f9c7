import { parse } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import { pgConnectionString } from '../../../../../connectors/erp-source/dialects/postgres.js';

describe('pgConnectionString', () => {
  it('keeps connection.user and connection.password when the URL has no user (pg parses the URL over them)', () => {
    const s = pgConnectionString({ url: 'postgresql://db:5432/erp', user: 'erp user', password: 'p@ss:/%w' });
    expect(parse(s)).toMatchObject({
      user: 'erp user',
      password: 'p@ss:/%w',
      host: 'db',
      port: '5432',
      database: 'erp',
    });
  });

  it('lets connection.user / connection.password win over the URL and keeps its query options', () => {
    const s = pgConnectionString({ url: 'postgresql://a:b@db/erp?sslmode=disable', user: 'c', password: null });
    expect(parse(s)).toMatchObject({ user: 'c', password: 'b', database: 'erp', sslmode: 'disable' });
  });

  it('leaves the URL as it is without separate credentials', () => {
    expect(pgConnectionString({ url: 'postgresql://a:b@db/erp', user: null, password: null })).toBe(
      'postgresql://a:b@db/erp',
    );
  });
});
