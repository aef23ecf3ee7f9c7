import { type TriggerSpec, changeTableDdl, changeTriggersDdl } from '../../../connectors/erp-source/public.js';
import { CliError, ExitCode } from '../../errors.js';

/**
 * The demo's small logistics ERP, as an ERP vendor would have built it: CRM-style column names
 * (`SHPMT_NO`, `Z_CUST_CD`, `dtUpdt`), status codes that only mean something through a translation
 * table, no foreign keys between the tables the operations team fills in any order (a phone may be saved
 * before its person, a document before its domain registration), and a change table filled by triggers in
 * the shape the ErpSourceConnector reads (PostgreSQL: with the `txid` watermark column).
 */

export const ERP_SCHEMA = 'erp';
export const CHANGE_TABLE = `${ERP_SCHEMA}.change_log`;

/** Customers of the demo: their ERP customer code and their domain (integration) name. */
export const DEMO_CUSTOMERS = [
  { code: 'AC01', domain: 'acme', name: 'ACME Logistics' },
  { code: 'GX01', domain: 'globex', name: 'Globex Freight' },
] as const;

/** Status codes and their meanings (erp.code_translation); `77` is deliberately missing: the poison code. */
export const SHIPMENT_STATUS: Readonly<Record<string, string>> = {
  '10': 'CREATED',
  '20': 'PICKED',
  '30': 'SHIPPED',
  '40': 'DELIVERED',
  '90': 'CANCELLED',
};
export const POISON_STATUS = '77';
export const DOCUMENT_TYPES: Readonly<Record<string, string>> = {
  INV: 'INVOICE',
  POD: 'PROOF_OF_DELIVERY',
  CMR: 'CONSIGNMENT_NOTE',
};

/** Captured tables and their key columns (quoted, as the ERP created them). */
export const CAPTURED_TABLES: ReadonlyArray<{ table: string; key: string }> = [
  { table: 'party', key: 'PARTY_ID' },
  { table: 'person', key: 'PERS_ID' },
  { table: 'phone', key: 'PHONE_ID' },
  { table: 'shipment', key: 'SHPMT_NO' },
  { table: 'document', key: 'DOC_ID' },
  { table: 'document_domain', key: 'DOC_ID' },
];

const TABLES_DDL = [
  `CREATE SCHEMA ${ERP_SCHEMA}`,
  `CREATE TABLE erp.party (
  "PARTY_ID" integer PRIMARY KEY,
  "PARTY_NM" varchar(80) NOT NULL,
  "Z_CUST_CD" char(4) NOT NULL,
  "dtUpdt" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  `CREATE TABLE erp.person (
  "PERS_ID" integer PRIMARY KEY,
  "PARTY_ID" integer NOT NULL,
  "FIRST_NM" varchar(40),
  "LAST_NM" varchar(40) NOT NULL,
  "Z_CUST_CD" char(4) NOT NULL,
  "dtUpdt" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  // No foreign key to person: the ERP saves a phone before its person (the race the lookup sink resolves).
  `CREATE TABLE erp.phone (
  "PHONE_ID" integer PRIMARY KEY,
  "PERS_ID" integer NOT NULL,
  "PHONE_NO" varchar(30) NOT NULL,
  "PHONE_TYP" char(1) NOT NULL DEFAULT 'M',
  "Z_CUST_CD" char(4) NOT NULL,
  "dtUpdt" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  `CREATE TABLE erp.shipment (
  "SHPMT_NO" varchar(12) PRIMARY KEY,
  "Z_CUST_CD" char(4) NOT NULL,
  "STAT_CD" varchar(2) NOT NULL,
  "NET_AMT" numeric(12,2),
  "WGT_KG" numeric(10,3),
  "ACTIVE_FLG" char(1) NOT NULL DEFAULT 'J',
  "REMARK" varchar(200) NOT NULL DEFAULT '',
  "dtUpdt" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  `CREATE TABLE erp.document (
  "DOC_ID" integer PRIMARY KEY,
  "SHPMT_NO" varchar(12) NOT NULL,
  "DOC_TYP" char(3) NOT NULL,
  "Z_CUST_CD" char(4) NOT NULL,
  "DOC_REF" varchar(40),
  "dtUpdt" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  // Which customer domain a document belongs to; registered by a second step, often after the document.
  `CREATE TABLE erp.document_domain (
  "DOC_ID" integer PRIMARY KEY,
  "DOMAIN" varchar(40) NOT NULL,
  "dtUpdt" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  `CREATE TABLE erp.code_translation (
  table_name text NOT NULL,
  code text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (table_name, code)
)`,
];

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Every statement that creates the demo ERP in an empty database, in order (PostgreSQL). */
export function erpSchemaStatements(): string[] {
  const codes = [
    ...Object.entries(SHIPMENT_STATUS).map(([c, v]) => ['shipment_status', c, v]),
    ...Object.entries(DOCUMENT_TYPES).map(([c, v]) => ['document_type', c, v]),
  ];
  return [
    ...TABLES_DDL,
    `INSERT INTO erp.code_translation (table_name, code, value) VALUES ${codes
      .map((r) => `(${r.map(literal).join(', ')})`)
      .join(', ')}`,
    ...changeTableDdl('postgresql', { changeTable: CHANGE_TABLE, keyColumns: ['record_id'] }),
    ...CAPTURED_TABLES.flatMap(({ table, key }) => {
      const spec: TriggerSpec = {
        changeTable: CHANGE_TABLE,
        keyColumns: ['record_id'],
        table: `${ERP_SCHEMA}.${table}`,
        baseKeyColumns: [key],
      };
      return changeTriggersDdl('postgresql', spec);
    }),
  ];
}

export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>>; rowCount?: number | null }>;
}

/** Creates the ERP; refuses to touch a database that already has the schema unless `replace` drops it first. */
export async function createErpSchema(db: Queryable, options: { replace?: boolean } = {}): Promise<void> {
  const exists = await db.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [ERP_SCHEMA]);
  if (exists.rows.length > 0) {
    if (!options.replace) {
      throw new CliError(
        `The database already has a schema "${ERP_SCHEMA}"; the demo seeds a fresh ERP. Use another database, or drop it (replace).`,
        { exitCode: ExitCode.FAILURE },
      );
    }
    await db.query(`DROP SCHEMA ${ERP_SCHEMA} CASCADE`);
  }
  await db.query('BEGIN');
  try {
    for (const sql of erpSchemaStatements()) await db.query(sql);
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}
