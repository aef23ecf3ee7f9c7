import { type SetupDialect, changeTableDdl, changeTriggersDdl } from '../../connectors/erp-source/public.js';
import { CliError } from '../errors.js';

/**
 * `erpstream erp init`: the SQL that prepares an ERP database for the ErpSource connector. The change table and
 * its triggers come from connectors/erp-source/setup-sql.ts, the very functions the connector's tests build their
 * databases with, so what users run is what we test; grants and Change Tracking are added here.
 */

export interface CapturedTable {
  /** Qualified name, e.g. `erp.shipment`. */
  table: string;
  keyColumns: string[];
}

export interface InitOptions {
  dialect: SetupDialect;
  tables: CapturedTable[];
  /** Qualified change table (change_table mode). */
  changeTable: string;
  /** The connector's database user: gets read access to what it reads. */
  user?: string;
  /** SQL Server Change Tracking instead of a change table; `database` names the database to enable it on. */
  changeTracking?: { database: string; retentionDays: number };
}

export interface InitSql {
  statements: string[];
  /** The connector keys that match what the statements create. */
  connectorConfig: Record<string, string>;
}

/** `erp.shipment:SHPMT_NO` or `erp.doc:A,B` → the table and its key columns. */
export function parseCapturedTable(spec: string): CapturedTable {
  const m = /^([^:\s]+\.[^:\s]+):([^:\s]+)$/.exec(spec.trim());
  if (!m) {
    throw CliError.invalidInput(
      `--table "${spec}" is not <schema>.<table>:<key column>[,<key column>…].`,
      'e.g. --table erp.shipment:SHPMT_NO --table erp.document_line:DOC_ID,LINE_NO',
    );
  }
  return { table: m[1]!, keyColumns: m[2]!.split(',').map((c) => c.trim()) };
}

function quote(d: SetupDialect, qualified: string): string {
  const q =
    d === 'sqlserver'
      ? (id: string) => `[${id.replace(/]/g, ']]')}]`
      : d === 'postgresql'
        ? (id: string) => `"${id.replace(/"/g, '""')}"`
        : (id: string) => `\`${id.replace(/`/g, '``')}\``;
  return qualified.split('.').map(q).join('.');
}

function grantee(d: SetupDialect, user: string): string {
  if (d === 'mysql') return `'${user.replace(/'/g, "''")}'@'%'`;
  return quote(d, user);
}

export function initSql(o: InitOptions): InitSql {
  if (o.tables.length === 0) {
    throw CliError.invalidInput('No table given.', 'Name each captured table: --table <schema>.<table>:<key columns>');
  }
  const d = o.dialect;
  const statements: string[] = [];
  const schemas = [...new Set([...o.tables.map((t) => t.table), o.changeTable].map((t) => t.split('.')[0]!))];
  const tableList = o.tables.map((t) => t.table).join(',');
  if (o.changeTracking) {
    if (d !== 'sqlserver') {
      throw CliError.invalidInput(
        'Change Tracking is a SQL Server feature.',
        'Drop --change-tracking, or use --dialect sqlserver.',
      );
    }
    statements.push(
      `ALTER DATABASE ${quote(d, o.changeTracking.database)} SET CHANGE_TRACKING = ON (CHANGE_RETENTION = ${o.changeTracking.retentionDays} DAYS, AUTO_CLEANUP = ON)`,
      ...o.tables.map((t) => `ALTER TABLE ${quote(d, t.table)} ENABLE CHANGE_TRACKING`),
    );
    if (o.user) {
      for (const t of o.tables) {
        statements.push(`GRANT SELECT ON ${quote(d, t.table)} TO ${grantee(d, o.user)}`);
        statements.push(`GRANT VIEW CHANGE TRACKING ON ${quote(d, t.table)} TO ${grantee(d, o.user)}`);
      }
    }
    return { statements, connectorConfig: { 'capture.mode': 'change_tracking', 'table.include.list': tableList } };
  }
  const width = o.tables[0]!.keyColumns.length;
  const odd = o.tables.find((t) => t.keyColumns.length !== width);
  if (odd) {
    throw CliError.invalidInput(
      `${odd.table} has ${odd.keyColumns.length} key columns and ${o.tables[0]!.table} has ${width}: one change table holds one key shape.`,
      'Run `erp init` once per key shape, each with its own --change-table.',
    );
  }
  const keyColumns = width === 1 ? ['record_id'] : Array.from({ length: width }, (_, i) => `key${i + 1}`);
  statements.push(...changeTableDdl(d, { changeTable: o.changeTable, keyColumns }));
  for (const t of o.tables) {
    statements.push(
      ...changeTriggersDdl(d, { changeTable: o.changeTable, keyColumns, table: t.table, baseKeyColumns: t.keyColumns }),
    );
  }
  if (o.user) {
    const g = grantee(d, o.user);
    if (d === 'postgresql') for (const s of schemas) statements.push(`GRANT USAGE ON SCHEMA ${quote(d, s)} TO ${g}`);
    for (const t of [...o.tables.map((x) => x.table), o.changeTable]) {
      statements.push(`GRANT SELECT ON ${quote(d, t)} TO ${g}`);
    }
    // The source gives a sequence gap up only when information_schema.INNODB_TRX shows no transaction that could
    // still commit it, and that table is readable only with PROCESS (the task refuses to start without it).
    if (d === 'mysql') statements.push(`GRANT PROCESS ON *.* TO ${g}`);
  }
  return {
    statements,
    connectorConfig: {
      'capture.mode': 'change_table',
      'change.table': o.changeTable,
      'change.table.key.columns': keyColumns.join(','),
      'table.include.list': tableList,
    },
  };
}

/** The statements as a script a DBA can read and run (`;` or `GO` between them). */
export function renderScript(d: SetupDialect, sql: InitSql): string {
  const sep = d === 'sqlserver' ? '\nGO\n' : ';\n';
  const body = sql.statements.map((s) => `${s}${sep}`).join('\n');
  const hints = Object.entries(sql.connectorConfig)
    .map(([k, v]) => `--   ${k}=${v}`)
    .join('\n');
  // MySQL triggers with BEGIN…END need a delimiter other than ";" in the mysql client.
  const delimiter = d === 'mysql' ? 'DELIMITER $$\n' : '';
  const mysqlBody = d === 'mysql' ? sql.statements.map((s) => `${s}$$\n`).join('\n') + 'DELIMITER ;\n' : body;
  return `-- erpstream erp init (${d}): run once, as a user allowed to create tables and triggers.\n-- ErpSource connector settings that match:\n${hints}\n\n${delimiter}${mysqlBody}`;
}
