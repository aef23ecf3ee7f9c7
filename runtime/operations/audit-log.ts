import { randomBytes } from 'node:crypto';
import { type Admin, type KafkaLogSink, createKafka } from '../kafka/index.js';
import { KafkaBasedLog, type LogRecord, ensureInternalTopic } from '../worker/distributed/kafka-log.js';

/**
 * The operations audit log: every reconcile, repair, replay and DLQ redrive, with who ran it, when, on what, what
 * it counted and how it ended.
 *
 * Where it lives: a compacted Kafka topic (`operations.storage.topic`, default `erpstream-operations`), one record
 * per operation keyed by its id, rewritten as the operation progresses (compaction keeps the last state). Chosen over
 * a table in a sink's state database because (a) a DLQ redrive, or an operation over several sinks with different
 * state databases, has no one database to write to, while every worker always has Kafka; (b) it is what Connect does
 * for its own cluster-wide state (configs, offsets, statuses), so any worker of the group reads the same history and
 * a restart replays it; (c) the runtime must not reach into a connector's database. Operations are started by
 * people, so the log stays small: it is held in memory, read from the topic at first use.
 */

export type OperationKind = 'reconcile' | 'repair' | 'replay' | 'redrive';
export const OPERATION_KINDS: readonly OperationKind[] = ['reconcile', 'repair', 'replay', 'redrive'];

/** `running` until finish(); `interrupted` when the worker running it stopped first (seen at its next start). */
export type OperationResult = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface OperationEntry {
  /** Sortable by start time (base-36 milliseconds, then random). */
  readonly id: string;
  readonly kind: OperationKind;
  /** The integration (`erpstream.integration` of its connectors), or null for a connector-level operation. */
  readonly customer: string | null;
  readonly connector: string | null;
  /** The authenticated REST principal, else what the CLI said (`user@host`), else `anonymous@<address>`. */
  readonly who: string;
  /** ISO-8601. */
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** What it was asked to do (`{since}`, `{entities: n}`, a filter…); never secrets. */
  readonly scope: Readonly<Record<string, unknown>>;
  /** What it counted so far (`{queued, delivered, withdrawn, …}`), updated while it runs. */
  readonly counts: Readonly<Record<string, number>>;
  readonly result: OperationResult;
  /** Why it failed, or a one-line summary. */
  readonly message: string | null;
  /** The worker that ran it (`host:port`). */
  readonly worker: string | null;
}

export interface BeginOperation {
  kind: OperationKind;
  customer?: string | null;
  connector?: string | null;
  who: string;
  scope?: Record<string, unknown>;
  counts?: Record<string, number>;
}

export interface OperationFilter {
  customer?: string;
  connector?: string;
  kind?: OperationKind;
  /** Newest first; default 50, at most 1000. */
  limit?: number;
}

/** What the REST layer (and i15a's redrive, i16a's reconcile) writes through. */
export interface OperationsLog {
  /** Records a running operation and returns it (its id goes in the answer: `operationId`/`auditId`). */
  begin(op: BeginOperation): Promise<OperationEntry>;
  /** Updates the counts (and scope) of a running operation. */
  progress(id: string, counts: Record<string, number>, scope?: Record<string, unknown>): Promise<OperationEntry>;
  /** Ends an operation. */
  finish(
    id: string,
    outcome: { result: 'succeeded' | 'failed'; counts?: Record<string, number>; message?: string | null },
  ): Promise<OperationEntry>;
  /** begin() and finish() at once, for an operation that is over when it is recorded (a redrive). */
  record(
    op: BeginOperation & { result: 'succeeded' | 'failed'; message?: string | null; startedAt?: Date },
  ): Promise<OperationEntry>;
  /** Newest first, from every worker of the cluster (the topic is read to its end first). */
  list(filter?: OperationFilter): Promise<OperationEntry[]>;
  get(id: string): Promise<OperationEntry | null>;
  close(): Promise<void>;
}

export const DEFAULT_OPERATIONS_TOPIC = 'erpstream-operations';
const MAX_LIMIT = 1000;

