import { describe, expect, it } from 'vitest';
import {
  databaseOfUrl,
  mysqlConnectionSettings,
  pgConnectionSettings,
  sqlServerConnectionSettings,
} from '../../../../../connectors/shared/sql/index.js';
import { ConfigError } from '../../../../../runtime/api/index.js';

const creds = { user: null, password: null };

describe('connection settings shared by both connectors', () => {
  it('refuses a URL without a database, naming the key and never the password', () => {
    for (const url of ['mysql://app:s3cret@db:3306/', 'mariadb://app:s3cret@db', 'sqlserver://app:s3cret@db:1433']) {
      let error: unknown;
      try {
        if (url.startsWith('sqlserver')) {
          sqlServerConnectionSettings(
            { url, ...creds, urlKey: 'lookup.connection.url' },
            { encrypt: false, trustServerCertificate: true },
          );
        } else {
          databaseOfUrl(url, 'lookup.connection.url');
        }
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('lookup.connection.url');
      expect((error as Error).message).not.toContain('s3cret');
    }
  });

  it('lets the URL decide TLS on SQL Server, over the caller defaults', () => {
    const o = { ...creds, urlKey: 'connection.url' };
    const plain = sqlServerConnectionSettings(
      { ...o, url: 'sqlserver://h/erp' },
      { encrypt: true, trustServerCertificate: false },
    );
    expect(plain.options).toEqual({ encrypt: true, trustServerCertificate: false });
    const asked = sqlServerConnectionSettings(
      { ...o, url: 'mssql://h:1444/erp?encrypt=false&trustServerCertificate=true' },
      { encrypt: true, trustServerCertificate: false },
    );
    expect(asked).toMatchObject({ server: 'h', port: 1444, database: 'erp' });
    expect(asked.options).toEqual({ encrypt: false, trustServerCertificate: true });
  });

  it('takes credentials from their own keys over the URL', () => {
    const pg = pgConnectionSettings(
      { url: 'postgresql://h/db', user: 'app', password: 'p@ss', urlKey: 'k' },
      'erpstream-test',
    );
    expect(new URL(pg.connectionString)).toMatchObject({ username: 'app', password: 'p%40ss' });
    expect(pg.application_name).toBe('erpstream-test');
    const my = mysqlConnectionSettings({ url: 'mariadb://h/db', user: 'app', password: 'pw', urlKey: 'k' });
    expect(my).toMatchObject({ uri: 'mysql://h/db', user: 'app', password: 'pw', decimalNumbers: false });
  });
});
