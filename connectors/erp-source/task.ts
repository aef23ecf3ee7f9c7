import {
  ConfigError,
  DataError,
  type Logger,
  type SourcePartition,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
  silentLogger,
  sleep,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../../transforms/support.js';
import {
  type ErpSourceSettings,
  TASK_TABLES_KEY,
  TASK_TABLE_STARTS_KEY,
  parseSettings,
  tableSelected,
} from './config.js';
import { type Cursor, cursorFromOffset, isDone, mergeCursors } from './cursor.js';
import { createDialect } from './dialects/index.js';
import type { ChangeBatch, Dialect } from './dialects/dialect.js';
import type { TableOffset } from './table-offset.js';
import { parseTableName } from './dialects/common.js';
import {
  type TableSchemas,
  canonicalKey,
  changeEventValues,
  heartbeatRecord,
  keyOnlyValues,
  keyStruct,
  outboxEvent,
  rowValues,
  tombstoneOf,
} from './envelope.js';
import { type RawRow, type TableId, qualified } from './model.js';
import { type TsIncOffset, TsIncTableReader, readTimestampIncrementing } from './timestamp-incrementing.js';
import { OutboxCleanup } from './outbox-cleanup.js';
import { ChangeStream } from './change-stream.js';
import { InitialSnapshot, type SnapshotState } from './initial-snapshot.js';
import { SnapshotCover } from './snapshot-cover.js';
import { tablesLostToRetention } from './retention.js';
import { type ChangeGroup, groupChanges } from './change-groups.js';
import { SchemaRefresh } from './schema-refresh.js';
import { IncrementalSnapshot } from './incremental-snapshot.js';
import { type PollOutcome, PollPacer } from './poll-pacer.js';
import { MAX_CHANNEL_BYTES, changeTableNotifyDdl, notifyChannel } from './setup-sql.js';

export type { TableOffset } from './table-offset.js';

interface Built {
  /**
   * Builds the batch's events from what was read. Called when poll() hands the batch out, not when it is read ahead:
   * a batch read ahead then holds its rows only, and its events are not alive (and promoted) beside the batch the
   * worker converts and the one it sends.
   */
  events: () => SourceRecord[];
  batch: ChangeBatch;
  now: number;
}

/**
 * Tails the change table for its tables. Each poll: read the next change rows above the stream position
 * (never past the transaction watermark / open gaps), skip what each table's stored offset covers, coalesce
 * per key, read the current rows by key (one query per table), emit Debezium envelopes whose source offsets
 * advance row by row, so a commit after any acknowledged prefix resumes without loss.
 */
export class ErpSourceTask implements SourceTask {
  private context: SourceTaskContext | null = null;
  private log: Logger = silentLogger;
  private settings!: ErpSourceSettings;
  private dialect!: Dialect;
  private readonly schemas = new Map<string, TableSchemas>();
  /** What each table's stored offset says is done (static: used to skip re-read changes after a restart). */
  private readonly doneAt = new Map<string, Cursor>();
  private cursor: Cursor | null = null;
  private snapshot: InitialSnapshot | null = null;
  /** Snapshot row versions the stream must not go below, kept in the tables' offsets until the stream passed them. */
  private readonly cover = new SnapshotCover();
  private finished = false;
  /** When the next poll starts: adaptive polling, woken early by commit notifications (PostgreSQL). */
  private pacer!: PollPacer;
  /** notify.enabled on PostgreSQL with the trigger installed: the LISTEN connection (closed by stop()). */
  private commitListener: { close(): Promise<void> } | null = null;
  private lastHeartbeatMs = 0;
  /**
   * The next batch, read while the worker converts and sends the current one (only after a full batch, at most
   * one ahead, so memory stays bounded). Its cursor is the current batch's end; the stream cursor moves past it
   * only when poll() hands it out, so a failed prefetch is simply re-read.
   */
  private prefetch: Promise<Built> | null = null;
  /** The change rows (and gap bookkeeping); reads the rows after a prefetched batch while its base rows are read. */
  private stream!: ChangeStream;
  /** readRows runs here (PostgreSQL: a second connection) so it overlaps the next change read. */
  private rows: Dialect | null = null;
  private readonly abort = new AbortController();
  /** capture.mode=timestamp_incrementing: one reader per table (no change table). */
  private tsinc: TsIncTableReader[] | null = null;
  /** signal.data.collection: signal-driven incremental snapshots (null without a signal table). */
  private incremental: IncrementalSnapshot | null = null;
  /** outbox.delete.processed: the rows handed out, deleted once a committed offset covers them. */
  private cleanup: OutboxCleanup | null = null;
  /** The event schemas of the tables, and schema.refresh.interval.ms. */
  private tableSchemas!: SchemaRefresh;
  private captureKind: Cursor['kind'] = 'gaps';

  version(): string {
    return PLUGIN_VERSION;
  }

  initialize(context: SourceTaskContext): void {
    this.context = context;
    this.log = context.logger;
  }

  /** One frozen object per table: the worker then computes each partition's canonical key once. */
  private readonly partitions = new Map<string, SourcePartition>();

  private partition(table: string): SourcePartition {
    let p = this.partitions.get(table);
    if (p === undefined) {
      p = Object.freeze({ server: this.settings.topicPrefix, table });
      this.partitions.set(table, p);
    }
    return p;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    this.settings = parseSettings(props);
    this.dialect = createDialect(this.settings);
    this.tableSchemas = new SchemaRefresh({
      dialect: this.dialect,
      settings: this.settings,
      schemas: this.schemas,
      log: this.log,
    });
    this.stream = new ChangeStream({
      dialect: this.dialect,
      settings: this.settings,
      log: this.log,
      progress: (info) => this.context?.status.progress(info),
    });
    this.pacer = new PollPacer({
      idleMs: this.settings.pollIntervalMs,
      // timestamp_incrementing re-reads its overlap window every poll: it keeps a fixed interval.
      busyMs: this.settings.tsinc ? this.settings.pollIntervalMs : this.settings.pollIntervalMinMs,
      wakeGapMs: this.settings.notify?.minIntervalMs ?? 0,
      quietMs: this.quietIntervalMs(),
    });
    await this.dialect.connect();
    if (this.settings.tsinc) return this.startTimestampIncrementing(props);
    const kind = await this.dialect.prepareChangeTable(this.settings.changeTable);
    this.captureKind = kind;
    const outbox = this.settings.changeTable.outbox;
    const tables = outbox
      ? [parseTableName(this.settings.changeTable.table, this.dialect.defaultSchema)]
      : await this.assignedTables(props);
    if (outbox) for (const id of tables) await this.tableSchemas.describe(id);
    else await this.tableSchemas.load(tables);
    if (outbox?.deleteProcessed) {
      const table = this.schemas.get(qualified(tables[0]!))!.table;
      outbox.extraColumns = [...OutboxCleanup.keyColumns(table)];
      this.cleanup = new OutboxCleanup(this.dialect, table, this.settings.changeTable, this.log);
    }
    if (kind === 'ct') await this.dialect.captureTables!(tables.map((id) => this.schemas.get(qualified(id))!.table));
    this.log.info('ErpSource task starting', {
      tables: tables.map(qualified),
      capture: {
        xid: 'transaction watermark',
        rv: 'rowversion watermark',
        ct: 'SQL Server Change Tracking',
        gaps: 'gap tracking',
      }[kind],
    });

    const reader = this.context?.offsetStorageReader;
    const starts = tableStarts(props);
    const needSnapshot: SnapshotState[] = [];
    const fresh: string[] = [];
    const storedSignals: unknown[] = [];
    for (const id of tables) {
      const name = qualified(id);
      const stored = (await reader?.offset(this.partition(name))) as TableOffset | null | undefined;
      storedSignals.push(stored?.signals);
      this.cover.restore(name, stored?.covered);
      const cursor = stored ? cursorFromOffset(stored.stream) : null;
      if (cursor && cursor.kind !== kind) {
        if (this.settings.snapshotMode !== 'when_needed') {
          throw new ConfigError(
            `Stored offset of ${name} is a ${cursor.kind} position but the change table now gives ${kind} positions; ` +
              'reset the offsets or use snapshot.mode=when_needed',
            'snapshot.mode',
          );
        }
        this.log.warn('Stored position no longer valid; re-snapshotting', { table: name });
        needSnapshot.push({ table: name, lastKey: null, rows: 0, total: null, handoff: null, deletesAfter: '0' });
      } else if (cursor && stored?.snapshot) {
        this.log.info('Resuming snapshot', {
          table: name,
          after_key: stored.snapshot.last_key,
          rows: stored.snapshot.rows,
        });
        needSnapshot.push({
          table: name,
          lastKey: stored.snapshot.last_key,
          rows: stored.snapshot.rows,
          total: null,
          handoff: cursor,
          deletesAfter: stored.snapshot.deletes_after ?? 'done',
        });
        this.doneAt.set(name, cursor);
      } else if (cursor) {
        this.doneAt.set(name, cursor);
      } else if (outbox) {
        // Outbox rows are pending events: a first start reads the table from its beginning.
        this.doneAt.set(name, await this.outboxStart(kind));
      } else if (this.settings.snapshotMode === 'never') {
        const start = starts.has(name) ? cursorFromOffset(starts.get(name)) : null;
        if (start?.kind === kind) {
          this.log.info('Capturing a new table from before it was found', { table: name });
          this.doneAt.set(name, start);
        } else {
          fresh.push(name);
        }
      } else {
        needSnapshot.push({ table: name, lastKey: null, rows: 0, total: null, handoff: null, deletesAfter: '0' });
      }
    }
    const lost = await tablesLostToRetention(
      { dialect: this.dialect, settings: this.settings, schemas: this.schemas, log: this.log },
      this.doneAt,
      new Set(needSnapshot.map((s) => s.table)),
    );
    for (const table of lost) {
      needSnapshot.push({ table, lastKey: null, rows: 0, total: null, handoff: null, deletesAfter: '0' });
    }
    await this.sweepOutbox();
    if (fresh.length > 0) {
      const now = await this.dialect.currentCursor();
      for (const t of fresh) this.doneAt.set(t, now);
    }
    this.snapshot = new InitialSnapshot(
      {
        dialect: this.dialect,
        settings: this.settings,
        schemas: this.schemas,
        partition: (table) => this.partition(table),
        log: this.log,
        progress: (info) => this.context?.status.progress(info),
      },
      needSnapshot,
    );
    if (needSnapshot.length === 0 && this.settings.snapshotMode === 'initial_only') this.finished = true;
    if (this.settings.signalTable && !outbox) {
      this.incremental = new IncrementalSnapshot({
        dialect: this.dialect,
        settings: this.settings,
        schemas: this.schemas,
        partition: (table) => this.partition(table),
        log: this.log,
        progress: (info) => this.context?.status.progress(info),
      });
      await this.incremental.start(storedSignals);
    }
    // Last: a start that fails above leaves no connection behind for a stop() that may never come.
    if (this.settings.snapshotMode !== 'initial_only') await this.listenForCommits();
  }

  /**
   * The idle wait while the commit listener is connected: notify.idle.interval.ms, but heartbeats keep their
   * interval (they are emitted by polls).
   */
  private quietIntervalMs(): number | undefined {
    const notify = this.settings.notify;
    if (!notify) return undefined;
    const hb = this.settings.heartbeatIntervalMs;
    return hb > 0 ? Math.min(notify.idleIntervalMs, hb) : notify.idleIntervalMs;
  }

  /**
   * notify.enabled on PostgreSQL: LISTEN for the change table's commit notifications when a trigger sends them;
   * otherwise say once how to add it. The listener never fails the task: while it is down, the task polls.
   */
  private async listenForCommits(): Promise<void> {
    const notify = this.settings.notify;
    if (!notify || !this.dialect.listenForCommits || !this.dialect.notifyTriggerInstalled) return;
    const table = parseTableName(this.settings.changeTable.table, this.dialect.defaultSchema);
    const channel = notify.channel ?? notifyChannel(table.schema, table.table);
    if (Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) {
      throw ConfigError.invalid(
        'notify.channel',
        channel,
        `The channel derived from the change table is longer than ${MAX_CHANNEL_BYTES} bytes: set notify.channel ` +
          '(and use the same channel in the trigger), or notify.enabled=false',
      );
    }
    let installed: boolean;
    try {
      installed = await this.dialect.notifyTriggerInstalled(channel);
    } catch (e) {
      // The wake-up is an optimisation: a catalog read that fails must not keep the task from starting.
      this.log.warn('Could not look for the NOTIFY trigger of the change table; polling without commit wake-up', {
        channel,
        error: (e as Error).message,
      });
      return;
    }
    if (!installed) {
      this.log.info(
        'No commit wake-up: no trigger on the change table sends NOTIFY on the channel, so changes are read by ' +
          'polling (adaptive, up to poll.interval.ms). To be woken at each commit, run this once and restart the ' +
          'task (or set notify.enabled=false to silence this)',
        { change_table: qualified(table), channel, sql: changeTableNotifyDdl(qualified(table), channel).join(';\n') },
      );
      return;
    }
    let wasDown = false;
    this.commitListener = this.dialect.listenForCommits(channel, {
      wake: () => this.pacer.wake(),
      // Longer idle waits only once a notification proved delivery on this connection, until it is lost again.
      notified: () => this.pacer.listening(true),
      state: (down) => {
        if (down !== null) this.pacer.listening(false);
        if (down === null) {
          if (wasDown) this.log.info('Commit wake-up listening again', { channel });
          else this.log.debug('Commit wake-up listening', { channel });
          wasDown = false;
        } else {
          // The first loss is a warning, the retries that follow are not news.
          if (!wasDown) {
            this.log.warn(
              'Commit wake-up connection lost or refused; polling meanwhile (adaptive, up to poll.interval.ms)',
              {
                channel,
                error: down.error,
                retry_ms: down.retryMs,
              },
            );
          } else this.log.debug('Commit wake-up still down', { channel, error: down.error, retry_ms: down.retryMs });
          wasDown = true;
        }
      },
    });
  }

  private async startTimestampIncrementing(props: Readonly<Record<string, string>>): Promise<void> {
    const settings = this.settings.tsinc!;
    const reader = this.context?.offsetStorageReader;
    const starts = tableStarts(props);
    this.tsinc = [];
    const tables = await this.assignedTables(props);
    await this.tableSchemas.load(tables);
    for (const id of tables) {
      const schemas = this.schemas.get(qualified(id))!;
      TsIncTableReader.check(schemas.table, settings);
      const stored = (await reader?.offset(this.partition(qualified(id)))) as TsIncOffset | null | undefined;
      const start = this.settings.snapshotMode === 'never' ? starts.get(qualified(id)) : undefined;
      const t = new TsIncTableReader(
        this.dialect,
        schemas.table,
        settings,
        stored?.tsinc ?? (start as TsIncOffset | undefined)?.tsinc ?? null,
        this.log,
      );
      // Without a position the first reads cover the whole table (the snapshot of this mode), unless never.
      if (!stored && start === undefined && this.settings.snapshotMode === 'never') await t.startAtNow();
      this.tsinc.push(t);
    }
    this.log.info('ErpSource task starting', {
      tables: this.tsinc.map((t) => qualified(t.table.id)),
      capture: 'timestamp + incrementing (safety lag, overlap window)',
      delay_ms: settings.delayMs,
      window_ms: settings.windowMs,
    });
  }

  private async pollTimestampIncrementing(): Promise<SourceRecord[]> {
    await this.maybeRefreshSchemas();
    const { records, full } = await readTimestampIncrementing(this.tsinc!, {
      schemas: this.schemas,
      db: this.dialect.database,
      prefix: this.settings.topicPrefix,
      maxBatchSize: this.settings.maxBatchSize,
      partition: (table) => this.partition(table),
    });
    this.pacer.polled(full ? 'full' : 'empty');
    return records;
  }

  /** outbox.delete.processed: rows the stored position covers but a crash left in the table are deleted now. */
  private async sweepOutbox(): Promise<void> {
    if (!this.cleanup) return;
    const table = qualified(this.cleanup.tableId);
    const stored = this.doneAt.get(table);
    if (!stored) return;
    const n = await this.cleanup.sweep(stored);
    if (n > 0) this.log.info('Deleted outbox rows already processed before the restart', { table, rows: n });
  }

  private async assignedTables(props: Readonly<Record<string, string>>): Promise<TableId[]> {
    const given = props[TASK_TABLES_KEY];
    if (given !== undefined) {
      return given
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .map((t) => parseTableName(t, this.dialect.defaultSchema));
    }
    // Run without a connector (tests, tools): capture every selected table.
    return (await this.dialect.listTables()).filter((t) => tableSelected(this.settings, qualified(t)));
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.abort.signal.aborted) return null;
    if (this.snapshot?.pending) {
      // A broken snapshot transaction is closed by the snapshot: the next poll opens a new one and resumes after the
      // last key emitted (streaming still starts from the first transaction's hand-off, so nothing is skipped).
      const step = await this.snapshot.poll();
      for (const [table, handoff] of step.handoffs) this.doneAt.set(table, handoff);
      for (const [table, handoff, versions] of step.versions) this.cover.add(table, handoff, versions);
      if (step.done && this.settings.snapshotMode === 'initial_only') this.finished = true;
      this.pacer.polled('full');
      return this.withCover(step.records);
    }
    if (this.finished) {
      await sleep(this.settings.pollIntervalMs, this.abort.signal);
      return null;
    }
    await this.pacer.wait(this.abort.signal);
    if (this.abort.signal.aborted) return null;
    if (this.tsinc) return this.pollTimestampIncrementing();
    return this.pollStream();
  }

  // ---- streaming ------------------------------------------------------------------------------------------

  private async pollStream(): Promise<SourceRecord[]> {
    if (!this.cursor) this.cursor = mergeCursors([...this.doneAt.values()]);
    const pending = this.prefetch;
    this.prefetch = null;
    let built: Built;
    try {
      built = await (pending ?? this.build(this.stream.read(this.cursor)));
      // The catalog is checked once changes came back, before they are emitted: an idle task reads no catalog. A
      // batch built before a schema change is read again with the new schema.
      if (built.batch.rows.length > 0 && (await this.maybeRefreshSchemas())) {
        built = await this.build(this.stream.read(this.cursor));
      }
    } catch (e) {
      this.dropReadAhead();
      // A row the schema in use cannot carry may be of a changed column: the catalog is read at once (an
      // incompatible change throws its SchemaError) before the error stands.
      if (!(e instanceof DataError) || !(await this.maybeRefreshSchemas(true))) throw e;
      built = await this.build(this.stream.read(this.cursor)).catch((again: unknown) => {
        this.dropReadAhead();
        throw again;
      });
    }
    const { batch, now } = built;
    let records = built.events();
    this.cleanup?.track(batch.rows);
    this.stream.handedOut(batch);
    // From where this batch starts, so that every record of it keeps what a restart at its own position needs.
    this.cover.release(this.cursor);
    this.cursor = batch.end;
    let outcome: PollOutcome = batch.full ? 'full' : batch.rows.length > 0 ? 'changes' : 'empty';
    if (this.incremental) {
      await this.incremental.readSignals();
      if (this.incremental.running) this.dropReadAhead(); // rows read ahead could be older than the chunk read next
      const step = await this.incremental.step(records, batch.end, now);
      records = step.records;
      if (step.chunked) outcome = 'full'; // next chunk without waiting
    }
    this.pacer.polled(outcome, this.stream.timeDriven(batch.end));
    if (batch.full && !this.abort.signal.aborted && !this.incremental?.running) {
      // Read ahead while the worker converts and sends this batch: the next batch is built (its base rows read on
      // the row reader's connection) while the change rows of the one after are read on the main connection.
      const next = this.build(this.stream.read(batch.end));
      next.catch(() => {}); // surfaces when the next poll awaits it
      this.prefetch = next;
    } else {
      this.dropReadAhead();
    }
    if (this.settings.heartbeatIntervalMs > 0 && now - this.lastHeartbeatMs >= this.settings.heartbeatIntervalMs) {
      this.lastHeartbeatMs = now;
      const signals = this.incremental?.offsetState();
      const offset: TableOffset = { stream: batch.end, ...(signals ? { signals } : {}) };
      for (const table of this.schemas.keys()) {
        records.push(
          heartbeatRecord(this.settings.heartbeatTopic, this.settings.topicPrefix, this.partition(table), offset, now),
        );
      }
    }
    return this.withCover(records);
  }

  /** Records whose table still keeps snapshot row versions carry them in their offsets (SnapshotCover). */
  private withCover(records: SourceRecord[]): SourceRecord[] {
    if (this.cover.size === 0) return records;
    return records.map((r) => {
      const covered = this.cover.offsetFor(String(r.sourcePartition.table));
      return covered ? { ...r, sourceOffset: { ...r.sourceOffset, covered } } : r;
    });
  }

  private dropReadAhead(): void {
    this.prefetch = null;
    this.stream?.drop();
  }

  /** Builds the events of a batch; when it is full, starts reading the change rows after it at the same time. */
  private async build(changes: Promise<ChangeBatch>): Promise<Built> {
    const batch = await changes;
    const now = Date.now();
    if (batch.full && !this.abort.signal.aborted) this.stream.readAhead(batch.end);
    return { events: await this.eventsFor(batch, now), batch, now };
  }

  private async outboxStart(kind: Cursor['kind']): Promise<Cursor> {
    if (kind === 'xid') return { kind, base: '3:3:' }; // 3 is the first normal transaction id: nothing is done
    if (kind === 'rv') return { kind, rv: '0' };
    if (kind === 'ct') return { kind, version: '0' };
    const low = await this.dialect.lowestSequence();
    return low === null
      ? { kind: 'gaps', seq: '0', gaps: [], unanchored: true }
      : { kind: 'gaps', seq: String(low - 1n), gaps: [] };
  }

  /** capture.mode=outbox: every outbox row is one event, in capture order, routed by its aggregate type. */
  private outboxEventsFor(batch: ChangeBatch, now: number): SourceRecord[] {
    const table = qualified(parseTableName(this.settings.changeTable.table, this.dialect.defaultSchema));
    const done = this.doneAt.get(table)!;
    const schemas = this.schemas.get(table)!;
    const kept = batch.rows.map((row, i) => ({ row, i })).filter(({ row }) => !isDone(done, row));
    return kept.map(({ row, i }, n) =>
      outboxEvent({
        outbox: this.settings.changeTable.outbox!,
        table: schemas.table,
        raw: row.raw!,
        version: String(row.seq),
        partition: this.partition(table),
        offset: { stream: n === kept.length - 1 ? batch.end : batch.positions[i]! } satisfies TableOffset,
        nowMs: now,
      }),
    );
  }

  /** Reads what a batch's events need (the keys' current rows); the returned function builds them. */
  private async eventsFor(batch: ChangeBatch, now: number): Promise<() => SourceRecord[]> {
    if (this.settings.changeTable.outbox) return () => this.outboxEventsFor(batch, now);
    const order = groupChanges(
      batch.rows,
      (table, change) => {
        const done = this.doneAt.get(table);
        return !done || isDone(done, change);
      },
      this.settings.coalesce,
    );
    if (order.length === 0) return () => [];

    // One query per table for the current rows of every key that was not (finally) deleted.
    const rowsByTable = new Map<string, Map<string, RawRow>>();
    const byTable = new Map<string, ChangeGroup[]>();
    for (const g of order) {
      const list = byTable.get(g.table);
      if (list) list.push(g);
      else byTable.set(g.table, [g]);
    }
    for (const [table, gs] of byTable) {
      // Rows already joined to their change (Change Tracking) need no second read.
      const keys = gs
        .filter(
          (g) => g.changes[g.changes.length - 1]!.op !== 'd' && g.changes[g.changes.length - 1]!.current === undefined,
        )
        .map((g) => g.changes[0]!.key);
      rowsByTable.set(table, keys.length > 0 ? await this.readCurrentRows(table, keys) : new Map());
    }

    return () => this.changeEvents(batch, now, order, rowsByTable);
  }

  private changeEvents(
    batch: ChangeBatch,
    now: number,
    order: readonly ChangeGroup[],
    rowsByTable: ReadonlyMap<string, Map<string, RawRow>>,
  ): SourceRecord[] {
    const records: SourceRecord[] = [];
    const db = this.dialect.database;
    order.forEach((g, i) => {
      const schemas = this.schemas.get(g.table)!;
      const last = g.changes[g.changes.length - 1]!;
      const canonical = canonicalKey(schemas, last.key);
      // Already in the key's snapshot row, which carries a higher version: streaming it would go backwards.
      if (this.cover.covers(g.table, canonical, last.seq)) return;
      const row =
        last.op === 'd'
          ? undefined
          : last.current !== undefined
            ? (last.current ?? undefined)
            : rowsByTable.get(g.table)!.get(canonical);
      // A change whose row is gone by read time is emitted as a delete: the row's final state (absent) is
      // never lost, even when the change table is written outside the data transaction.
      const op = !row ? 'd' : g.changes[0]!.op === 'c' ? 'c' : 'u';
      const key = keyStruct(schemas, last.key);
      const position = i === order.length - 1 ? batch.end : batch.positions[g.lastIndex]!;
      const version = String(last.seq);
      const record = changeEventValues({
        schemas,
        db,
        prefix: this.settings.topicPrefix,
        op,
        key,
        before: op === 'd' ? keyOnlyValues(schemas, last.key) : null,
        after: row ? rowValues(schemas, row) : null,
        version,
        eventId: `${db}:${g.table}:${version}`,
        sourceTsMs: last.tsMs ?? now,
        snapshot: 'false',
        changeSeq: last.seq,
        txId: last.txid, // undefined without a watermark column: the field stays unset
        partition: this.partition(g.table),
        offset: { stream: position } satisfies TableOffset,
        nowMs: now,
      });
      records.push(record);
      if (op === 'd' && this.settings.tombstonesOnDelete) records.push(tombstoneOf(record));
    });
    return records;
  }

  /** Current rows by canonical key; re-reads the catalog when the row's columns differ from the known schema. */
  private async readCurrentRows(table: string, keys: ReadonlyArray<readonly string[]>): Promise<Map<string, RawRow>> {
    let schemas = this.schemas.get(table)!;
    this.rows ??= this.dialect.rowReader();
    const rows = await this.rows.readRows(schemas.table, keys);
    const first = rows[0];
    if (
      first &&
      !sameColumns(
        Object.keys(first),
        schemas.table.columns.map((c) => c.name),
      )
    ) {
      schemas = await this.tableSchemas.refreshTable(schemas.table.id);
    }
    const out = new Map<string, RawRow>();
    for (const r of rows)
      out.set(
        canonicalKey(
          schemas,
          schemas.table.keyColumns.map((k) => r[k]),
        ),
        r,
      );
    return out;
  }

  /**
   * Batches read ahead were built with the old schemas: a schema change drops them (they are read again). True when
   * an event schema changed. `force`: now, whatever the interval.
   */
  private async maybeRefreshSchemas(force = false): Promise<boolean> {
    if (!(await this.tableSchemas.refreshDue(force))) return false;
    this.dropReadAhead();
    if (this.captureKind === 'ct') {
      await this.dialect.captureTables!([...this.schemas.values()].map((s) => s.table));
    }
    return true;
  }

  /**
   * Called by the worker after offsets were committed. outbox.delete.processed deletes the rows that the
   * committed offset (read back from the offset store, so never ahead of it) covers. A failure is logged and the
   * rows are tried again after the next commit: it must not fail the task.
   */
  async commit(): Promise<void> {
    if (!this.cleanup) return;
    const table = qualified(this.cleanup.tableId);
    try {
      const stored = (await this.context?.offsetStorageReader.offset(this.partition(table))) as
        TableOffset | null | undefined;
      const committed = stored ? cursorFromOffset(stored.stream) : null;
      if (!committed) return;
      const rows = await this.cleanup.deleteCovered(committed);
      if (rows > 0) this.log.debug('Deleted processed outbox rows', { table, rows });
    } catch (e) {
      this.log.warn('Deleting processed outbox rows failed; they are retried after the next offset commit', {
        table,
        error: (e as Error).message,
      });
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    // First: a rebalance or shutdown must not leave a LISTEN connection behind, whatever else fails below.
    const listener = this.commitListener;
    this.commitListener = null;
    await listener?.close();
    await this.prefetch?.catch(() => {});
    await this.stream?.idle();
    this.dropReadAhead();
    await this.snapshot?.close();
    if (this.rows && this.rows !== this.dialect) await this.rows.close();
    this.rows = null;
    await this.dialect?.close();
  }
}

function sameColumns(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The connector's TASK_TABLE_STARTS_KEY: where tables it found while running start, by `schema.table`. */
function tableStarts(props: Readonly<Record<string, string>>): Map<string, unknown> {
  const text = props[TASK_TABLE_STARTS_KEY];
  if (text === undefined || text.trim() === '') return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${TASK_TABLE_STARTS_KEY} is not JSON: ${(e as Error).message}`, TASK_TABLE_STARTS_KEY);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${TASK_TABLE_STARTS_KEY} must be a JSON object of table → position`, TASK_TABLE_STARTS_KEY);
  }
  return new Map(Object.entries(parsed));
}
