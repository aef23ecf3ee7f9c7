import { parse } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import { urlWithCredentials } from '../../../../runtime/api/index.js';

describe('urlWithCredentials (PostgreSQL URLs, as pg parses them)', () => {
  it('keeps connection.user and connection.password when the URL has no user (pg parses the URL over them)', () => {
    const s = urlWithCredentials('postgresql://db:5432/erp', 'erp user', 'p@ss:/%w');
    expect(parse(s)).toMatchObject({
      user: 'erp user',
      password: 'p@ss:/%w',
      host: 'db',
      port: '5432',
      database: 'erp',
    });
  });

  it('lets connection.user / connection.password win over the URL and keeps its query options', () => {
    const s = urlWithCredentials('postgresql://a:b@db/erp?sslmode=disable', 'c', null);
    expect(parse(s)).toMatchObject({ user: 'c', password: 'b', database: 'erp', sslmode: 'disable' });
  });

  it('leaves the URL as it is without separate credentials', () => {
    expect(urlWithCredentials('postgresql://a:b@db/erp', null, null)).toBe('postgresql://a:b@db/erp');
  });
});
