import {
  ConfigError,
  DataError,
  type Logger,
  type SourcePartition,
  type SourceRecord,
} from '../../runtime/api/index.js';
import type { ErpSourceSettings } from './config.js';
import type { Cursor } from './cursor.js';
import type { Dialect } from './dialects/dialect.js';
import { parseTableName } from './dialects/common.js';
import { type TableSchemas, canonicalKey, changeEvent, keyStruct, rowStruct } from './envelope.js';
import { type RawRow, keyString, qualified, textOf } from './model.js';
import { type SignalDigest, digestOf } from './signal-digest.js';
import {
  type Signal,
  type SignalState,
  type StoredSignalState,
  applySignals,
  emptySignalState,
  newestSignalState,
  parseSignal,
  storedSignalState,
} from './signals.js';
import { SnapshotVersions, readSnapshotVersions } from './snapshot-versions.js';
import type { TableOffset } from './table-offset.js';

/** What the incremental snapshot reads with; it never calls back into the task. */
export interface IncrementalDeps {
  readonly dialect: Dialect;
  readonly settings: ErpSourceSettings;
  readonly schemas: ReadonlyMap<string, TableSchemas>;
  readonly partition: (table: string) => SourcePartition;
  readonly log: Logger;
  readonly progress: (info: Record<string, unknown>) => void;
}

/** What one step produced: this poll's stream records (with the signal state) and the chunk after them. */
export interface IncrementalStep {
  records: SourceRecord[];
  /** A chunk was read: the next poll reads the next one without waiting. */
  chunked: boolean;
}

/**
 * Signal-driven incremental snapshots (signal.data.collection): reads the signal table, then, while a table is
 * queued, one chunk by primary key per poll, emitted as `r` events after that poll's stream events. Every emitted
 * row — streamed or snapshot — is the row as read at emission time, and reads happen in emission order (the task
 * reads nothing ahead while a table is queued: `running`), so a chunk row can never overwrite a newer streamed
 * state: whatever changed after the chunk read has a change row the stream emits later. Chunk rows carry snapshot
 * versions (SnapshotVersions) as of the chunk's own transaction, so per key versions never go down across stream
 * and chunks. The state (a digest of the signals acted on, queue, progress) travels in the offsets; the newest copy wins on
 * restart.
 */
export class IncrementalSnapshot {
  private state: SignalState = emptySignalState();
  /** The digest of `state.done` written into offsets, recomputed only when the ids acted on change. */
  private seen: SignalDigest = digestOf([]);

  constructor(private readonly deps: IncrementalDeps) {}

  /** At start: a missing or mis-shaped signal table fails the start, not every poll; resumes the stored state. */
  async start(storedSignals: readonly unknown[]): Promise<void> {
    await this.checkSignalTable(this.deps.settings.signalTable!);
    this.state = newestSignalState([...storedSignals]);
    this.seen = digestOf(this.state.done); // a legacy offset's id list; a digest stays unresolved until readSignals
    this.state.queue = this.state.queue.filter((q) => this.deps.schemas.has(q.table));
    if (this.state.queue.length > 0) {
      this.deps.log.info('Resuming incremental snapshot', { queue: this.state.queue });
    }
  }

  /** A table is queued: the task must not read ahead (rows read ahead could be older than the next chunk). */
  get running(): boolean {
    return this.state.queue.length > 0;
  }

  /** The state for an offset that carries no chunk (heartbeats); undefined before any signal was acted on. */
  offsetState(): StoredSignalState | undefined {
    return this.state.step > 0 ? this.stored() : undefined;
  }

  /** Acts on the signals in the signal table (a mistyped one is logged and marked done like any other). */
  async readSignals(): Promise<void> {
    const { dialect } = this.deps;
    const id = parseTableName(this.deps.settings.signalTable!, dialect.defaultSchema);
    const q = (c: string): string => dialect.quote(c);
    const rows = await dialect.run(
      `SELECT ${q('id')} AS id, ${q('type')} AS type, ${q('data')} AS data FROM ${q(id.schema)}.${q(id.table)}`,
      [],
      `Reading the signal table ${qualified(id)}`,
    );
    const signals = rows.map((r): Signal => {
      try {
        return parseSignal(r, dialect.defaultSchema);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        return { id: String(r.id ?? ''), kind: 'ignored', reason: e.message };
      }
    });
    const resolving = this.state.unresolved !== undefined;
    const { changed, actions } = applySignals(this.state, signals, new Set(this.deps.schemas.keys()));
    if (changed || resolving) this.seen = digestOf(this.state.done);
    for (const a of actions) (a.ignored ? this.deps.log.warn : this.deps.log.info).call(this.deps.log, 'Signal', a);
  }

