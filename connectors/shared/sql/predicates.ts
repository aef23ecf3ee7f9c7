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

/** Columns with a value each (`column = value`, `SET column = value`). */
export type ColumnValues = ReadonlyArray<readonly [column: string, value: unknown]>;

/** A column compared with one value for every key, or with a value per key (`each`, in the keys' order). */
export type KeyedCondition =
  | { readonly column: string; readonly op: '=' | '<='; readonly value: unknown }
  | {
      readonly column: string;
      readonly op: '=' | '<=';
      readonly each: readonly unknown[];
      /** The PostgreSQL type the values are bound as (one array of it). */
      readonly type: string;
    };

/** What selectByKeys, deleteByKeys and updateByKeys match beyond the fixed columns and the key. */
export interface ByKeysOptions {
  /** Further conditions on each row. PostgreSQL checks them in the probe and, for a change, again on the row changed. */
  readonly where?: readonly KeyedCondition[];
  /**
   * The key has an index of its own, not led by the fixed columns (the park's waiting_on): PostgreSQL probes it by the
   * key alone and checks the fixed columns after the probe, outside it (inside, on a table without statistics, they
   * steer the probe to an index led by them, read whole per key). No keyProbe then.
   */
  readonly keyAlone?: boolean;
}

/** The conditions of a batch of keys, spelled for rows of `row` (a qualifier: `p.`, or '') against keys of `k`. */
function matching(
  fixed: ColumnValues,
  key: string,
  where: readonly KeyedCondition[],
  row: string,
  k: string,
): { fixed: Sql; key: string; where: Sql } {
  let each = 0;
  return {
    fixed: { text: and(...fixed.map(([c]) => `${row}${c} = ?`)), params: fixed.map(([, v]) => v) },
    key: `${row}${key} = ${k}.v`,
    where: {
      text: and(...where.map((c) => `${row}${c.column} ${c.op} ${'each' in c ? `${k}.v${++each}` : '?'}`)),
      params: where.flatMap((c) => ('each' in c ? [] : [c.value])),
    },
  };
}

const and = (...parts: string[]) => parts.filter((p) => p !== '').join(' AND ');

/**
 * PostgreSQL: the keys (one text[]) and the values per key (an array each), unnested as `k(v, v1, …)`, and the probe
 * per key, `LATERAL (SELECT columns FROM table WHERE … OFFSET 0) AS m`, of the fixed columns' values, the key and
 * `where` (the fixed columns left out with keyAlone: see ByKeysOptions).
 */
function pgProbe(
  columns: string,
  table: string,
  fixed: ColumnValues,
  key: string,
  keys: readonly unknown[],
  where: readonly KeyedCondition[],
  keyAlone: boolean,
): { unnest: Sql; names: string; probe: Sql } {
  const each = where.flatMap((c) => ('each' in c ? [c] : []));
  const m = matching(keyAlone ? [] : fixed, key, where, '', 'k');
  const steer = keyAlone
    ? ''
    : keyProbe(
        fixed.map(([c]) => c),
        key,
        'k.v',
      );
  return {
    unnest: {
      text: `UNNEST(${['?::text[]', ...each.map((c) => `?::${c.type}[]`)].join(', ')})`,
      params: [pgArrayLiteral(keys), ...each.map((c) => pgArrayLiteral(c.each))],
    },
    names: `k(${['v', ...each.map((_, i) => `v${i + 1}`)].join(', ')})`,
    probe: {
      text: `LATERAL (SELECT ${columns} FROM ${table} WHERE ${and(m.fixed.text, m.key, steer, m.where.text)} OFFSET 0) AS m`,
      // keyProbe binds the fixed values again.
      params: [...m.fixed.params, ...(keyAlone ? [] : m.fixed.params), ...m.where.params],
    },
  };
}

/** Elsewhere: the fixed columns, `where` and the keys as an IN-list (an OR-list of key and values with values per key). */
function inLists(
  syntax: Pick<SqlSyntax, 'kind'>,
  fixed: ColumnValues,
  key: string,
  keys: readonly unknown[],
  where: readonly KeyedCondition[],
  keyAlone: boolean,
): Sql {
  const shared = where.filter((c) => !('each' in c));
  const each = where.flatMap((c) => ('each' in c ? [c] : []));
  const m = matching(fixed, key, shared, '', '');
  let match: Sql;
  if (each.length === 0) {
    const list = inList(syntax, key, keys);
    match = { text: list.sql, params: list.params };
  } else {
    const one = `(${and(`${key} = ?`, ...each.map((c) => `${c.column} ${c.op} ?`))})`;
    match = {
      text: `(${keys.map(() => one).join(' OR ')})`,
      params: keys.flatMap((k, i) => [k, ...each.map((c) => c.each[i])]),
    };
  }
  return keyAlone
    ? {
        text: and(match.text, m.fixed.text, m.where.text),
        params: [...match.params, ...m.fixed.params, ...m.where.params],
      }
    : {
        text: and(m.fixed.text, m.where.text, match.text),
        params: [...m.fixed.params, ...m.where.params, ...match.params],
      };
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
  fixed: ColumnValues,
  key: string,
  keys: readonly unknown[],
  options: ByKeysOptions = {},
): { sql: string; params: unknown[] } {
  const where = options.where ?? [];
  const keyAlone = options.keyAlone === true;
  if (syntax.kind === 'postgresql') {
    const q = pgProbe(columns, table, fixed, key, keys, where, keyAlone);
    // With keyAlone the fixed columns are picked from what the probe found.
    const after = keyAlone ? matching(fixed, key, [], 'm.', 'k').fixed : { text: '', params: [] };
    return {
      sql: `SELECT m.* FROM ${q.unnest.text} AS ${q.names}, ${q.probe.text}${after.text === '' ? '' : ` WHERE ${after.text}`}`,
      params: [...q.unnest.params, ...q.probe.params, ...after.params],
    };
  }
  const q = inLists(syntax, fixed, key, keys, where, keyAlone);
  return { sql: `SELECT ${columns} FROM ${table} WHERE ${q.text}`, params: q.params };
}

