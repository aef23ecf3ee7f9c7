import { ConfigError } from '../../runtime/api/index.js';

/**
 * DDL for the change-table shape the connector reads, and triggers that fill it, per database. Used by the
 * docs, the demo and the tests; a DBA runs it once per captured table (ERPs that already keep change tables
 * only need the watermark column and an index).
 *
 * Identifiers given here are quoted; they come from the operator, never from data.
 */

export type SetupDialect = 'postgresql' | 'mysql' | 'sqlserver';

export interface ChangeTableShape {
  /** Qualified change table name, e.g. `erp.change_log`. */
  changeTable: string;
  /** Key columns in the change table (text), e.g. ['record_id'] or ['key1', 'key2']. */
  keyColumns: readonly string[];
  /**
   * PostgreSQL: also create the commit wake-up (changeTableNotifyDdl), default true; false for a change table
   * captured by plain polling only.
   */
  notify?: boolean;
}

/** PostgreSQL's NAMEDATALEN - 1: longer channel names are rejected by pg_notify(). */
export const MAX_CHANNEL_BYTES = 63;

/**
 * The NOTIFY channel of a change (or outbox) table, `erpstream.<schema>.<table>`: the connector's default for
 * notify.channel and what changeTableNotifyDdl writes, so both sides agree without configuration.
 */
export function notifyChannel(schema: string, table: string): string {
  return `erpstream.${schema}.${table}`;
}

/**
 * PostgreSQL: a statement-level trigger on the change table that sends an empty NOTIFY on its channel. The
 * notification is queued inside the writing transaction and delivered only when it commits (never for a rollback);
 * identical notifications of one transaction are folded into one, so a transaction writing thousands of change rows
 * sends one. The connector LISTENs on the channel and polls at once instead of waiting for poll.interval.ms.
 * A trigger on the change table (not on each captured table) also covers change tables the ERP fills itself.
 */
export function changeTableNotifyDdl(changeTable: string, channel?: string): string[] {
  const q = quoter('postgresql');
  const parts = changeTable.split('.');
  const [schema, table] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['public', parts[0]!];
  const name = channel ?? notifyChannel(schema, table);
  if (Buffer.byteLength(name) > MAX_CHANNEL_BYTES) {
    throw ConfigError.invalid(
      'notify.channel',
      name,
      `longer than ${MAX_CHANNEL_BYTES} bytes: pass a shorter channel (and set the same notify.channel on the connector)`,
    );
  }
  const fn = `${q(schema)}.${q(`${table}_erpstream_notify`)}`;
  return [
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- delivered at commit, once per transaction (identical notifications are folded): wakes the ErpSource connector
  PERFORM pg_notify('${name.replace(/'/g, "''")}', '');
  RETURN NULL;
END $$`,
    `CREATE TRIGGER ${q(`${table}_erpstream_notify`)} AFTER INSERT ON ${q(schema)}.${q(table)}
  FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
  ];
}

function quoter(d: SetupDialect): (id: string) => string {
  if (d === 'sqlserver') return (id) => `[${id.replace(/]/g, ']]')}]`;
  return d === 'postgresql' ? (id) => `"${id.replace(/"/g, '""')}"` : (id) => `\`${id.replace(/`/g, '``')}\``;
}

function qualifiedQuoted(d: SetupDialect, name: string): string {
  return name.split('.').map(quoter(d)).join('.');
}

/** The change table: seq, table_name, key columns, op, changed_at (+ txid xid8 on PostgreSQL, the watermark). */
export function changeTableDdl(d: SetupDialect, shape: ChangeTableShape): string[] {
  const q = quoter(d);
  const ct = qualifiedQuoted(d, shape.changeTable);
  if (d === 'postgresql') {
    const keys = shape.keyColumns.map((k) => `  ${q(k)} text NOT NULL,`).join('\n');
    const indexName = q(`${shape.changeTable.split('.').pop()}_txid_seq`);
    return [
      `CREATE TABLE ${ct} (
  seq bigserial PRIMARY KEY,
  table_name text NOT NULL,
${keys}
  op char(1) NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- the writing transaction: the connector reads only transactions committed before its snapshot
  txid xid8 NOT NULL DEFAULT pg_current_xact_id()
)`,
      `CREATE INDEX ${indexName} ON ${ct} (txid, seq)`,
      ...(shape.notify === false ? [] : changeTableNotifyDdl(shape.changeTable)),
    ];
  }
  if (d === 'sqlserver') {
    const keys = shape.keyColumns.map((k) => `  ${q(k)} nvarchar(255) NOT NULL,`).join('\n');
    return [
      `CREATE TABLE ${ct} (
  seq bigint IDENTITY(1,1) NOT NULL PRIMARY KEY,
  table_name nvarchar(256) NOT NULL,
${keys}
  op char(1) NOT NULL,
  changed_at datetime2(6) NOT NULL DEFAULT SYSUTCDATETIME(),
  -- the watermark: rows below MIN_ACTIVE_ROWVERSION() belong to finished transactions
  rv rowversion NOT NULL
)`,
      `CREATE INDEX ${q(`${shape.changeTable.split('.').pop()}_rv`)} ON ${ct} (rv)`,
    ];
  }
  const keys = shape.keyColumns.map((k) => `  ${q(k)} varchar(255) NOT NULL,`).join('\n');
  return [
    `CREATE TABLE ${ct} (
  seq bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  table_name varchar(128) NOT NULL,
${keys}
  op char(1) NOT NULL,
  changed_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB`,
  ];
}

