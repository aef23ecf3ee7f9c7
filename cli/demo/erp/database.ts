import pg from 'pg';
import { createErpSchema } from './schema.js';
import { CliError, ExitCode } from '../../errors.js';

/**
 * Where the demo's ERP lives: a database of its own on a PostgreSQL server (`--pg-url`, or PG_URL from the
 * local stack), created and seeded fresh for each run so a demo never touches existing data. The source
 * connector and the lookup sink connect to `url` over TCP with `pg`, several connections at once.
 *
 * Why not PGlite: PGlite is a single-session database. Served over TCP (@electric-sql/pglite-socket 0.2.x)
 * it accepts several connections but runs them one at a time, so a connection inside a transaction blocks
 * every other one until it commits: the demo's long transaction would stall capture and lookups instead of
 * committing out of order — the very race the demo exists to show. See docs/integrations.md.
 */

export interface ErpDatabase {
  /** Connection URL of the demo database (credentials included: never print it; see `displayUrl`). */
  url: string;
  displayUrl: string;
  name: string;
  pool: pg.Pool;
  /** Closes the pool; with `drop`, removes the demo database too. */
  close(options?: { drop?: boolean }): Promise<void>;
}

export function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = u.username ? '***' : '';
  u.password = '';
  return u.toString();
}

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates database `name` (dropping an earlier demo database of that name) and seeds the ERP in it. */
export async function createErpDatabase(serverUrl: string, name = 'erpstream_demo'): Promise<ErpDatabase> {
  if (!DB_NAME.test(name))
    throw new CliError(`Invalid demo database name "${name}": use a-z, 0-9 and _`, { exitCode: ExitCode.FAILURE });
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  await createErpSchema(pool);
  return {
    url,
    displayUrl: withoutCredentials(url),
    name,
    pool,
    async close(options = {}) {
      await pool.end();
      if (!options.drop) return;
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
