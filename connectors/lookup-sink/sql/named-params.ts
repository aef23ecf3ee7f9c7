import { ConfigError } from '../../../runtime/api/index.js';

/**
 * A user's SQL template with `:name` parameters, compiled once: text pieces between parameters, so binding
 * never builds SQL from values. Quoted strings, quoted identifiers, comments and PostgreSQL `::type` casts
 * are left alone.
 */
export interface SqlTemplate {
  readonly key: string;
  /** pieces.length === names.length + 1 */
  readonly pieces: readonly string[];
  readonly names: readonly string[];
}

export function compileTemplate(key: string, sql: string): SqlTemplate {
  const pieces: string[] = [];
  const names: string[] = [];
  let current = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(sql, i, ch);
      current += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      current += sql.slice(i, stop);
      i = stop;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      current += sql.slice(i, stop);
      i = stop;
    } else if (ch === ':' && next === ':') {
      current += '::';
      i += 2;
    } else if (ch === ':' && next !== undefined && /[A-Za-z_]/.test(next)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))!;
      pieces.push(current);
      names.push(m[0]);
      current = '';
      i += 1 + m[0].length;
    } else if (ch === '?') {
      throw ConfigError.invalid(key, sql, "Use named parameters (:id, :ids, :field), not '?'");
    } else {
      current += ch;
      i++;
    }
  }
  pieces.push(current);
  return { key, pieces, names };
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/** A parameter's value: one value, or a list expanded to `?, ?, …` (tuples to `(?, ?), …`). */
export type ParamValue = { one: unknown } | { list: ReadonlyArray<readonly unknown[]> };

/** The template with `?` placeholders and its bound values, in order. */
export function bindTemplate(t: SqlTemplate, lookup: (name: string) => ParamValue): { sql: string; params: unknown[] } {
  let sql = t.pieces[0]!;
  const params: unknown[] = [];
  t.names.forEach((name, i) => {
    const v = lookup(name);
    if ('one' in v) {
      sql += '?';
      params.push(v.one);
    } else {
      if (v.list.length === 0) throw new ConfigError(`${t.key}: parameter :${name} has no values`, t.key);
      sql += v.list
        .map((tuple) => {
          params.push(...tuple);
          return tuple.length === 1 ? '?' : `(${tuple.map(() => '?').join(', ')})`;
        })
        .join(', ');
    }
    sql += t.pieces[i + 1]!;
  });
  return { sql, params };
}
