/**
 * The SQL text each database wants for the same thing: bound-parameter placeholders and quoted identifiers. Both
 * connectors build statements through one of these objects, so a database's quoting rule is written once.
 */
export type SqlKind = 'postgresql' | 'mysql' | 'sqlserver';

/** Placeholder for the n-th (1-based) parameter: `$1` (pg), `?` (mysql), `@p1` (mssql). */
export type Placeholder = (n: number) => string;

export interface SqlSyntax {
  readonly kind: SqlKind;
  readonly placeholder: Placeholder;
  /** One identifier (a column, a schema, a table), quoted; a dot is part of the name. */
  quote(identifier: string): string;
  /** A dotted name (`schema.table`), each part quoted. Quoted dots are not supported. */
  quoteQualified(name: string): string;
  /** Whether `(a, b) IN ((?, ?), …)` works (row values); SQL Server needs an OR of ANDs. */
  readonly rowValues: boolean;
}

function syntax(
  kind: SqlKind,
  placeholder: Placeholder,
  quote: (identifier: string) => string,
  rowValues: boolean,
): SqlSyntax {
  return {
    kind,
    placeholder,
    quote,
    quoteQualified: (name) => name.split('.').map(quote).join('.'),
    rowValues,
  };
}

export const postgresSyntax: SqlSyntax = syntax(
  'postgresql',
  (n) => `$${n}`,
  (id) => `"${id.replace(/"/g, '""')}"`,
  true,
);

export const mysqlSyntax: SqlSyntax = syntax(
  'mysql',
  () => '?',
  (id) => `\`${id.replace(/`/g, '``')}\``,
  true,
);

export const sqlServerSyntax: SqlSyntax = syntax(
  'sqlserver',
  (n) => `@p${n}`,
  (id) => `[${id.replace(/]/g, ']]')}]`,
  false,
);

export function syntaxOf(kind: SqlKind): SqlSyntax {
  switch (kind) {
    case 'postgresql':
      return postgresSyntax;
    case 'mysql':
      return mysqlSyntax;
    case 'sqlserver':
      return sqlServerSyntax;
  }
}

/**
 * The database a URL's scheme names (`postgres://`, `postgresql://`, `mysql://`, `mariadb://`, `sqlserver://`,
 * `mssql://`), or null: each connector words its own error, naming its own config key.
 */
export function sqlKindOfUrl(url: string): SqlKind | null {
  const scheme = (/^([a-z]+):\/\//i.exec(url)?.[1] ?? '').toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgresql';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  if (scheme === 'sqlserver' || scheme === 'mssql') return 'sqlserver';
  return null;
}

/** The scheme of a database URL, shown in errors instead of the URL (which may carry a password). */
export function urlScheme(url: string): string {
  const scheme = url.split('://')[0] ?? '';
  return `${scheme}://…`;
}

/**
 * Rewrites `?` placeholders (statements written once for every database; our own SQL never has a literal `?`) to
 * the database's numbered form. MySQL's `?` stays as it is.
 */
export function numberPlaceholders(sql: string, syntax: SqlSyntax): string {
  if (syntax.kind === 'mysql') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => syntax.placeholder(++n));
}
