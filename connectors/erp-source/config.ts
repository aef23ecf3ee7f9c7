import { ConfigDef, ConfigError, type ParsedConfig, type RawConfig, Validators } from '../../runtime/api/index.js';
import { MAX_CHANNEL_BYTES } from './setup-sql.js';

/**
 * The ErpSourceConnector's configuration, declared once. Debezium's names where an equivalent exists
 * (topic.prefix, table.include.list, snapshot.mode, poll.interval.ms, ...), erpstream names otherwise.
 */

export const CONNECTOR_CLASS = 'erpstream.ErpSourceConnector';
export const CONNECTOR_ALIASES = ['ErpSource', 'ErpSourceConnector'] as const;

/** Set by the connector in each task's config: the tables that task captures, as `schema.table`. */
export const TASK_TABLES_KEY = 'task.tables';
/**
 * Set by the connector for tables it found while running under snapshot.mode=never: JSON `{table: position}`, a
 * stream position taken before the last catalog listing that did not show the table yet. Such a table starts
 * there instead of at "now", so the changes made between its creation and its discovery are not lost.
 */
export const TASK_TABLE_STARTS_KEY = 'task.tables.start';

export const CAPTURE_MODES = ['change_table', 'change_tracking', 'outbox', 'timestamp_incrementing'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];
export const SNAPSHOT_MODES = ['initial', 'never', 'initial_only', 'when_needed'] as const;
export type SnapshotMode = (typeof SNAPSHOT_MODES)[number];

const G_CONN = 'Connection';
const G_CAPTURE = 'Capture';
const G_TABLES = 'Tables and topics';
const G_STREAM = 'Streaming';
const G_SNAPSHOT = 'Snapshot';
const G_OUTBOX = 'Outbox mode';
const G_TSINC = 'Timestamp+incrementing mode';

/** Kafka topic names: legal characters only (the prefix is the first part of every topic). */
const topicPrefixValidator = Validators.custom('letters, digits, ".", "_", "-"', (name, value) => {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]+$/.test(value)) {
    throw ConfigError.invalid(name, value, 'A topic prefix may contain only letters, digits, ".", "_" and "-"');
  }
});

const regexListValidator = Validators.custom('comma-separated regular expressions', (name, value) => {
  for (const item of (value as string[] | null) ?? []) {
    try {
      new RegExp(item);
    } catch (e) {
      throw ConfigError.invalid(name, item, `Invalid regex: ${(e as Error).message}`);
    }
  }
});

const operationValuesValidator = Validators.custom('three values: insert,update,delete', (name, value) => {
  const list = (value as string[] | null) ?? [];
  if (list.length !== 3 || new Set(list).size !== 3 || list.some((v) => v === '')) {
    throw ConfigError.invalid(name, list.join(','), 'Expected three distinct values: insert,update,delete');
  }
});

const urlValidator = Validators.custom('postgresql://, mysql://, mariadb:// or sqlserver:// URL', (name, value) => {
  if (typeof value !== 'string' || !/^(postgres|postgresql|mysql|mariadb|sqlserver|mssql):\/\//i.test(value)) {
    // Never echo a URL that may carry a password: show only its scheme.
    const scheme = typeof value === 'string' ? (value.split('://')[0] ?? '') : '';
    throw ConfigError.invalid(
      name,
      `${scheme}://…`,
      'Expected a postgresql://, mysql://, mariadb:// or sqlserver:// URL',
    );
  }
});

