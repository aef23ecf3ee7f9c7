import mysql from 'mysql2/promise';
import pg from 'pg';
import type {
  Logger,
  OffsetStorageReader,
  SourceOffset,
  SourcePartition,
  SourceRecord,
  Struct,
} from '../../../../runtime/api/index.js';
import { ErpSourceConnector } from '../../../../connectors/erp-source/connector.js';
import { ErpSourceTask } from '../../../../connectors/erp-source/task.js';
import { type SetupDialect, changeTableDdl, changeTriggersDdl } from '../../../../connectors/erp-source/setup-sql.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

/**
 * Drives an ErpSourceTask the way the worker will until it lands: poll, then "commit after ack" — offsets are
 * stored only for records the test declares acknowledged — and restart from the stored offsets. Offsets go
 * through JSON, as they do in Kafka's offsets topic, so anything not JSON-safe fails here.
 */
export class MemoryOffsetStore implements OffsetStorageReader {
  private readonly stored = new Map<string, string>();

  async offset(partition: SourcePartition): Promise<SourceOffset | null> {
    const v = this.stored.get(JSON.stringify(partition));
    return v === undefined ? null : (JSON.parse(v) as SourceOffset);
  }

  async offsets(partitions: SourcePartition[]): Promise<Map<SourcePartition, SourceOffset | null>> {
    const out = new Map<SourcePartition, SourceOffset | null>();
    for (const p of partitions) out.set(p, await this.offset(p));
    return out;
  }

  /** Commit after ack: the last offset per partition among the acknowledged records, in order. */
  commit(records: readonly SourceRecord[]): void {
    for (const r of records) this.stored.set(JSON.stringify(r.sourcePartition), JSON.stringify(r.sourceOffset));
  }

  size(): number {
    return this.stored.size;
  }
}

export interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

/**
 * An ErpSourceConnector started as a worker would, counting its task reconfiguration requests (catalog polling):
 * `reconfigured()` waits for the next one; the caller then restarts its tasks with `taskConfigs()`.
 */
export async function startWatchedConnector(
  props: Record<string, string>,
): Promise<{ connector: ErpSourceConnector; reconfigured(timeoutMs?: number): Promise<number> }> {
  const connector = new ErpSourceConnector();
  let requests = 0;
  connector.initialize({
    requestTaskReconfiguration: () => void requests++,
    raiseError: () => {},
    logger: captureLogger([]),
  });
  await connector.start(props);
  let seen = 0;
  return {
    connector,
    async reconfigured(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests === seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      seen = requests;
      return requests;
    },
  };
}

export function captureLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, ...(fields ? { fields } : {}) });
    };
  const logger: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

export class TaskHarness {
  readonly logs: LogLine[] = [];
  readonly progress: Array<Record<string, unknown>> = [];
  task: ErpSourceTask | null = null;

  /** `store`: another harness's offsets, to start a new task where a dropped ("killed") one left them. */
  constructor(
    public props: Record<string, string>,
    readonly store = new MemoryOffsetStore(),
  ) {}

  async start(): Promise<void> {
    const task = new ErpSourceTask();
    task.initialize({
      taskId: 0,
      connectorName: 'erp-it',
      offsetStorageReader: this.store,
      logger: captureLogger(this.logs),
      status: { progress: (info) => this.progress.push(info) },
    });
    await task.start(this.props);
    this.task = task;
  }

  async poll(): Promise<SourceRecord[]> {
    return (await this.task!.poll()) ?? [];
  }

  /** What the worker does after Kafka acknowledged records: store their offsets, then call the task's commit(). */
  async ack(records: readonly SourceRecord[]): Promise<void> {
    this.store.commit(records);
    await this.task!.commit?.();
  }

  /** Polls, acknowledging (committing) everything, until `done` holds for all records seen so far. */
  async pollUntil(done: (all: SourceRecord[]) => boolean, timeoutMs = 20_000, ack = true): Promise<SourceRecord[]> {
    const all: SourceRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!done(all)) {
      if (Date.now() > deadline) {
        throw new Error(`pollUntil timed out after ${timeoutMs} ms with ${all.length} records: ${summary(all)}`);
      }
      const batch = await this.poll();
      if (ack) await this.ack(batch);
      all.push(...batch);
    }
    return all;
  }

  /** Polls (acknowledging) for `ms` and returns what came. */
  async pollFor(ms: number): Promise<SourceRecord[]> {
    const all: SourceRecord[] = [];
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const batch = await this.poll();
      await this.ack(batch);
      all.push(...batch);
    }
    return all;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}

/** The change events (not tombstones, not heartbeats) of one table. */
export function events(records: readonly SourceRecord[], table?: string): SourceRecord[] {
  return records.filter(
    (r) => r.value !== null && (table === undefined || r.topic.endsWith(`.${table}`)) && !r.topic.startsWith('__'),
  );
}

