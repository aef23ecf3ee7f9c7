import type { Placeholder, SqlSyntax } from './syntax.js';

/** SQL text plus its bound parameters. */
export interface Sql {
  text: string;
  params: unknown[];
}

/** `(k1, k2) IN ((?, ?), ...)`, or an OR of ANDs where row values are not supported (SQL Server). */
export function keyInPredicate(
  quote: (id: string) => string,
  keyColumns: readonly string[],
  keys: ReadonlyArray<readonly string[]>,
  ph: Placeholder,
  firstParam: number,
  rowValues: boolean,
  /** Wraps the placeholder of key column i, e.g. in a CAST so the comparison is exact. */
  wrap: (column: number, placeholder: string) => string = (_c, p) => p,
): Sql {
  const params: unknown[] = [];
  let n = firstParam;
  const next = (v: unknown, column: number): string => {
    params.push(v);
    return wrap(column, ph(n++));
  };
  if (keyColumns.length === 1) {
    return { text: `${quote(keyColumns[0]!)} IN (${keys.map((k) => next(k[0], 0)).join(', ')})`, params };
  }
  if (rowValues) {
    const cols = `(${keyColumns.map(quote).join(', ')})`;
    return { text: `${cols} IN (${keys.map((k) => `(${k.map(next).join(', ')})`).join(', ')})`, params };
  }
  const ors = keys.map((k) => `(${keyColumns.map((c, i) => `${quote(c)} = ${next(k[i], i)}`).join(' AND ')})`);
  return { text: `(${ors.join(' OR ')})`, params };
}

/** Keyset pagination: key > afterKey in key order, as an expanded OR so every database can use the index. */
export function keyAfterPredicate(
  quote: (id: string) => string,
  keyColumns: readonly string[],
  afterKey: readonly string[],
  ph: Placeholder,
  firstParam: number,
  wrap: (column: number, placeholder: string) => string = (_c, p) => p,
): Sql {
  const params: unknown[] = [];
  let n = firstParam;
  const next = (v: unknown, column: number): string => {
    params.push(v);
    return wrap(column, ph(n++));
  };
  const ors = keyColumns.map((col, i) => {
    const eqs = keyColumns.slice(0, i).map((c, j) => `${quote(c)} = ${next(afterKey[j], j)}`);
    return `(${[...eqs, `${quote(col)} > ${next(afterKey[i], i)}`].join(' AND ')})`;
  });
  return { text: `(${ors.join(' OR ')})`, params };
}

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) bound as one text parameter: a whole batch then costs one bound
 * value and a short statement instead of one placeholder per value, which pg serializes and the server parses
 * one by one. Every element is quoted, which PostgreSQL accepts for any element type.
 */
export function pgArrayLiteral(values: readonly unknown[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null || v === undefined) {
      out += 'NULL';
      continue;
    }
    const text = typeof v === 'string' ? v : String(v);
    // Most ids need no escaping; testing first spares a replace per element on the hot path.
    out += NEEDS_ESCAPE.test(text) ? `"${text.replace(ESCAPED, '\\$&')}"` : `"${text}"`;
  }
  return `${out}}`;
}

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/**
 * `column IN (…values)` with `?` placeholders (see numberPlaceholders): one array parameter on PostgreSQL
 * (`= ANY(?)`), a placeholder per value elsewhere.
 */
export function inList(
  syntax: Pick<SqlSyntax, 'kind'>,
  column: string,
  values: readonly unknown[],
): { sql: string; params: unknown[] } {
  if (syntax.kind === 'postgresql') return { sql: `${column} = ANY(?)`, params: [pgArrayLiteral(values)] };
  return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
}

/**
 * `SELECT columns FROM table WHERE fixed… AND key IN (…keys)`, for a batch of keys under an index that leads with the
 * fixed columns then the key. On PostgreSQL an index probe per key (a LATERAL subquery over the unnested array): the
 * `= ANY(?)` form lets the planner scan every row of the fixed prefix and filter, which it picks whenever the table
 * has no statistics yet (a new ledger during its initial load) or thinks the prefix small, and which grows with the
 * table, not the batch. OFFSET 0 keeps the subquery from being flattened into a join the planner could hash; keyProbe
 * keeps it on the key's own index. The key column must compare with text (the keys are bound as one text[]).
 */
export function selectByKeys(
  syntax: Pick<SqlSyntax, 'kind'>,
  columns: string,
  table: string,
  fixed: ReadonlyArray<readonly [column: string, value: unknown]>,
  key: string,
  keys: readonly unknown[],
): { sql: string; params: unknown[] } {
  const where = fixed.map(([c]) => `${c} = ?`);
  const values = fixed.map(([, v]) => v);
  if (syntax.kind === 'postgresql') {
    const probe = keyProbe(
      fixed.map(([c]) => c),
      key,
      'k.v',
    );
    return {
      sql:
        `SELECT m.* FROM UNNEST(?::text[]) AS k(v), LATERAL (SELECT ${columns} FROM ${table} ` +
        `WHERE ${[...where, `${key} = k.v`, probe].join(' AND ')} OFFSET 0) AS m`,
      params: [pgArrayLiteral(keys), ...values, ...values],
    };
  }
  const match = inList(syntax, key, keys);
  return {
    sql: `SELECT ${columns} FROM ${table} WHERE ${[...where, match.sql].join(' AND ')}`,
    params: [...values, ...match.params],
  };
}

/**
 * `(fixed…, key) >= (?…, outer)`, a redundant condition (the equalities beside it imply it) that steers PostgreSQL to
 * the index on exactly (fixed…, key): on a table without statistics it costs every index leading with the fixed
 * columns at one row, and took one of them (the park's `due` or `age` index) to read the whole fixed prefix per key,
 * quadratic in the table (10,000 ids in a park of 10,000 rows: 11 s instead of 30 ms). As an index condition it
 * makes the key's own index the cheaper one; on another index it can only be a filter. Binds the fixed values again.
 */
export function keyProbe(fixed: readonly string[], key: string, outer: string): string {
  return `(${[...fixed, key].join(', ')}) >= (${[...fixed.map(() => '?'), outer].join(', ')})`;
}