export const erpSourceConfigDef = new ConfigDef()
  .define({
    name: 'connection.url',
    type: 'STRING',
    importance: 'HIGH',
    group: G_CONN,
    validator: urlValidator,
    documentation:
      'Database URL: postgresql://host:5432/db, mysql://host:3306/db (or mariadb://), sqlserver://host:1433/db. ' +
      'Credentials may be given here or in connection.user / connection.password (which win).',
    example: 'postgresql://127.0.0.1:5432/erp',
  })
  .define({
    name: 'connection.user',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_CONN,
    documentation: 'Database user (overrides a user in connection.url).',
  })
  .define({
    name: 'connection.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'HIGH',
    group: G_CONN,
    documentation: 'Database password; use ${env:VAR} or ${file:path:key} rather than a literal.',
  })
  .define({
    name: 'capture.mode',
    type: 'STRING',
    defaultValue: 'change_table',
    importance: 'HIGH',
    group: G_CAPTURE,
    validator: Validators.in(...CAPTURE_MODES),
    documentation:
      'change_table: tail an ERP change table and emit full rows. change_tracking: SQL Server Change Tracking ' +
      '(CHANGETABLE). outbox: a transactional outbox table. timestamp_incrementing: plain tables by updated-at + id.',
  })
  .define({
    name: 'change.table',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    group: G_CAPTURE,
    documentation:
      'The change table, qualified (`schema.table`; for MySQL `database.table`). Required for change_table.',
    example: 'erp.change_log',
  })
  .define({
    name: 'change.table.sequence.column',
    type: 'STRING',
    defaultValue: 'seq',
    importance: 'MEDIUM',
    group: G_CAPTURE,
    validator: Validators.nonEmptyString(),
    documentation: 'The change table column holding the change sequence (an increasing integer); the event version.',
  })
  .define({
    name: 'change.table.table.column',
    type: 'STRING',
    defaultValue: 'table_name',
    importance: 'MEDIUM',
    group: G_CAPTURE,
    validator: Validators.nonEmptyString(),
    documentation:
      'The change table column naming the changed table, as `table` (schema of the change table assumed) or `schema.table`.',
  })
  .define({
    name: 'change.table.key.columns',
    type: 'LIST',
    defaultValue: 'record_id',
    importance: 'MEDIUM',
    group: G_CAPTURE,
    validator: Validators.nonEmptyList(),
    documentation:
      "The change table columns holding the changed row's primary key, in the order of the base table's key columns " +
      '(several for composite keys).',
  })
  .define({
    name: 'change.table.operation.column',
    type: 'STRING',
    defaultValue: 'op',
    importance: 'MEDIUM',
    group: G_CAPTURE,
    validator: Validators.nonEmptyString(),
    documentation: 'The change table column holding the operation code.',
  })
  .define({
    name: 'change.table.operation.values',
    type: 'LIST',
    defaultValue: 'I,U,D',
    importance: 'LOW',
    group: G_CAPTURE,
    validator: operationValuesValidator,
    documentation: 'The operation codes for insert, update and delete, in that order.',
  })
  .define({
    name: 'change.table.timestamp.column',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_CAPTURE,
    documentation: 'Optional change table column with the change time; becomes source.ts_ms.',
  })
  .define({
    name: 'change.table.txid.column',
    type: 'STRING',
    defaultValue: 'txid',
    importance: 'MEDIUM',
    group: G_CAPTURE,
    documentation:
      'PostgreSQL: the change table column holding the writing transaction id (xid8, DEFAULT pg_current_xact_id()). ' +
      'When present, capture uses the transaction watermark; when the column does not exist, gap tracking.',
  })
  .define({
    name: 'change.table.rowversion.column',
    type: 'STRING',
    defaultValue: 'rv',
    importance: 'MEDIUM',
    group: G_CAPTURE,
    documentation:
      'SQL Server: the change table rowversion column. When present, capture uses MIN_ACTIVE_ROWVERSION() as ' +
      'watermark; when the column does not exist, gap tracking.',
  })
  .define({
    name: 'gap.timeout.ms',
    type: 'LONG',
    defaultValue: 600_000,
    importance: 'MEDIUM',
    group: G_CAPTURE,
    validator: Validators.atLeast(0),
    documentation:
      'Gap tracking (databases without a transaction watermark): how long a missing sequence number is re-read ' +
      'before it is taken as a rolled-back transaction. A change committing later than this is lost, so keep it ' +
      'above your longest transaction. Gaps never hold back later changes.',
  })
  .define({
    name: 'coalesce.changes',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    group: G_CAPTURE,
    documentation:
      'Emit one event per key per batch, carrying the latest row and the latest change sequence. Off: one event ' +
      'per change (each still carries the row as read, i.e. the current row).',
  })
  .define({
    name: 'topic.prefix',
    type: 'STRING',
    importance: 'HIGH',
    group: G_TABLES,
    validator: topicPrefixValidator,
    documentation: 'Logical server name; topics are `<topic.prefix>.<schema>.<table>`; also source.name.',
    example: 'erp',
  })
  .define({
    name: 'table.include.list',
    type: 'LIST',
    defaultValue: '',
    importance: 'HIGH',
    group: G_TABLES,
    validator: regexListValidator,
    documentation:
      'Regular expressions matched against the whole `schema.table` name (as Debezium); only matching tables are ' +
      'captured. Empty: every table except the change, signal and outbox tables.',
  })
  .define({
    name: 'table.exclude.list',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    group: G_TABLES,
    validator: regexListValidator,
    documentation: 'Regular expressions (full match on `schema.table`) of tables not to capture.',
  })
  .define({
    name: 'poll.interval.ms',
    type: 'LONG',
    defaultValue: 500,
    importance: 'MEDIUM',
    group: G_STREAM,
    validator: Validators.atLeast(1),
    documentation:
      'The longest wait before polling again when the last poll found less than a full batch: the wait of an idle ' +
      'stream. After a poll that found changes the next one follows after poll.interval.min.ms, and each empty poll ' +
      'doubles the wait up to this. A PostgreSQL commit notification (notify.enabled) ends the wait early.',
  })
  .define({
    name: 'poll.interval.min.ms',
    type: 'LONG',
    defaultValue: 50,
    importance: 'LOW',
    group: G_STREAM,
    validator: Validators.atLeast(1),
    documentation:
      'Adaptive polling: the wait after a poll that found changes (capped at poll.interval.ms), so a busy stream is ' +
      'read every few tens of milliseconds while an idle one backs off to poll.interval.ms. Set it to ' +
      'poll.interval.ms for a fixed interval. Not used in timestamp_incrementing mode.',
  })
  .define({
    name: 'notify.enabled',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    group: G_STREAM,
    documentation:
      'PostgreSQL: commit wake-up. When a trigger on the change (or outbox) table sends NOTIFY on notify.channel ' +
      '(erpstream erp init and setup-sql.ts create it), each task LISTENs on its own connection and polls as soon as ' +
      'a writing transaction commits; adaptive polling stays as the safety net. Without the trigger ' +
      'the task logs how to add it and polls. Ignored on MySQL/MariaDB and SQL Server.',
  })
  .define({
    name: 'notify.channel',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_STREAM,
    validator: Validators.custom(`at most ${MAX_CHANNEL_BYTES} bytes`, (name, value) => {
      if (typeof value === 'string' && Buffer.byteLength(value) > MAX_CHANNEL_BYTES) {
        throw ConfigError.invalid(name, value, `A PostgreSQL NOTIFY channel has at most ${MAX_CHANNEL_BYTES} bytes`);
      }
    }),
    documentation:
      'PostgreSQL: the NOTIFY channel to LISTEN on. Empty: `erpstream.<schema>.<table>` of the change (or outbox) ' +
      'table, the channel the generated trigger uses.',
  })
  .define({
    name: 'notify.min.interval.ms',
    type: 'LONG',
    // A poll costs about 1 ms of worker CPU besides its rows (measured at 1,000 changes/s): 50 polls/s at most.
    defaultValue: 20,
    importance: 'LOW',
    group: G_STREAM,
    validator: Validators.atLeast(0),
    documentation:
      'PostgreSQL commit wake-up: the shortest time between the starts of two polls woken by notifications. ' +
      'Notifications arriving meanwhile are folded into one poll, so 1,000 commits/s cost at most 1000/this polls/s.',
  })
  .define({
    name: 'notify.idle.interval.ms',
    type: 'LONG',
    defaultValue: 5000,
    importance: 'LOW',
    group: G_STREAM,
    validator: Validators.atLeast(1),
    documentation:
      'PostgreSQL commit wake-up: while the LISTEN connection is up and has delivered a notification, an idle ' +
      'stream backs off to this instead of ' +
      'poll.interval.ms (a commit wakes the task at once; this poll is the safety net, for instance for a connection ' +
      'dropped silently). It applies only while nothing waits on time: with gaps held or given-up numbers watched, ' +
      'and while the listener is down, the wait stays at poll.interval.ms. Never below poll.interval.ms, never above ' +
      'heartbeat.interval.ms when heartbeats are on. A signal (signal.data.collection) is read at the next poll, so ' +
      'within this time. Set it to poll.interval.ms for the polling of earlier versions.',
  })
  .define({
    name: 'max.batch.size',
    type: 'INT',
    // Not Debezium's 2048: a poll's rows, the next batch read ahead and the change rows after it are alive together,
    // and at 2048 they outgrow the worker's young generation, so every batch was promoted and collected again. Drains
    // of 1,000,000 changes (docs/benchmarks.md, 2026-12-07): 512 took 18% less CPU per event, ran 12% faster and
    // peaked ~60 MB lower than 2048; 256 lost to the per-poll round trips, 1024 was in between.
    defaultValue: 512,
    importance: 'MEDIUM',
    group: G_STREAM,
    validator: Validators.atLeast(1),
    documentation:
      'Maximum number of change rows read per poll. The next batch is read while the worker sends the current one, ' +
      'so larger batches only pay when a round trip to the database costs more than converting and sending a batch ' +
      '(a database far away); they cost memory and CPU (garbage collection).',
  })
  .define({
    name: 'schema.refresh.interval.ms',
    type: 'LONG',
    defaultValue: 10000,
    importance: 'LOW',
    group: G_STREAM,
    validator: Validators.atLeast(0),
    documentation:
      'How often a streaming task compares a catalog fingerprint of its tables (one information_schema query) ' +
      'and re-reads the tables whose columns changed: widened types are picked up without a restart, an ' +
      'incompatible change stops the task with a SchemaError. The check is made when a poll brings changes, ' +
      'before they are emitted, so an idle task reads no catalog. 0: only on a column added or dropped, or a ' +
      'restart.',
  })
  .define({
    name: 'table.poll.interval.ms',
    type: 'LONG',
    defaultValue: 60000,
    importance: 'LOW',
    group: G_TABLES,
    validator: Validators.atLeast(0),
    documentation:
      'How often the connector lists the catalog for tables matching table.include.list / table.exclude.list; ' +
      'when the set changed (a table created or dropped), the tasks are reconfigured and a new table is ' +
      'snapshotted per snapshot.mode. 0 disables (new tables are captured after a restart).',
  })
  .define({
    name: 'heartbeat.interval.ms',
    type: 'LONG',
    defaultValue: 0,
    importance: 'MEDIUM',
    group: G_STREAM,
    validator: Validators.atLeast(0),
    documentation:
      'Emit a heartbeat record (topic `<heartbeat.topics.prefix>.<topic.prefix>`) this often so quiet tables ' +
      'still commit their offsets. 0 disables.',
  })
  .define({
    name: 'heartbeat.topics.prefix',
    type: 'STRING',
    defaultValue: '__debezium-heartbeat',
    importance: 'LOW',
    group: G_STREAM,
    documentation: 'Prefix of the heartbeat topic (Debezium name).',
  })
  .define({
    name: 'tombstones.on.delete',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    group: G_STREAM,
    documentation: 'Follow each delete event with a tombstone (null value) so log compaction can drop the key.',
  })
  .define({
    name: 'snapshot.mode',
    type: 'STRING',
    defaultValue: 'initial',
    importance: 'HIGH',
    group: G_SNAPSHOT,
    validator: Validators.in(...SNAPSHOT_MODES),
    documentation:
      'initial: snapshot tables without offsets, then stream. never: stream from now on. initial_only: snapshot, ' +
      'then stop. when_needed: as initial, and also re-snapshot when the stored position is no longer valid.',
  })
  .define({
    name: 'snapshot.fetch.size',
    type: 'INT',
    // 1000 rather than more: at 45k rows/s, 2000-row chunks outlive V8's young generation in the pipeline (one
    // chunk read, one converted, one in flight) and push the heap of a 1M-row snapshot past 300 MB, for no speed.
    defaultValue: 1000,
    importance: 'MEDIUM',
    group: G_SNAPSHOT,
    validator: Validators.atLeast(1),
    documentation: 'Rows per snapshot chunk (keyset pagination on the primary key); one chunk per poll.',
  })
  .define({
    name: 'signal.data.collection',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: G_SNAPSHOT,
    documentation:
      "Signal table (`schema.table`, Debezium's shape: id, type, data) for ad-hoc `execute-snapshot` signals.",
  })
  .define({
    name: 'incremental.snapshot.chunk.size',
    type: 'INT',
    defaultValue: 1024,
    importance: 'LOW',
    group: G_SNAPSHOT,
    validator: Validators.atLeast(1),
    documentation: 'Rows per chunk of an incremental (signal-driven) snapshot.',
  })
  .define({
    name: 'outbox.table',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_OUTBOX,
    documentation:
      "The outbox table (`schema.table`) for capture.mode=outbox: Debezium's columns (id, aggregatetype, " +
      'aggregateid, type, payload) plus the ordering columns of a change table (change.table.sequence.column, and ' +
      'on PostgreSQL change.table.txid.column). Each row is one event, keyed by aggregateid.',
  })
  .define({
    name: 'outbox.field.event.id',
    type: 'STRING',
    defaultValue: 'id',
    importance: 'LOW',
    group: G_OUTBOX,
    documentation: 'Outbox column with the event id (becomes the `id` header).',
  })
  .define({
    name: 'outbox.field.event.key',
    type: 'STRING',
    defaultValue: 'aggregateid',
    importance: 'LOW',
    group: G_OUTBOX,
    documentation: 'Outbox column with the record key.',
  })
  .define({
    name: 'outbox.field.event.type',
    type: 'STRING',
    defaultValue: 'type',
    importance: 'LOW',
    group: G_OUTBOX,
    documentation: 'Outbox column with the event type.',
  })
  .define({
    name: 'outbox.field.event.payload',
    type: 'STRING',
    defaultValue: 'payload',
    importance: 'LOW',
    group: G_OUTBOX,
    documentation: 'Outbox column with the payload.',
  })
  .define({
    name: 'outbox.route.by.field',
    type: 'STRING',
    defaultValue: 'aggregatetype',
    importance: 'LOW',
    group: G_OUTBOX,
    documentation: 'Outbox column whose value names the topic.',
  })
  .define({
    name: 'outbox.route.topic.replacement',
    type: 'STRING',
    defaultValue: 'outbox.event.${routedByValue}',
    importance: 'LOW',
    group: G_OUTBOX,
    documentation: 'Topic template; `${routedByValue}` is replaced by the routing column value.',
  })
  .define({
    name: 'outbox.delete.processed',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    group: G_OUTBOX,
    documentation:
      'Delete outbox rows (by primary key, in batches) once Kafka acknowledged their events and the offset ' +
      'covering them is committed; never before. A crash in between leaves rows that the next start deletes.',
  })
  .define({
    name: 'timestamp.column.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_TSINC,
    documentation: 'timestamp_incrementing: the updated-at column of the captured tables.',
  })
  .define({
    name: 'incrementing.column.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: G_TSINC,
    documentation: 'timestamp_incrementing: the unique increasing id column of the captured tables.',
  })
  .define({
    name: 'timestamp.delay.interval.ms',
    type: 'LONG',
    defaultValue: 5000,
    importance: 'MEDIUM',
    group: G_TSINC,
    validator: Validators.atLeast(0),
    documentation:
      'timestamp_incrementing: safety lag; rows newer than the database clock minus this wait for a later poll, ' +
      'so a transaction committing within the lag of its timestamp is read in order.',
  })
  .define({
    name: 'timestamp.overlap.window.ms',
    type: 'LONG',
    defaultValue: 60000,
    importance: 'MEDIUM',
    group: G_TSINC,
    validator: Validators.atLeast(0),
    documentation:
      'timestamp_incrementing: each poll re-reads the rows this far below the position and emits those not ' +
      'emitted yet (deduplicated by timestamp and id): a row committed up to delay + window after its timestamp ' +
      'is still emitted. Later than that, or a delete, cannot be seen by a table read.',
  });