/**
 * A change of the rows of a batch of keys: `change` gives its head (`DELETE FROM …`, `UPDATE … SET …`) for the table
 * spelled `target`, joined on PostgreSQL with `keys` where the values per key are checked again (else null).
 *
 * PostgreSQL: the rows a probe per key finds (selectByKeys), changed by their tuple ids: a table without statistics
 * is not read whole per batch, as `key = ANY(?)` or an OR-list would make it. A row another statement changed
 * meanwhile has another tuple id and stays; and every condition is checked again on the row changed (`p`, with the
 * values per key through the same unnested keys, `r`): older PostgreSQL releases re-check a row updated meanwhile
 * under a tuple-id scan without comparing its tuple id (nodeTidscan.c TidRecheck), and would change the newer row.
 * The keys are unnested once, in a WITH both read, when there are values per key. Elsewhere: inLists.
 */
function changeByKeys(
  syntax: Pick<SqlSyntax, 'kind'>,
  change: (target: string, keys: string | null) => Sql,
  table: string,
  fixed: ColumnValues,
  key: string,
  keys: readonly unknown[],
  where: readonly KeyedCondition[],
): { sql: string; params: unknown[] } {
  if (syntax.kind !== 'postgresql') {
    const head = change(table, null);
    const q = inLists(syntax, fixed, key, keys, where, false);
    return { sql: `${head.text} WHERE ${q.text}`, params: [...head.params, ...q.params] };
  }
  const q = pgProbe('ctid', table, fixed, key, keys, where, false);
  const perKey = where.some((c) => 'each' in c);
  const head = change(`${table} AS p`, perKey ? 'k AS r' : null);
  const source = perKey
    ? { text: 'k', params: [] }
    : { text: `${q.unnest.text} AS ${q.names}`, params: q.unnest.params };
  const again = matching(fixed, key, where, 'p.', 'r');
  // The key is checked again only to pair a row with its values: an update never changes the key (the fixed columns
  // and the key are the table's key; keyAlone is for reads only).
  const body: Sql = {
    text: `${head.text} WHERE ${and(
      `p.ctid = ANY(ARRAY(SELECT m.ctid FROM ${source.text}, ${q.probe.text}))`,
      again.fixed.text,
      perKey ? again.key : '',
      again.where.text,
    )}`,
    params: [...head.params, ...source.params, ...q.probe.params, ...again.fixed.params, ...again.where.params],
  };
  if (!perKey) return { sql: body.text, params: body.params };
  return {
    sql: `WITH ${q.names} AS (SELECT * FROM ${q.unnest.text}) ${body.text}`,
    params: [...q.unnest.params, ...body.params],
  };
}

/**
 * `DELETE FROM table WHERE fixed… AND key IN (…keys)` and `where`, for a batch of keys under an index that leads with
 * the fixed columns then the key (see selectByKeys). PostgreSQL deletes what a probe per key finds (changeByKeys);
 * elsewhere an IN-list, or an OR-list of each key with its values where `where` has values per key.
 */
export function deleteByKeys(
  syntax: Pick<SqlSyntax, 'kind'>,
  table: string,
  fixed: ColumnValues,
  key: string,
  keys: readonly unknown[],
  options: Pick<ByKeysOptions, 'where'> = {},
): { sql: string; params: unknown[] } {
  const head = (target: string, using: string | null) => ({
    text: `DELETE FROM ${target}${using === null ? '' : ` USING ${using}`}`,
    params: [],
  });
  return changeByKeys(syntax, head, table, fixed, key, keys, options.where ?? []);
}

/** `UPDATE table SET set… WHERE …`: deleteByKeys's rows, the columns of `set` set to their values. */
export function updateByKeys(
  syntax: Pick<SqlSyntax, 'kind'>,
  table: string,
  set: ColumnValues,
  fixed: ColumnValues,
  key: string,
  keys: readonly unknown[],
  options: Pick<ByKeysOptions, 'where'> = {},
): { sql: string; params: unknown[] } {
  const head = (target: string, from: string | null) => ({
    text: `UPDATE ${target} SET ${set.map(([c]) => `${c} = ?`).join(', ')}${from === null ? '' : ` FROM ${from}`}`,
    params: set.map(([, v]) => v),
  });
  return changeByKeys(syntax, head, table, fixed, key, keys, options.where ?? []);
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
