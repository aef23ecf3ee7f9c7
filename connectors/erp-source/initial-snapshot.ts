import type { Logger, SourcePartition, SourceRecord } from '../../runtime/api/index.js';
import type { ErpSourceSettings } from './config.js';
import { type Cursor, isDone } from './cursor.js';
import type { Dialect, SnapshotSession } from './dialects/dialect.js';
import { parseTableName } from './dialects/common.js';
import {
  type TableSchemas,
  canonicalKey,
  changeEvent,
  changeEventValues,
  keyOnlyRow,
  keyStruct,
  rowValues,
  tombstoneFor,
} from './envelope.js';
import { type ChangeRow, type TableId, keyString, qualified, textOf } from './model.js';
import { type SnapshotVersions, readSnapshotVersions } from './snapshot-versions.js';
import type { TableOffset } from './table-offset.js';

/** One table of the initial snapshot: where it is, and where streaming resumes for it. */
export interface SnapshotState {
  table: string;
  lastKey: string[] | null;
  rows: number;
  total: number | null;
  /** Where streaming resumes for this table; null until the snapshot transaction fixes it. */
  handoff: Cursor | null;
  /** The deletes of the change table above this sequence are checked before the rows; 'done' once they were. */
  deletesAfter: string;
}

/** What the snapshot reads with; it never calls back into the task. */
export interface SnapshotDeps {
  readonly dialect: Dialect;
  readonly settings: ErpSourceSettings;
  readonly schemas: ReadonlyMap<string, TableSchemas>;
  readonly partition: (table: string) => SourcePartition;
  readonly log: Logger;
  readonly progress: (info: Record<string, unknown>) => void;
}

/** What one poll of the snapshot produced. */
export interface SnapshotStep {
  records: SourceRecord[];
  /** Tables whose streaming hand-off the snapshot transaction just fixed (the task takes them as done). */
  handoffs: Array<[table: string, handoff: Cursor]>;
  /** Every table is read (the session is closed). */
  done: boolean;
  /**
   * Tables whose row versions this step computed (once per table and session), with their hand-off: the task keeps
   * what the stream must not go below (SnapshotCover).
   */
  versions: Array<[table: string, handoff: Cursor, versions: SnapshotVersions]>;
}

/**
 * The initial snapshot, table after table, in one consistent transaction (reopened after a failure or a restart,
 * keeping each table's hand-off): per table, first the deletes the change table shows whose rows are gone, then
 * the rows by primary key in chunks of snapshot.fetch.size, one step per poll. Rows carry versions ordered
 * against the streamed changes of their key (SnapshotVersions), computed as of the table's hand-off.
 */