/** The timestamp+incrementing capture mode's settings (timestamp-incrementing.ts). */
export interface TsIncSettings {
  timestampColumn: string;
  incrementingColumn: string;
  delayMs: number;
  windowMs: number;
}

export interface ChangeTableSettings {
  table: string;
  sequenceColumn: string;
  tableColumn: string;
  keyColumns: string[];
  operationColumn: string;
  insertValue: string;
  updateValue: string;
  deleteValue: string;
  timestampColumn: string | null;
  txidColumn: string | null;
  rowversionColumn: string | null;
  /** Set in capture.mode=outbox: the table read is an outbox whose rows are the events themselves. */
  outbox: OutboxSettings | null;
  /** capture.mode=change_tracking (SQL Server): CHANGETABLE(CHANGES …) replaces the change table. */
  changeTracking: boolean;
}

export interface OutboxSettings {
  idColumn: string;
  keyColumn: string;
  typeColumn: string;
  payloadColumn: string;
  routeColumn: string;
  topicReplacement: string;
  /** outbox.delete.processed */
  deleteProcessed: boolean;
  /** Primary-key columns the reader selects too (filled from the catalog when rows are deleted by key). */
  extraColumns: string[];
}

export interface NotifySettings {
  /** notify.channel; null: derived from the change table (setup-sql.ts notifyChannel). */
  channel: string | null;
  minIntervalMs: number;
  /** notify.idle.interval.ms, at least poll.interval.ms. */
  idleIntervalMs: number;
}

