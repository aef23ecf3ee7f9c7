import { pgArrayLiteral } from '../../shared/sql/index.js';
import type { SqlClient } from './client.js';

// IN-lists come from the connectors' shared SQL layer; re-exported for the sink's stores.
export { deleteByKeys, inList, pgArrayLiteral, selectByKeys, updateByKeys } from '../../shared/sql/index.js';
export type { ColumnValues } from '../../shared/sql/index.js';

/** Column types the sink's own tables use, per dialect. */
export function types(db: SqlClient): { version: string; text: string; bool: string; long: string } {
  switch (db.kind) {
    case 'postgresql':
      return { version: 'numeric(20,0)', text: 'text', bool: 'boolean', long: 'bigint' };
    case 'mysql':
      return { version: 'decimal(20,0)', text: 'longtext', bool: 'boolean', long: 'bigint' };
    case 'sqlserver':
      return { version: 'decimal(20,0)', text: 'nvarchar(max)', bool: 'bit', long: 'bigint' };
  }
}

/**
 * Runs `create` unless `probe` (a query that selects nothing) succeeds. Two tasks starting together may race on
 * the DDL; the loser sees an error although the object now exists, so it probes again before failing. Answers
 * whether the object was there already.
 */
async function createUnlessPresent(db: SqlClient, probe: string, create: () => Promise<unknown>): Promise<boolean> {
  const exists = async (): Promise<boolean> => {
    try {
      await db.query(probe);
      return true;
    } catch {
      return false;
    }
  };
  if (await exists()) return true;
  try {
    await create();
  } catch (e) {
    if (!(await exists())) throw e;
  }
  return false;
}

/** Creates a table (and its indexes) when absent; answers whether it was there already. */
export function createTableIfAbsent(
  db: SqlClient,
  table: string,
  columnsSql: string,
  indexes: ReadonlyArray<{ name: string; columns: string }>,
): Promise<boolean> {
  const t = db.quote(table);
  return createUnlessPresent(
    db,
    db.kind === 'sqlserver' ? `SELECT TOP 0 * FROM ${t}` : `SELECT * FROM ${t} WHERE 1 = 0`,
    async () => {
      await db.execute(`CREATE TABLE ${t} (${columnsSql})`);
      for (const ix of indexes) {
        const name = db.quote(`${table.split('.').pop()}_${ix.name}`);
        await db.execute(`CREATE INDEX ${name} ON ${t} (${ix.columns})`);
      }
    },
  );
}

/** Adds a nullable column to a table created by an older version. */
export async function addColumnIfAbsent(db: SqlClient, table: string, column: string, typeSql: string): Promise<void> {
  const t = db.quote(table);
  const c = db.quote(column);
  await createUnlessPresent(
    db,
    db.kind === 'sqlserver' ? `SELECT TOP 0 ${c} FROM ${t}` : `SELECT ${c} FROM ${t} WHERE 1 = 0`,
    () => db.execute(`ALTER TABLE ${t} ADD ${db.kind === 'sqlserver' ? '' : 'COLUMN '}${c} ${typeSql} NULL`),
  );
}

/**
 * `INSERT … ON CONFLICT/DUPLICATE KEY … UPDATE` of several rows, updating only where `guard` holds: the stored
 * version column is below (or, with `orEqual`, at) the incoming one. Rows must have distinct keys.
 */