/** A new operation id: sortable by time, unique across workers. */
export function newOperationId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}-${randomBytes(5).toString('hex')}`;
}

/** The entries that match, newest first. */
export function selectOperations(all: Iterable<OperationEntry>, f: OperationFilter = {}): OperationEntry[] {
  const limit = Math.max(1, Math.min(f.limit ?? 50, MAX_LIMIT));
  return [...all]
    .filter(
      (e) =>
        (f.customer === undefined || e.customer === f.customer) &&
        (f.connector === undefined || e.connector === f.connector) &&
        (f.kind === undefined || e.kind === f.kind),
    )
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit);
}

/** The shared in-memory state: applies records, answers queries. The Kafka and the memory log both use it. */
abstract class BaseOperationsLog implements OperationsLog {
  protected readonly entries = new Map<string, OperationEntry>();

  constructor(protected worker: string | null) {}

  /** The worker id is known once the REST listener is bound. */
  setWorker(worker: string): void {
    this.worker = worker;
  }

  protected abstract ready(): Promise<void>;
  protected abstract write(entry: OperationEntry): Promise<void>;
  abstract close(): Promise<void>;

  async begin(op: BeginOperation): Promise<OperationEntry> {
    await this.ready();
    return this.put({
      id: newOperationId(),
      kind: op.kind,
      customer: op.customer ?? null,
      connector: op.connector ?? null,
      who: op.who,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      scope: op.scope ?? {},
      counts: op.counts ?? {},
      result: 'running',
      message: null,
      worker: this.worker,
    });
  }

  async progress(id: string, counts: Record<string, number>, scope?: Record<string, unknown>): Promise<OperationEntry> {
    const e = await this.current(id);
    return this.put({
      ...e,
      counts: { ...e.counts, ...counts },
      ...(scope ? { scope: { ...e.scope, ...scope } } : {}),
    });
  }

  async finish(
    id: string,
    outcome: { result: 'succeeded' | 'failed'; counts?: Record<string, number>; message?: string | null },
  ): Promise<OperationEntry> {
    const e = await this.current(id);
    return this.put({
      ...e,
      counts: { ...e.counts, ...(outcome.counts ?? {}) },
      result: outcome.result,
      message: outcome.message ?? null,
      finishedAt: new Date().toISOString(),
    });
  }

  async record(
    op: BeginOperation & { result: 'succeeded' | 'failed'; message?: string | null; startedAt?: Date },
  ): Promise<OperationEntry> {
    await this.ready();
    const started = op.startedAt ?? new Date();
    return this.put({
      id: newOperationId(started.getTime()),
      kind: op.kind,
      customer: op.customer ?? null,
      connector: op.connector ?? null,
      who: op.who,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      scope: op.scope ?? {},
      counts: op.counts ?? {},
      result: op.result,
      message: op.message ?? null,
      worker: this.worker,
    });
  }

  async list(filter: OperationFilter = {}): Promise<OperationEntry[]> {
    await this.ready();
    return selectOperations(this.entries.values(), filter);
  }

  async get(id: string): Promise<OperationEntry | null> {
    await this.ready();
    return this.entries.get(id) ?? null;
  }

  private async current(id: string): Promise<OperationEntry> {
    await this.ready();
    const e = this.entries.get(id);
    // Invariant: only operations this log began are progressed or finished.
    if (!e) throw new Error(`Unknown operation ${id}`);
    return e;
  }

  private async put(entry: OperationEntry): Promise<OperationEntry> {
    await this.write(entry);
    this.entries.set(entry.id, entry);
    return entry;
  }

  /** Applies one record of the topic (a tombstone forgets the operation). */
  protected apply(r: LogRecord): void {
    if (r.key === null) return;
    if (r.value === null) {
      this.entries.delete(r.key);
      return;
    }
    try {
      const e = JSON.parse(r.value.toString('utf8')) as OperationEntry;
      if (e && typeof e.id === 'string' && e.id === r.key) this.entries.set(e.id, e);
    } catch {
      // A record someone else wrote to the topic: not ours to interpret.
    }
  }
}

/** For unit tests and embedded uses: the same behaviour, nothing durable. */
export class MemoryOperationsLog extends BaseOperationsLog {
  constructor(worker: string | null = null) {
    super(worker);
  }
  protected async ready(): Promise<void> {}
  protected async write(): Promise<void> {}
  async close(): Promise<void> {}
}

export interface KafkaOperationsLogOptions {
  brokers: string[];
  topic: string;
  replicationFactor: number;
  /** The worker's id (`host:port`), recorded on the operations it runs; settable once the listener is bound. */
  worker?: string | null;
  logSink?: KafkaLogSink;
  timeoutMs?: number;
}

/**
 * The durable log on a compacted topic (one partition: the entries are few and ordered reads are simple). Started
 * at first use, so a worker that never runs an operation never touches the topic; reads the topic to its end before
 * every query, so an operation written by another worker a moment ago is in the answer.
 */
export class KafkaOperationsLog extends BaseOperationsLog {
  private started: Promise<void> | null = null;
  private log: KafkaBasedLog | null = null;
  private admin: Admin | null = null;

  constructor(private readonly o: KafkaOperationsLogOptions) {
    super(o.worker ?? null);
  }

  protected async ready(): Promise<void> {
    this.started ??= this.start().catch((e: unknown) => {
      this.started = null;
      throw e;
    });
    await this.started;
    await this.log!.readToEnd(this.o.timeoutMs ?? 30_000);
  }

  private async start(): Promise<void> {
    const client = createKafka({
      brokers: this.o.brokers,
      clientId: 'erpstream-operations',
      ...(this.o.logSink ? { logSink: this.o.logSink } : {}),
    });
    const admin = client.admin();
    await admin.connect();
    try {
      await ensureInternalTopic(
        admin,
        {
          topic: this.o.topic,
          setting: 'operations.storage.topic',
          partitions: 1,
          replicationFactor: this.o.replicationFactor,
        },
        { timeoutMs: this.o.timeoutMs ?? 30_000 },
      );
      const log = new KafkaBasedLog(client, admin, this.o.topic, 'erpstream-operations', (r) => this.apply(r));
      await log.start();
      this.admin = admin;
      this.log = log;
      await this.markInterrupted();
    } catch (e) {
      await admin.disconnect().catch(() => {});
      throw e;
    }
  }

  /**
   * Operations this worker left running when it last stopped (same `host:port`) can no longer finish here: they are
   * marked interrupted, so the history does not show them running for ever. (A repair's own work is resumable: the
   * sink keeps its progress, and running the repair again finishes the rest.)
   */
  private async markInterrupted(): Promise<void> {
    if (this.worker === null) return;
    for (const e of [...this.entries.values()]) {
      if (e.result !== 'running' || e.worker !== this.worker) continue;
      const done: OperationEntry = {
        ...e,
        result: 'interrupted',
        finishedAt: new Date().toISOString(),
        message: 'The worker running it stopped before it finished',
      };
      await this.write(done);
      this.entries.set(e.id, done);
    }
  }

  protected async write(entry: OperationEntry): Promise<void> {
    await this.log!.send([{ key: entry.id, value: JSON.stringify(entry) }]);
  }

  async close(): Promise<void> {
    const started = this.started;
    this.started = null;
    if (started) await started.catch(() => {});
    await this.log?.stop();
    await this.admin?.disconnect().catch(() => {});
    this.log = null;
    this.admin = null;
  }
}