/** The parsed settings the connector and its tasks use, with cross-key checks applied. */
export interface ErpSourceSettings {
  url: string;
  user: string | null;
  password: string | null;
  captureMode: CaptureMode;
  changeTable: ChangeTableSettings;
  gapTimeoutMs: number;
  coalesce: boolean;
  topicPrefix: string;
  include: RegExp[];
  exclude: RegExp[];
  pollIntervalMs: number;
  /** poll.interval.min.ms, capped at pollIntervalMs. */
  pollIntervalMinMs: number;
  /** PostgreSQL commit wake-up (notify.*); null when notify.enabled=false. */
  notify: NotifySettings | null;
  maxBatchSize: number;
  heartbeatIntervalMs: number;
  schemaRefreshIntervalMs: number;
  tablePollIntervalMs: number;
  heartbeatTopic: string;
  tombstonesOnDelete: boolean;
  snapshotMode: SnapshotMode;
  snapshotFetchSize: number;
  signalTable: string | null;
  incrementalChunkSize: number;
  /** capture.mode=timestamp_incrementing only. */
  tsinc: TsIncSettings | null;
}

export function parseSettings(props: RawConfig): ErpSourceSettings {
  const c: ParsedConfig = erpSourceConfigDef.parse(props);
  const mode = c.string('capture.mode') as CaptureMode;
  const outboxTable = c.stringOrNull('outbox.table');
  const changeTable = mode === 'outbox' ? outboxTable : c.stringOrNull('change.table');
  if (mode === 'change_table' && !changeTable) {
    throw new ConfigError(
      'Missing configuration "change.table", required when capture.mode=change_table',
      'change.table',
    );
  }
  if (mode === 'outbox' && !outboxTable) {
    throw new ConfigError('Missing configuration "outbox.table", required when capture.mode=outbox', 'outbox.table');
  }
  let tsinc: TsIncSettings | null = null;
  if (mode === 'timestamp_incrementing') {
    const required = (key: string): string => {
      const v = c.stringOrNull(key)?.trim();
      if (!v) throw new ConfigError(`Missing configuration "${key}", required when capture.mode=${mode}`, key);
      return v;
    };
    tsinc = {
      timestampColumn: required('timestamp.column.name'),
      incrementingColumn: required('incrementing.column.name'),
      delayMs: c.int('timestamp.delay.interval.ms'),
      windowMs: c.int('timestamp.overlap.window.ms'),
    };
  }
  if (mode === 'change_tracking' && !/^(sqlserver|mssql):\/\//i.test(c.string('connection.url'))) {
    throw ConfigError.invalid(
      'capture.mode',
      mode,
      'Change Tracking is a SQL Server feature: connection.url must be a sqlserver:// URL',
    );
  }
  const [insertValue, updateValue, deleteValue] = c.list('change.table.operation.values') as [string, string, string];
  const emptyToNull = (v: string | null): string | null => (v === null || v.trim() === '' ? null : v);
  return {
    url: c.string('connection.url'),
    user: c.stringOrNull('connection.user'),
    password: c.password('connection.password')?.value() ?? null,
    captureMode: mode,
    changeTable: {
      table: changeTable ?? '',
      sequenceColumn: c.string('change.table.sequence.column'),
      tableColumn: c.string('change.table.table.column'),
      keyColumns: c.list('change.table.key.columns'),
      operationColumn: c.string('change.table.operation.column'),
      insertValue,
      updateValue,
      deleteValue,
      timestampColumn: emptyToNull(c.stringOrNull('change.table.timestamp.column')),
      txidColumn: emptyToNull(c.stringOrNull('change.table.txid.column')),
      rowversionColumn: emptyToNull(c.stringOrNull('change.table.rowversion.column')),
      outbox:
        mode === 'outbox'
          ? {
              idColumn: c.string('outbox.field.event.id'),
              keyColumn: c.string('outbox.field.event.key'),
              typeColumn: c.string('outbox.field.event.type'),
              payloadColumn: c.string('outbox.field.event.payload'),
              routeColumn: c.string('outbox.route.by.field'),
              topicReplacement: c.string('outbox.route.topic.replacement'),
              deleteProcessed: c.bool('outbox.delete.processed'),
              extraColumns: [],
            }
          : null,
      changeTracking: mode === 'change_tracking',
    },
    gapTimeoutMs: c.int('gap.timeout.ms'),
    coalesce: c.bool('coalesce.changes'),
    topicPrefix: c.string('topic.prefix'),
    include: c.list('table.include.list').map((r) => new RegExp(`^(?:${r})$`)),
    exclude: c.list('table.exclude.list').map((r) => new RegExp(`^(?:${r})$`)),
    pollIntervalMs: c.int('poll.interval.ms'),
    pollIntervalMinMs: Math.min(c.int('poll.interval.min.ms'), c.int('poll.interval.ms')),
    notify: c.bool('notify.enabled')
      ? {
          channel: emptyToNull(c.stringOrNull('notify.channel')),
          minIntervalMs: c.int('notify.min.interval.ms'),
          idleIntervalMs: Math.max(c.int('notify.idle.interval.ms'), c.int('poll.interval.ms')),
        }
      : null,
    maxBatchSize: c.int('max.batch.size'),
    heartbeatIntervalMs: c.int('heartbeat.interval.ms'),
    schemaRefreshIntervalMs: c.int('schema.refresh.interval.ms'),
    tablePollIntervalMs: c.int('table.poll.interval.ms'),
    heartbeatTopic: `${c.string('heartbeat.topics.prefix')}.${c.string('topic.prefix')}`,
    tombstonesOnDelete: c.bool('tombstones.on.delete'),
    snapshotMode: c.string('snapshot.mode') as SnapshotMode,
    snapshotFetchSize: c.int('snapshot.fetch.size'),
    signalTable: c.stringOrNull('signal.data.collection'),
    incrementalChunkSize: c.int('incremental.snapshot.chunk.size'),
    tsinc,
  };
}

/** Debezium semantics: include list (full match) first, then exclude list; the connector's own tables never. */
export function tableSelected(settings: ErpSourceSettings, qualifiedName: string): boolean {
  const own = [settings.changeTable.table, settings.signalTable].filter((t): t is string => !!t);
  if (own.includes(qualifiedName)) return false;
  if (settings.include.length > 0 && !settings.include.some((r) => r.test(qualifiedName))) return false;
  return !settings.exclude.some((r) => r.test(qualifiedName));
}