export function envelope(r: SourceRecord): { op: string; after: Struct | null; before: Struct | null; source: Struct } {
  const v = r.value as Struct;
  return {
    op: v.get('op') as string,
    after: v.get('after') as Struct | null,
    before: v.get('before') as Struct | null,
    source: v.get('source') as Struct,
  };
}

export function header(r: SourceRecord, key: string): unknown {
  return r.headers.find((h) => h.key === key)?.value;
}

export function keyOf(r: SourceRecord, field = 'id'): unknown {
  return (r.key as Struct).get(field);
}

function summary(records: readonly SourceRecord[]): string {
  return records
    .slice(0, 20)
    .map(
      (r) => `${r.topic}:${r.value === null ? 'tombstone' : envelope(r).op}:${String(header(r, 'erpstream.version'))}`,
    )
    .join(', ');
}

/**
 * A database under test: one fresh schema (PostgreSQL) or database (MariaDB) per test file, with the change
 * table; dropped at the end.
 */
export interface DbFixture {
  readonly dialect: SetupDialect;
  /** The schema / database holding the test tables. */
  readonly schema: string;
  /** connection.url for the connector. */
  readonly url: string;
  /** A fresh session (for holding transactions open). */
  session(): Promise<DbSession>;
  exec(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Creates a base table with capture triggers into the fixture's change table. */
  createCaptured(table: string, columnsDdl: string, keyColumns?: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface DbSession {
  exec(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export const CHANGE_TABLE = 'change_log';

export async function pgFixture(keyColumns: string[] = ['record_id']): Promise<DbFixture> {
  const url = requireEnv('PG_URL');
  const schema = `erps_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  for (const ddl of changeTableDdl('postgresql', { changeTable: `${schema}.${CHANGE_TABLE}`, keyColumns }))
    await admin.query(ddl);
  const session = async (): Promise<DbSession> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return {
      exec: async (sql, params) => (await c.query(sql, params as unknown[])).rows,
      close: () => c.end(),
    };
  };
  return {
    dialect: 'postgresql',
    schema,
    url,
    session,
    exec: async (sql, params) => (await admin.query(sql, params as unknown[])).rows,
    createCaptured: async (table, columnsDdl, baseKeys = ['id']) => {
      await admin.query(`CREATE TABLE "${schema}"."${table}" (${columnsDdl})`);
      for (const ddl of changeTriggersDdl('postgresql', {
        changeTable: `${schema}.${CHANGE_TABLE}`,
        keyColumns,
        table: `${schema}.${table}`,
        baseKeyColumns: baseKeys,
      })) {
        await admin.query(ddl);
      }
    },
    close: async () => {
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

export async function mysqlFixture(keyColumns: string[] = ['record_id']): Promise<DbFixture> {
  const base = requireEnv('MYSQL_URL');
  const schema = `erps_${uniqueSuffix()}`;
  const admin = await mysql.createConnection({ uri: base, multipleStatements: false });
  await admin.query(`CREATE DATABASE \`${schema}\``);
  await admin.query(`USE \`${schema}\``);
  const u = new URL(base);
  u.pathname = `/${schema}`;
  const url = u.toString();
  for (const ddl of changeTableDdl('mysql', { changeTable: `${schema}.${CHANGE_TABLE}`, keyColumns }))
    await admin.query(ddl);
  const session = async (): Promise<DbSession> => {
    const c = await mysql.createConnection({ uri: url });
    return {
      exec: async (sql, params) => {
        const [rows] = await c.query(sql, params);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      },
      close: () => c.end(),
    };
  };
  return {
    dialect: 'mysql',
    schema,
    url,
    session,
    exec: async (sql, params) => {
      const [rows] = await admin.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
    createCaptured: async (table, columnsDdl, baseKeys = ['id']) => {
      await admin.query(`CREATE TABLE \`${schema}\`.\`${table}\` (${columnsDdl}) ENGINE=InnoDB`);
      for (const ddl of changeTriggersDdl('mysql', {
        changeTable: `${schema}.${CHANGE_TABLE}`,
        keyColumns,
        table: `${schema}.${table}`,
        baseKeyColumns: baseKeys,
      })) {
        await admin.query(ddl);
      }
    },
    close: async () => {
      await admin.query(`DROP DATABASE \`${schema}\``);
      await admin.end();
    },
  };
}

/** Connector props for a fixture; tests override what they exercise. */
export function sourceProps(db: DbFixture, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'connector.class': 'ErpSource',
    'connection.url': db.url,
    'change.table': `${db.schema}.${CHANGE_TABLE}`,
    'topic.prefix': 'erp',
    'table.include.list': `${db.schema.replace(/[.]/g, '\\.')}\\..*`,
    'poll.interval.ms': '50',
    ...extra,
  };
}