  /**
   * After readSignals: `streamed` (this poll's stream events) with the state in their offsets, then — while a
   * table is queued — one chunk read after the stream position `streamAt`.
   */
  async step(streamed: SourceRecord[], streamAt: Cursor, now: number): Promise<IncrementalStep> {
    const { dialect, settings } = this.deps;
    const state = this.state;
    const out = state.step > 0 ? streamed.map((r) => this.withSignals(r)) : streamed;
    const current = state.queue[0];
    if (!current) return { records: out, chunked: false };
    const schemas = this.deps.schemas.get(current.table)!;
    const limit = settings.incrementalChunkSize;
    const session = await dialect.beginSnapshot();
    let rows: RawRow[];
    let versions: SnapshotVersions;
    try {
      rows = await session.chunk(schemas.table, current.last_key, limit);
      // Read in the chunk's transaction, as contained up to the stream position of this poll: a chunk row's
      // version is at least every change of its key the stream already emitted and below every change the stream
      // emits after it (committed after this poll's stream read, whether or not the chunk saw it).
      versions =
        rows.length === 0
          ? SnapshotVersions.none
          : await readSnapshotVersions(session, streamAt, (c) =>
              qualified(c.table) === current.table ? canonicalKey(schemas, c.key) : null,
            );
    } finally {
      await session.close().catch(() => {});
    }
    const db = dialect.database;
    const chunk: SourceRecord[] = [];
    for (const row of rows) {
      const keyValues = schemas.table.keyColumns.map((k) => textOf(row[k]));
      const key = schemas.table.keyColumns.map((k) => row[k]);
      current.last_key = keyValues;
      current.rows += 1;
      state.step += 1;
      chunk.push(
        changeEvent({
          schemas,
          db,
          prefix: settings.topicPrefix,
          op: 'r',
          key: keyStruct(schemas, key),
          before: null,
          after: rowStruct(schemas, row),
          version: String(versions.versionOf(canonicalKey(schemas, key))),
          eventId: `${db}:${current.table}:incremental:${keyString(keyValues)}:${current.rows}`,
          sourceTsMs: now,
          snapshot: 'incremental',
          partition: this.deps.partition(current.table),
          offset: { stream: streamAt, signals: this.stored() } satisfies TableOffset,
          nowMs: now,
        }),
      );
    }
    const progress = { table: current.table, rows: current.rows, done: rows.length < limit };
    this.deps.progress({ incremental_snapshot: progress });
    if (rows.length < limit) {
      state.queue.shift();
      state.step += 1;
      this.deps.log.info('Incremental snapshot of table complete', progress);
      // The finished state must reach the offsets even when the last chunk was empty.
      const last = chunk[chunk.length - 1];
      if (last) chunk[chunk.length - 1] = this.withSignals(last);
    } else {
      this.deps.log.debug('Incremental snapshot chunk', progress);
    }
    return { records: [...out, ...chunk], chunked: true };
  }

  private async checkSignalTable(name: string): Promise<void> {
    const info = await this.deps.dialect.describe(parseTableName(name, this.deps.dialect.defaultSchema));
    const missing = ['id', 'type', 'data'].filter((c) => !info.columns.some((col) => col.name === c));
    if (missing.length > 0) {
      throw new ConfigError(
        `Signal table ${name} lacks the column(s) ${missing.join(', ')} (Debezium's shape: id, type, data)`,
        'signal.data.collection',
      );
    }
  }

  /** The record with the current signal state in its offset (the newest state wins on restart). */
  private withSignals(r: SourceRecord): SourceRecord {
    return { ...r, sourceOffset: { ...r.sourceOffset, signals: this.stored() } };
  }

  /** A copy for one offset (records keep the state as of their emission): the ids acted on as a digest. */
  private stored(): StoredSignalState {
    return storedSignalState(this.state, this.seen);
  }
}
