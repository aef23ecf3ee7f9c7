import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDialect } from '../../../../../connectors/erp-source/dialects/index.js';
import { loadMssql, loadMysql } from '../../../../../connectors/shared/sql/index.js';
import { RetriableError } from '../../../../../runtime/api/index.js';
import { repoRoot } from '../../../../support/erpstream-cli.js';

const run = promisify(execFile);

describe('SQL Server and MySQL drivers load on first use', () => {
  it('an idle process with both connectors loaded has neither mssql/tedious nor mysql2 in memory', async () => {
    // A fresh process: this test file itself imports the drivers below.
    const script = `
      import { createRequire } from 'node:module';
      await import('./connectors/erp-source/index.ts');
      await import('./connectors/lookup-sink/index.ts');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((f) => /node_modules[\\\\/](mssql|tedious|mysql2)[\\\\/]/.test(f))));
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual([]);
  }, 90_000);

  it('the lazy imports resolve to the drivers themselves, once', async () => {
    const mssql = await loadMssql();
    expect(typeof mssql.ConnectionPool).toBe('function');
    expect(mssql.ISOLATION_LEVEL.SNAPSHOT).toBeTypeOf('number');
    expect(await loadMssql()).toBe(mssql);
    const mysql = await loadMysql();
    expect(typeof mysql.createConnection).toBe('function');
    expect(await loadMysql()).toBe(mysql);
  });

  it('a SQL Server or MySQL source that cannot connect still fails with a retriable typed error', async () => {
    for (const url of ['sqlserver://127.0.0.1:1/erp', 'mysql://127.0.0.1:1/erp']) {
      const dialect = createDialect({ url, user: 'u', password: 'p' });
      const error = await dialect.connect().then(
        () => null,
        (e: unknown) => e,
      );
      await dialect.close();
      expect(error, url).toBeInstanceOf(RetriableError);
      expect((error as Error).message, url).not.toContain('Cannot find');
    }
  }, 30_000);
});
