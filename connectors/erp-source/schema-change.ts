import { type Schema, SchemaError } from '../../runtime/api/index.js';
import type { Dialect } from './dialects/dialect.js';
import { type ColumnInfo, type TableId, type TableInfo, qualified } from './model.js';

/**
 * Schema changes in captured tables, noticed without a restart. A cheap catalog fingerprint (one
 * information_schema.columns query for all captured tables) is compared on an interval; only tables whose
 * fingerprint moved are described again, and the new description is checked against the one in use.
 *
 * Compatible (the new schema is used from the next batch on, logged): a column added or dropped (non-key
 * columns are optional in the row schema), a type widened within its Connect type (varchar length, DECIMAL
 * precision with the same scale), an integer or float promoted (int16 → int32 → int64, float32 → float64: Avro
 * readers promote these). Incompatible (capture stops with a SchemaError naming table, column, old and new
 * type): a changed primary key, a DECIMAL scale change (the same bytes would mean another number), or any other
 * change of a column's Connect type (e.g. numeric → text, integer → timestamp).
 */

/** Catalog fingerprint per table (`schema.table` → text); a table missing from the map was not found. */
export async function catalogFingerprints(dialect: Dialect, tables: readonly TableId[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const q = (c: string): string => dialect.quote(c);
  // 2 parameters per table: 500 tables per statement stays below every driver's parameter limit.
  for (let i = 0; i < tables.length; i += 500) {
    const chunk = tables.slice(i, i + 500);
    let n = 1;
    const where = chunk
      .map(() => `(TABLE_SCHEMA = ${dialect.placeholder(n++)} AND TABLE_NAME = ${dialect.placeholder(n++)})`)
      .join(' OR ');
    const rows = await dialect.run(
      // Upper-case names: SQL Server databases with a case-sensitive collation need them, the others fold case.
      `SELECT TABLE_SCHEMA AS ${q('s')}, TABLE_NAME AS ${q('t')}, COLUMN_NAME AS ${q('c')}, DATA_TYPE AS ${q('dt')},
              CHARACTER_MAXIMUM_LENGTH AS ${q('len')}, NUMERIC_PRECISION AS ${q('np')},
              NUMERIC_SCALE AS ${q('ns')}, DATETIME_PRECISION AS ${q('dp')}, IS_NULLABLE AS ${q('n')}
         FROM INFORMATION_SCHEMA.COLUMNS WHERE ${where}
        ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
      chunk.flatMap((t) => [t.schema, t.table]),
      'Reading the catalog fingerprint of the captured tables',
    );
    for (const r of rows) {
      const name = `${String(r.s)}.${String(r.t)}`;
      const col = [r.c, r.dt, r.len, r.np, r.ns, r.dp, r.n].map((v) => (v === null ? '' : String(v))).join(':');
      out.set(name, out.has(name) ? `${out.get(name)!}|${col}` : col);
    }
  }
  return out;
}

export interface SchemaDiff {
  /** Human-readable compatible changes (for the log). */
  changes: string[];
  /** Human-readable incompatible changes; non-empty means the new schema must not be used silently. */
  incompatible: string[];
}

/** Compares the description in use with a fresh one (same table). */
export function diffTableSchemas(before: TableInfo, after: TableInfo): SchemaDiff {
  const changes: string[] = [];
  const incompatible: string[] = [];
  if (before.keyColumns.join(',') !== after.keyColumns.join(',')) {
    incompatible.push(`primary key (${before.keyColumns.join(', ')}) → (${after.keyColumns.join(', ')})`);
  }
  const old = new Map(before.columns.map((c) => [c.name, c]));
  const now = new Map(after.columns.map((c) => [c.name, c]));
  for (const c of after.columns) if (!old.has(c.name)) changes.push(`column ${c.name} added (${c.dbType})`);
  for (const c of before.columns) if (!now.has(c.name)) changes.push(`column ${c.name} dropped`);
  for (const c of after.columns) {
    const o = old.get(c.name);
    if (!o) continue;
    const verdict = compareColumn(o, c);
    if (verdict === 'same') continue;
    const text = `column ${c.name} ${describeType(o)} → ${describeType(c)}`;
    (verdict === 'compatible' ? changes : incompatible).push(text);
  }
  return { changes, incompatible };
}

/** Throws the SchemaError that stops capture when a diff has incompatible changes. */
export function assertCompatible(table: TableInfo, diff: SchemaDiff): void {
  if (diff.incompatible.length === 0) return;
  throw new SchemaError(
    `Incompatible schema change in ${qualified(table.id)}: ${diff.incompatible.join('; ')}. Events of the new ` +
      'shape would not be readable with the schema registered for its topics, so capture stopped before emitting ' +
      'any (its position is where the last acknowledged event left it). To accept the change, make sure the ' +
      "topics' consumers and the registry's compatibility setting allow it, then restart the connector: it " +
      'starts with the new schema and resumes at the same position.',
  );
}

const PROMOTIONS: Record<string, string[]> = {
  int8: ['int16', 'int32', 'int64'],
  int16: ['int32', 'int64'],
  int32: ['int64'],
  float32: ['float64'],
};

function compareColumn(a: ColumnInfo, b: ColumnInfo): 'same' | 'compatible' | 'incompatible' {
  const sa = a.schema;
  const sb = b.schema;
  const sameShape = sa.type === sb.type && (sa.name ?? '') === (sb.name ?? '');
  if (sameShape) {
    if (scaleOf(sa) !== scaleOf(sb)) return 'incompatible';
    const same =
      a.dbType === b.dbType &&
      sa.optional === sb.optional &&
      JSON.stringify(sa.parameters ?? {}) === JSON.stringify(sb.parameters ?? {});
    return same ? 'same' : 'compatible';
  }
  if (!sa.name && !sb.name && PROMOTIONS[sa.type]?.includes(sb.type)) return 'compatible';
  return 'incompatible';
}

function scaleOf(s: Schema): string | undefined {
  return s.parameters?.scale;
}

function describeType(c: ColumnInfo): string {
  const s = c.schema;
  const precision = s.parameters?.['connect.decimal.precision'];
  const scale = s.parameters?.scale;
  const logical = s.name ? `${s.name.split('.').pop()!}` : s.type;
  const detail = scale !== undefined ? `(${precision ?? '?'},${scale})` : '';
  return `${c.dbType} [${logical}${detail}]`;
}
