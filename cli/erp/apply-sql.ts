import type { SetupDialect } from '../../connectors/erp-source/public.js';
import { CliError } from '../errors.js';

/** Runs the statements in order on one connection; stops at the first failure, naming the statement. */
export async function runStatements(d: SetupDialect, url: string, statements: readonly string[]): Promise<number> {
  const exec = await connect(d, url);
  let done = 0;
  try {
    for (const s of statements) {
      try {
        await exec.run(s);
      } catch (error) {
        throw new CliError(
          `Statement ${done + 1} of ${statements.length} failed: ${(error as Error).message}\n${s.split('\n')[0]}…`,
          {
            exitCode: 1,
            hint: `The first ${done} statements ran. Fix the cause (rights, an existing object), then run the rest (erp init without --apply prints them).`,
            cause: error,
          },
        );
      }
      done++;
    }
  } finally {
    await exec.close();
  }
  return done;
}

async function connect(
  d: SetupDialect,
  url: string,
): Promise<{ run(sql: string): Promise<unknown>; close(): Promise<void> }> {
  if (d === 'postgresql') {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return { run: (sql) => c.query(sql), close: () => c.end() };
  }
  if (d === 'mysql') {
    const mysql = await import('mysql2/promise');
    const c = await mysql.createConnection({ uri: url });
    return { run: (sql) => c.query(sql), close: () => c.end() };
  }
  const mssql = (await import('mssql')).default;
  const pool = await new mssql.ConnectionPool(url.replace(/^sqlserver:/, 'mssql:')).connect();
  return { run: (sql) => pool.request().batch(sql), close: () => pool.close() };
}