export class InitialSnapshot {
  private session: SnapshotSession | null = null;
  private handoffs: Array<[string, Cursor]> = [];
  /** Versions of snapshot rows, per hand-off, for the session that runs. */
  private readonly versions = new Map<string, SnapshotVersions>();
  private computed: Array<[string, Cursor, SnapshotVersions]> = [];
  /** Tables whose versions were reported in this session. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly deps: SnapshotDeps,
    private readonly tables: SnapshotState[],
  ) {}

  get pending(): boolean {
    return this.tables.length > 0;
  }

  /** One step. A failed step closes the session: the next one opens a new transaction and resumes. */
  async poll(): Promise<SnapshotStep> {
    try {
      const records = await this.step();
      const { handoffs, computed } = this;
      this.handoffs = [];
      this.computed = [];
      return { records, handoffs, done: this.tables.length === 0, versions: computed };
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.close().catch(() => {});
  }

  private async step(): Promise<SourceRecord[]> {
    if (!this.session) {
      this.session = await this.deps.dialect.beginSnapshot();
      for (const s of this.tables) {
        if (!s.handoff) {
          s.handoff = this.session.handoff;
          this.handoffs.push([s.table, this.session.handoff]);
        }
      }
      this.versions.clear();
      this.reported.clear();
      this.deps.log.info('Snapshot started', { tables: this.tables.map((s) => s.table) });
    }
    const state = this.tables[0]!;
    if (state.deletesAfter !== 'done' && (!this.session.changesAbove || !this.session.rows))
      state.deletesAfter = 'done';
    if (state.deletesAfter !== 'done') {
      const deletes = await this.snapshotDeletes(this.session, state);
      // Nothing to delete (the usual case): the rows start in the same poll.
      if (deletes.length > 0 || state.deletesAfter !== 'done') return deletes;
    }
    const schemas = this.deps.schemas.get(state.table)!;
    if (state.total === null) state.total = await this.session.count(schemas.table);
    const versions = await this.versionsFor(this.session, state.handoff!, state.table);
    const limit = this.deps.settings.snapshotFetchSize;
    const rows = await this.session.chunk(schemas.table, state.lastKey, limit);
    const complete = rows.length < limit;
    const lastTable = this.tables.length === 1;
    const now = Date.now();
    const records: SourceRecord[] = [];
    const db = this.deps.dialect.database;
    rows.forEach((row, i) => {
      const keyValues = schemas.table.keyColumns.map((k) => textOf(row[k]));
      state.rows += 1;
      const isLast = complete && i === rows.length - 1;
      const offset: TableOffset = isLast
        ? { stream: state.handoff! }
        : { stream: state.handoff!, snapshot: { last_key: keyValues, rows: state.rows, deletes_after: 'done' } };
      const version = String(
        versions.versionOf(
          `${state.table}\u0000${canonicalKey(
            schemas,
            schemas.table.keyColumns.map((k) => row[k]),
          )}`,
        ),
      );
      records.push(
        changeEventValues({
          schemas,
          db,
          prefix: this.deps.settings.topicPrefix,
          op: 'r',
          key: keyStruct(
            schemas,
            keyValues.map((v, j) => row[schemas.table.keyColumns[j]!] ?? v),
          ),
          before: null,
          after: rowValues(schemas, row),
          version,
          eventId: `${db}:${state.table}:snapshot:${keyString(keyValues)}`,
          sourceTsMs: now,
          snapshot: isLast && lastTable ? 'last' : 'true',
          partition: this.deps.partition(state.table),
          offset,
          nowMs: now,
        }),
      );
      state.lastKey = keyValues;
    });
    const progress = { table: state.table, rows: state.rows, total: state.total, done: complete };
    this.deps.progress({ snapshot: progress });
    if (complete) {
      await this.snapshotTableDone(progress);
    } else if (
      state.total > 0 &&
      Math.floor((state.rows * 10) / state.total) > Math.floor(((state.rows - rows.length) * 10) / state.total)
    ) {
      this.deps.log.info('Snapshot progress', progress); // every 10 %
    } else {
      this.deps.log.debug('Snapshot chunk', progress);
    }
    return records;
  }

  private async snapshotTableDone(progress: Record<string, unknown>): Promise<void> {
    this.deps.log.info('Snapshot of table complete', progress);
    this.tables.shift();
    if (this.tables.length === 0) {
      this.versions.clear();
      await this.close();
      this.deps.log.info('Snapshot complete; streaming starts from the snapshot hand-off');
    }
  }

  /**
   * The versions of snapshot rows whose streaming resumes at `handoff` (see SnapshotVersions), from the change
   * rows the session sees in the window below the hand-off's highest sequence, as far as the hand-off covers them:
   * a snapshot resumed after a restart reads in a newer transaction than its hand-off, and the changes in between
   * are streamed again, so the rows' versions must stay below them. Version 0 for all when the change table
   * cannot be read in the snapshot.
   */
  private async versionsFor(session: SnapshotSession, handoff: Cursor, table: string): Promise<SnapshotVersions> {
    const cacheKey = JSON.stringify(handoff);
    const cached = this.versions.get(cacheKey);
    if (cached) {
      if (!this.reported.has(table)) this.computed.push([table, handoff, cached]);
      this.reported.add(table);
      return cached;
    }
    const versions = await readSnapshotVersions(session, handoff, (c) => {
      const table = qualified(c.table);
      const schemas = this.deps.schemas.get(table);
      return schemas ? `${table}\u0000${canonicalKey(schemas, c.key)}` : null;
    });
    this.versions.set(cacheKey, versions);
    this.computed.push([table, handoff, versions]);
    this.reported.add(table);
    return versions;
  }

  /**
   * Before a table's rows: the deletes the change table shows (one page per poll, by sequence) whose rows the
   * snapshot does not see are emitted as deletes with their own sequence. A snapshot taken after a restart without
   * offsets cannot see a row deleted while no offset was stored; its delete still reaches the topic.
   */
  private async snapshotDeletes(session: SnapshotSession, state: SnapshotState): Promise<SourceRecord[]> {
    const schemas = this.deps.schemas.get(state.table)!;
    const limit = this.deps.settings.snapshotFetchSize;
    const changes = await session.changesAbove!(state.deletesAfter, limit, this.changeTableNames(schemas.table.id));
    const complete = changes.length < limit;
    const latest = new Map<string, ChangeRow>();
    for (const c of changes) {
      // A delete the hand-off does not cover is streamed (a snapshot resumed in a newer transaction sees it).
      if (isDone(state.handoff!, c)) latest.set(canonicalKey(schemas, c.key), c); // ascending: the last wins
    }
    const present = new Set<string>();
    if (latest.size > 0) {
      const found = await session.rows!(
        schemas.table,
        [...latest.values()].map((c) => c.key),
      );
      for (const r of found) {
        present.add(
          canonicalKey(
            schemas,
            schemas.table.keyColumns.map((k) => r[k]),
          ),
        );
      }
    }
    const gone = [...latest].filter(([k]) => !present.has(k)).map(([, c]) => c);
    gone.sort((a, b) => (a.seq < b.seq ? -1 : 1));
    const after = complete ? 'done' : String(changes[changes.length - 1]!.seq);
    state.deletesAfter = after;
    const now = Date.now();
    const db = this.deps.dialect.database;
    const records: SourceRecord[] = [];
    for (const c of gone) {
      const offset: TableOffset = {
        stream: state.handoff!,
        snapshot: { last_key: state.lastKey, rows: state.rows, deletes_after: after },
      };
      const record = changeEvent({
        schemas,
        db,
        prefix: this.deps.settings.topicPrefix,
        op: 'd',
        key: keyStruct(schemas, c.key),
        before: keyOnlyRow(schemas, c.key),
        after: null,
        version: String(c.seq),
        eventId: `${db}:${state.table}:${c.seq}`,
        sourceTsMs: c.tsMs ?? now,
        snapshot: 'true',
        changeSeq: c.seq,
        partition: this.deps.partition(state.table),
        offset,
        nowMs: now,
      });
      records.push(record);
      if (this.deps.settings.tombstonesOnDelete) records.push(tombstoneFor(record));
    }
    if (gone.length > 0)
      this.deps.log.info('Snapshot: deletes whose rows are gone', { table: state.table, count: gone.length });
    return records;
  }

  /** How the change table's table column may name this table: `schema.table`, or `table` in its own schema. */
  private changeTableNames(id: TableId): string[] {
    const own = parseTableName(this.deps.settings.changeTable.table, this.deps.dialect.defaultSchema).schema;
    return id.schema === own ? [qualified(id), id.table] : [qualified(id)];
  }
}
