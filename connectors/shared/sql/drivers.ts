/**
 * The SQL Server and MySQL drivers, loaded on first use: `mssql` brings tedious and @azure/msal-node (about 45 MB of
 * a worker's RSS) and `mysql2` about 25 MB, which a worker whose connectors all talk to PostgreSQL never needs.
 * Modules that only name the drivers' types import them with `import type`.
 */
import type Mssql from 'mssql';
import type Mysql from 'mysql2/promise';

let mssql: Promise<typeof Mssql> | undefined;
let mysql: Promise<typeof Mysql> | undefined;

/** `mssql`, imported once when a SQL Server connection is first opened. */
export function loadMssql(): Promise<typeof Mssql> {
  return (mssql ??= import('mssql').then((m) => m.default));
}

/** `mysql2/promise`, imported once when a MySQL / MariaDB connection is first opened. */
export function loadMysql(): Promise<typeof Mysql> {
  return (mysql ??= import('mysql2/promise').then((m) => m.default));
}