export function guardedUpsert(
  db: SqlClient,
  table: string,
  columns: readonly string[],
  keyColumns: readonly string[],
  versionColumn: string,
  rowCount: number,
  options: { orEqual?: boolean; keepOnUpdate?: readonly string[] } = {},
): string {
  const q = (c: string) => db.quote(c);
  const t = db.quote(table);
  const keep = new Set([...keyColumns, ...(options.keepOnUpdate ?? [])]);
  const updated = columns.filter((c) => !keep.has(c) && c !== versionColumn);
  const op = options.orEqual ? '<=' : '<';
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const values = Array.from({ length: rowCount }, () => tuple).join(', ');
  const v = q(versionColumn);
  switch (db.kind) {
    case 'postgresql': {
      const sets = [...updated, versionColumn].map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ');
      return (
        `INSERT INTO ${t} AS cur (${columns.map(q).join(', ')}) VALUES ${values} ` +
        `ON CONFLICT (${keyColumns.map(q).join(', ')}) DO UPDATE SET ${sets} ` +
        `WHERE cur.${v} IS NULL OR cur.${v} ${op} EXCLUDED.${v}`
      );
    }
    case 'mysql': {
      // MySQL assigns left to right: the version column goes last so every guard still sees the stored version.
      const guard = `(${v} IS NULL OR ${v} ${op} VALUES(${v}))`;
      const sets = [...updated, versionColumn].map((c) => `${q(c)} = IF(${guard}, VALUES(${q(c)}), ${q(c)})`);
      return `INSERT INTO ${t} (${columns.map(q).join(', ')}) VALUES ${values} ON DUPLICATE KEY UPDATE ${sets.join(', ')}`;
    }
    case 'sqlserver': {
      const src = `src (${columns.map(q).join(', ')})`;
      const on = keyColumns.map((c) => `cur.${q(c)} = src.${q(c)}`).join(' AND ');
      const sets = [...updated, versionColumn].map((c) => `cur.${q(c)} = src.${q(c)}`).join(', ');
      return (
        `MERGE ${t} WITH (HOLDLOCK) AS cur USING (VALUES ${values}) AS ${src} ON ${on} ` +
        `WHEN MATCHED AND (cur.${v} IS NULL OR cur.${v} ${op} src.${v}) THEN UPDATE SET ${sets} ` +
        `WHEN NOT MATCHED THEN INSERT (${columns.map(q).join(', ')}) VALUES (${columns.map((c) => `src.${q(c)}`).join(', ')});`
      );
    }
  }
}

/** `LIMIT n` in the dialect's words: a prefix for SQL Server's TOP, a suffix elsewhere. */
export function limitClause(db: SqlClient, n: number): { top: string; limit: string } {
  return db.kind === 'sqlserver'
    ? { top: `TOP (${Math.trunc(n)}) `, limit: '' }
    : { top: '', limit: ` LIMIT ${Math.trunc(n)}` };
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The version column as exact text: SQL Server's driver returns DECIMAL as a JS number, which would round
 * versions above 2^53; PostgreSQL and MySQL already return decimal text.
 */
export function versionColumn(db: SqlClient, column = 'version'): string {
  return db.kind === 'sqlserver' ? `CAST(${column} AS varchar(21)) AS ${column}` : column;
}

/**
 * guardedUpsert with its rows bound: on PostgreSQL one array parameter per column through UNNEST (`pgTypes` are the
 * columns' types, for the array casts); elsewhere a VALUES tuple per row.
 */
export function guardedUpsertRows(
  db: SqlClient,
  table: string,
  columns: readonly string[],
  pgTypes: readonly string[],
  keyColumns: readonly string[],
  versionColumn: string,
  rows: ReadonlyArray<readonly unknown[]>,
  options: { orEqual?: boolean; keepOnUpdate?: readonly string[] } = {},
): { sql: string; params: unknown[] } {
  if (db.kind !== 'postgresql') {
    return {
      sql: guardedUpsert(db, table, columns, keyColumns, versionColumn, rows.length, options),
      params: rows.flat(),
    };
  }
  const values = guardedUpsert(db, table, columns, keyColumns, versionColumn, 1, options);
  const tuple = `VALUES (${columns.map(() => '?').join(', ')})`;
  const unnest = `SELECT * FROM UNNEST(${pgTypes.map((t) => `?::${t}[]`).join(', ')})`;
  return {
    sql: values.replace(tuple, unnest),
    params: columns.map((_, i) => pgArrayLiteral(rows.map((r) => r[i]))),
  };
}

/**
 * Rows (or ids) per statement: PostgreSQL binds a batch as array parameters, so only the statement's size limits
 * it; the other dialects bind a placeholder per value and stay at `perPlaceholderLimit`.
 */
export function rowsPerStatement(db: SqlClient, perPlaceholderLimit: number): number {
  return db.kind === 'postgresql' ? 10_000 : perPlaceholderLimit;
}