export interface TriggerSpec extends ChangeTableShape {
  /** Qualified base table, e.g. `erp.shipment`. */
  table: string;
  /** Base-table key columns, in the order of `keyColumns`. */
  baseKeyColumns: readonly string[];
  /** The value written to table_name (default: the qualified base table name). */
  tableName?: string;
}

/** Row-level triggers writing one change row per insert / update / delete (in the writing transaction). */
export function changeTriggersDdl(d: SetupDialect, spec: TriggerSpec): string[] {
  const q = quoter(d);
  const ct = qualifiedQuoted(d, spec.changeTable);
  const base = qualifiedQuoted(d, spec.table);
  const tableName = (spec.tableName ?? spec.table).replace(/'/g, "''");
  const cols = ['table_name', ...spec.keyColumns, 'op'].map(q).join(', ');
  const bareName = spec.table.split('.').pop()!;
  if (d === 'postgresql') {
    const fn = qualifiedQuoted(
      d,
      `${spec.table.includes('.') ? spec.table.split('.')[0] + '.' : ''}${bareName}_erpstream_capture`,
    );
    const vals = (rec: string) => spec.baseKeyColumns.map((k) => `${rec}.${q(k)}::text`).join(', ');
    return [
      `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('OLD')}, 'D');
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND (${spec.baseKeyColumns.map((k) => `OLD.${q(k)} IS DISTINCT FROM NEW.${q(k)}`).join(' OR ')}) THEN
    -- a key update is a delete of the old key and an insert of the new one
    INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('OLD')}, 'D');
    INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('NEW')}, 'I');
    RETURN NEW;
  END IF;
  INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('NEW')}, left(TG_OP, 1));
  RETURN NEW;
END $$`,
      `CREATE TRIGGER ${q(`${bareName}_erpstream_capture`)} AFTER INSERT OR UPDATE OR DELETE ON ${base}
  FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
    ];
  }
  if (d === 'sqlserver') {
    const text = (alias: string) =>
      spec.baseKeyColumns.map((k) => `CONVERT(nvarchar(255), ${alias}.${q(k)})`).join(', ');
    const same = (a: string, b: string) => spec.baseKeyColumns.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
    return [
      `CREATE TRIGGER ${qualifiedQuoted(d, `${spec.table.includes('.') ? spec.table.split('.')[0] + '.' : ''}${bareName}_erpstream_capture`)}
ON ${base} AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  -- rows gone from a key (deletes, and the old key of a key update)
  INSERT INTO ${ct} (${cols})
    SELECT N'${tableName}', ${text('d')}, 'D' FROM deleted d WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE ${same('i', 'd')});
  INSERT INTO ${ct} (${cols})
    SELECT N'${tableName}', ${text('i')}, CASE WHEN EXISTS (SELECT 1 FROM deleted d WHERE ${same('d', 'i')}) THEN 'U' ELSE 'I' END
      FROM inserted i;
END`,
    ];
  }
  const vals = (rec: string) => spec.baseKeyColumns.map((k) => `${rec}.${q(k)}`).join(', ');
  const trig = (suffix: string) =>
    qualifiedQuoted(
      d,
      `${spec.table.includes('.') ? spec.table.split('.')[0] + '.' : ''}${bareName}_erpstream_${suffix}`,
    );
  return [
    `CREATE TRIGGER ${trig('ai')} AFTER INSERT ON ${base} FOR EACH ROW
  INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('NEW')}, 'I')`,
    `CREATE TRIGGER ${trig('au')} AFTER UPDATE ON ${base} FOR EACH ROW
BEGIN
  IF ${spec.baseKeyColumns.map((k) => `NOT (OLD.${q(k)} <=> NEW.${q(k)})`).join(' OR ')} THEN
    INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('OLD')}, 'D');
    INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('NEW')}, 'I');
  ELSE
    INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('NEW')}, 'U');
  END IF;
END`,
    `CREATE TRIGGER ${trig('ad')} AFTER DELETE ON ${base} FOR EACH ROW
  INSERT INTO ${ct} (${cols}) VALUES ('${tableName}', ${vals('OLD')}, 'D')`,
  ];
}

/**
 * An outbox table with Debezium's columns plus the ordering columns the connector reads by (seq, and the
 * writing transaction on PostgreSQL). Rows must stay until read; delete old ones by age, not in the same
 * transaction that inserts them (that pattern needs log-based capture).
 */
export function outboxTableDdl(d: SetupDialect, table: string, notify = true): string[] {
  const t = qualifiedQuoted(d, table);
  if (d === 'postgresql') {
    return [
      `CREATE TABLE ${t} (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255) NOT NULL,
  type varchar(255) NOT NULL,
  payload jsonb,
  seq bigserial NOT NULL,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id()
)`,
      `CREATE INDEX ${quoter(d)(`${table.split('.').pop()}_txid_seq`)} ON ${t} (txid, seq)`,
      ...(notify ? changeTableNotifyDdl(table) : []),
    ];
  }
  if (d === 'sqlserver') {
    return [
      `CREATE TABLE ${t} (
  id uniqueidentifier PRIMARY KEY,
  aggregatetype nvarchar(255) NOT NULL,
  aggregateid nvarchar(255) NOT NULL,
  type nvarchar(255) NOT NULL,
  payload nvarchar(max),
  seq bigint IDENTITY(1,1) NOT NULL UNIQUE,
  rv rowversion NOT NULL
)`,
    ];
  }
  return [
    `CREATE TABLE ${t} (
  id char(36) NOT NULL PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255) NOT NULL,
  type varchar(255) NOT NULL,
  payload json,
  seq bigint NOT NULL AUTO_INCREMENT UNIQUE
) ENGINE=InnoDB`,
  ];
}
