import {
  ErpStreamError,
  type RedeliveryOutcome,
  type SinkRecord,
  type SinkTask,
  type SinkTaskContext,
  type TopicPartition,
  topicPartitionKey,
} from '../../runtime/api/index.js';
import { type DbSettings, type LookupSinkSettings, parseLookupSinkConfig } from './config.js';
import { DependencyChecker, ledgerKey } from './dependencies.js';
import type { Destination, Rejection, SqlStatement } from './destinations/destination.js';
import { HttpDestination } from './destinations/http.js';
import { JdbcDestination } from './destinations/jdbc.js';
import { KafkaDestination } from './destinations/kafka.js';
import { decodeRecord, encodeRecord } from './json.js';
import { EntityLocks, type HeldLocks } from './entity-locks.js';
import { DeliveryLedger, type LedgerEntry, type LedgerWrite, type Remembered } from './ledger.js';
import { type LookupSinkMetrics, emptyMetrics } from './metrics.js';
import { OriginLookup } from './origin-lookup.js';
import { PoisonIdError } from './poison.js';
import { type ParkedRecord, ParkStore } from './park-store.js';
import {
  type QueuedItem,
  RedeliveryQueue,
  nextRedeliveryWaitMs,
  redeliveryQueuedBus,
  redeliveryRefusal,
  slotsOf,
  tasksMaxOf,
} from './redelivery.js';
import {
  type Plan,
  type PlannedDelivery,
  type PlannedRemoval,
  type Work,
  WAITING_PREFIX,
  candidatesOf,
  intentWritesOf,
  ledgerWriteOf,
  planBatch,
  resolveWorks,
  routedTargets,
} from './planner.js';
import { DeliveryShaper } from './shaping.js';
import { type EntityId, entityIdOf, idOf, idText, versionOf } from './record-fields.js';
import { type SqlClient, openSqlClient } from './sql/client.js';
import { templateMatches } from './template.js';
import { LOOKUP_SINK_VERSION } from './version.js';
import { wakeBus } from './wake-bus.js';

/** What decide() settled for one batch, for its delivery stages. */
interface BatchPlan extends Plan {
  readonly works: Work[];
  /** The batch's ledger writes and their statements, committed with the delivery (ledgerAlongside); else null. */
  readonly alongside: { readonly writes: LedgerWrite[]; readonly statements: readonly SqlStatement[] } | null;
}

/** What the destination took: the ledger writes it earned and the counts. */
interface Sent {
  readonly writes: LedgerWrite[];
  readonly delivered: ReadonlyArray<PlannedDelivery>;
  readonly deleted: number;
  /** The writes were committed with the delivery: record() has no ledger write left to do. */
  readonly recorded?: boolean;
}

interface DecidedBatch {
  /** What was decided (null for an empty batch), for a caller that reports per entity (re-deliveries). */
  readonly plan: BatchPlan | null;
  send(): Promise<Sent>;
  record(sent: Sent): Promise<void>;
  /** Gives back the batch's entity locks (after its record, or when it failed); a no-op without locks. */
  release(): Promise<void>;
}

const EMPTY_SENT: Sent = { writes: [], delivered: [], deleted: 0 };

const tpKey = topicPartitionKey;

/**
 * The next offset to commit per topic-partition after these records (a batch usually holds one partition). Keyed by
 * where each record was consumed: the connector's transforms may have renamed its topic (DomainRouter does), and the
 * worker commits the consumed partitions.
 */
function nextOffsets(records: readonly SinkRecord[]): Map<string, bigint> {
  const marks = new Map<string, bigint>();
  let topic: string | null = null;
  let partition = -1;
  let highest = -1n;
  for (const r of records) {
    if (r.originalTopic !== topic || r.originalKafkaPartition !== partition) {
      if (topic !== null) raise(marks, tpKey(topic, partition), highest + 1n);
      topic = r.originalTopic;
      partition = r.originalKafkaPartition;
      highest = r.originalKafkaOffset;
    } else if (r.originalKafkaOffset > highest) {
      highest = r.originalKafkaOffset;
    }
  }
  if (topic !== null) raise(marks, tpKey(topic, partition), highest + 1n);
  return marks;
}

function raise(marks: Map<string, bigint>, key: string, next: bigint): void {
  if ((marks.get(key) ?? -1n) < next) marks.set(key, next);
}
const STATS_REFRESH_MS = 10_000;

/** Serializes put() and the background re-check: they share the ledger and park state of the same keys. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => {});
    return result;
  }
}

/**
 * The lookup sink task. Per batch: read ids and versions, drop what the ledger already has, look the rows up
 * (batched), check dependencies, deliver what is ready and record it in the ledger, park the rest durably. put()
 * returns only when every record it got is delivered, parked, dropped as stale or reported to the DLQ, so the
 * offsets the worker commits after it never cover a record that could be lost.
 */
export class LookupSinkTask implements SinkTask {
  private context!: SinkTaskContext;
  private s!: LookupSinkSettings;
  private clients: SqlClient[] = [];
  private ledger!: DeliveryLedger;
  private park!: ParkStore;
  private origin!: OriginLookup;
  private deps!: DependencyChecker;
  private destination!: Destination;
  /** The delivery chain (delivery.transforms), when configured. */
  private shaper: DeliveryShaper | null = null;
  private readonly mutex = new Mutex();
  private readonly processed = new Map<string, bigint>();
  private readonly m: LookupSinkMetrics = emptyMetrics();
  /**
   * Per-entity locks across tasks (entity-locks.ts): with tasks.max > 1 each batch holds its entities from its reads
   * until its ledger write. Null: not needed.
   */
  private locks: EntityLocks | null = null;
  /** Set by decide() when it skipped entities another task held (a background re-check does not wait for them). */
  private skippedLocked = false;
  /** Ledger keys delivered since the last check that parked records of this task's entity may wait for. */
  private readonly delivered = new Set<string>();
  /** Prefixes (destination|entity|) of the ledger keys this task's dependencies wait for. */
  private wakePrefixes: string[] = [];
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private checkScheduled = false;
  /** A background re-check is queued or running; checkAgain: another was asked for meanwhile. */
  private checking = false;
  private checkAgain = false;
  private oldestFirstParkedAt: number | null = null;
  /** Targeted re-deliveries (repair, replay) queued for this connector. */
  private queue!: RedeliveryQueue;
  private redeliveryTimer: NodeJS.Timeout | null = null;
  private redelivering = false;
  /** tasks.max: the tasks share the queue by slot (redelivery.ts). */
  private tasksMax = 1;
  /** Set when this connector must not re-deliver (redeliveryRefusal); warned about once if rows wait. */
  private refusalWarned = false;
  /** Dependency topics → the field paths that name the entity in their records. */
  private triggers = new Map<string, Array<readonly string[]>>();
  private statsReadAt = 0;
  /**
   * Whether park rows of this destination and entity may exist. False only after an exact count found none with
   * no park write of this task started or in flight since the count began; then the park re-check skips its
   * queries (an idle task costs no query per park.check.interval.ms). Rows parked by another task of the connector
   * are that task's to re-check; this one learns of them at its next exact count (STATS_REFRESH_MS) anyway.
   */
  private parkMayHold = true;
  /** Park writes started (a generation) and not finished yet, so a count racing with one is not trusted. */
  private parkWritesStarted = 0;
  private parkWritesInFlight = 0;
  /** The current wait of the re-delivery check: redelivery.poll.interval.ms, doubled while the queue is empty. */
  private redeliveryWaitMs = 0;
  /** A request was queued in this process while a run was under way: the next look is a busy one. */
  private redeliveryAgain = false;
  private redeliveryDueAt = 0;
  private unsubscribeRedelivery: (() => void) | null = null;
  /**
   * Pipelining (kafka and jdbc destinations: neither refuses a record after put() returned, and a refusal must
   * reach the DLQ while the worker still holds the record; http refuses per record, so it is not pipelined). A
   * batch's delivery has two stages: `sending` (the destination write) and `recording` (ledger and park writes, then
   * its offsets become committable). The next batch is read and decided while the last one is sent; it is sent once
   * that send is done, while the last one is recorded.
   */
  private sending: Promise<void> = Promise.resolve();
  private recording: Promise<void> = Promise.resolve();
  private pendingError: unknown = null;
  private pipelined = false;
  /** The destination commits the ledger's entries with each delivery (it writes to the ledger's database). */
  private ledgerAlongside = false;
  private batchSeq = 0;
  /** Park writes (a record) and removals (null) of batches not recorded yet, by id, with their batch number. */
  private inFlightParks = new Map<string, { seq: number; parked: ParkedRecord | null }>();
  /**
   * Entities of batches decided whose ledger write comes in record(), after their send (a batch without deliveries,
   * a forced re-delivery, a destination outside the ledger's database), with how many such batches hold each.
   */
  private recordedLater = new Map<string, number>();

  /** `wrapDestination` lets a host (or a test) observe or decorate deliveries, e.g. to record their order. */
  constructor(private readonly options: { wrapDestination?: (d: Destination) => Destination } = {}) {}

  version(): string {
    return LOOKUP_SINK_VERSION;
  }

  initialize(context: SinkTaskContext): void {
    this.context = context;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    this.s = parseLookupSinkConfig(props);
    const s = this.s;
    this.tasksMax = tasksMaxOf(props);
    // First: a mistake in the chain config fails the task before any connection is opened.
    this.shaper = await DeliveryShaper.open(this.context, props, s);
    // One client per database and login, however it was named: a destination in the ledger's database then commits
    // the ledger's entries with its deliveries (ledgerAlongside).
    const opened = new Map<string, SqlClient>();
    const open = async (d: DbSettings): Promise<SqlClient> => {
      const key = JSON.stringify([d.url, d.user, d.password]);
      let c = opened.get(key);
      if (!c) {
        c = await openSqlClient(d);
        opened.set(key, c);
        this.clients.push(c);
      }
      return c;
    };
    const lookupDb = await open(s.lookup);
    const ledgerDb = await open(s.ledger);
    this.ledger = new DeliveryLedger(ledgerDb, s.ledgerTable);
    this.park = new ParkStore(ledgerDb, s.parkTable, s.destination.name, s.entity);
    this.queue = new RedeliveryQueue(ledgerDb, s.redelivery.table);
    await this.ledger.init();
    await this.park.init();
    await this.queue.init();
    this.origin = new OriginLookup(lookupDb, s);
    this.deps = new DependencyChecker(s.dependencies, this.ledger, lookupDb);
    const destination =
      s.destination.type === 'kafka'
        ? new KafkaDestination(
            this.context.kafka,
            s.destination.topic!,
            s.entity,
            s.destination.topicPartitions,
            s.destination.transactionalId === null ? null : `${s.destination.transactionalId}-${this.context.taskId}`,
          )
        : s.destination.type === 'http'
          ? new HttpDestination(s.destination.http!, s.entity)
          : new JdbcDestination(
              await open(s.destination.db),
              s.destination.table!,
              s.entity,
              s.destination.keyColumns,
              s.destination.versionColumn,
            );
    this.destination = this.options.wrapDestination ? this.options.wrapDestination(destination) : destination;
    this.ledgerAlongside = this.destination.sharesTransactionsWith?.(ledgerDb) === true;
    this.locks = null;
    if (this.tasksMax > 1) {
      // Its own pool: a held lock keeps a connection for a whole delivery (entity-locks.ts).
      const lockDb = await openSqlClient(s.ledger);
      this.clients.push(lockDb);
      this.locks = new EntityLocks(lockDb, `${s.destination.name}|${s.entity}`);
    }
    this.pipelined = s.destination.type !== 'http';
    this.sending = Promise.resolve();
    this.recording = Promise.resolve();
    this.pendingError = null;
    this.inFlightParks = new Map();
    this.recordedLater = new Map();
    this.wakePrefixes = s.dependencies.flatMap((d) =>
      d.type === 'ledger' ? [ledgerKey(d.destination, d.entity, '')] : [],
    );
    this.triggers = new Map();
    for (const d of s.dependencies) {
      for (const topic of d.topics) this.triggers.set(topic, [...(this.triggers.get(topic) ?? []), d.topicIdFields]);
    }
    this.unsubscribe = wakeBus.subscribe((keys) => this.onDelivered(keys));
    this.timer = setInterval(() => this.onCheckTick(), s.checkIntervalMs);
    this.timer.unref();
    this.parkMayHold = true;
    this.redeliveryWaitMs = s.redelivery.pollIntervalMs;
    this.unsubscribeRedelivery = redeliveryQueuedBus.subscribe((connector) => {
      if (connector !== this.context.connectorName) return;
      // Back to the interval of a busy queue (not at once: a look within redelivery.poll.interval.ms, as always).
      this.redeliveryWaitMs = s.redelivery.pollIntervalMs;
      if (this.redelivering) this.redeliveryAgain = true;
      else this.armRedelivery(Math.min(s.redelivery.pollIntervalMs, this.redeliveryDueAt - Date.now()));
    });
    this.armRedelivery(s.redelivery.pollIntervalMs);
    await this.refreshStats(true);
    this.context.logger.info('Lookup sink started', {
      entity: s.entity,
      destination: s.destination.name,
      destinationType: s.destination.type,
      parked: this.m.parked,
    });
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.mutex.run(async () => {
      this.m.records += records.length;
      const works = new Map<string, Work>();
      for (const r of records) {
        const triggers = this.triggers.get(r.originalTopic ?? r.topic);
        if (triggers !== undefined) {
          await this.noteTrigger(r, triggers, works);
          continue;
        }
        const read = await this.readOrReject(r, () => ({
          id: entityIdOf(r, this.s.keyColumns, this.s.idFields),
          version: versionOf(r, this.s.versionHeader, this.s.versionField),
        }));
        if (read === null) continue;
        const { id, version } = read;
        const t = idText(id);
        const prev = works.get(t);
        if (prev && prev.version >= version) {
          this.m.superseded++;
          continue;
        }
        if (prev && prev.record !== null) this.m.superseded++;
        works.set(t, {
          idText: t,
          id,
          version,
          record: r,
          parked: null,
          reeval: prev?.reeval ?? false,
          ...(prev?.trigger ? { trigger: prev.trigger } : {}),
        });
      }
      const marks = nextOffsets(records);
      const batch = await this.decide([...works.values()]);
      try {
        await this.settle();
      } catch (e) {
        await batch.release();
        throw e;
      }
      const sent = batch.send();
      const recorded = Promise.all([sent, this.recording])
        .then(async ([done]) => {
          // An earlier batch failed: this one must not become committable past it.
          if (this.pendingError !== null) return;
          await batch.record(done);
          if (this.pendingError !== null) return;
          for (const [k, next] of marks) raise(this.processed, k, next);
        })
        .finally(() => batch.release());
      if (this.pipelined) {
        // put() returns while this batch is being sent; preCommit only reports it once it is recorded.
        this.sending = sent.then(
          () => {},
          (e: unknown) => this.failDelivery(e),
        );
        this.recording = recorded.catch((e: unknown) => this.failDelivery(e));
      } else {
        await recorded;
      }
      await this.refreshStats();
    });
  }

  /**
   * A record of a dependency's topic (a registration added, changed or removed): the entities it names are decided
   * again in this batch, at the version this sink knows, so a new registration delivers and a removed one withdraws
   * without waiting for the entity to change or for a backoff.
   */
  private async noteTrigger(r: SinkRecord, fields: ReadonlyArray<readonly string[]>, works: Map<string, Work>) {
    for (const idFields of fields) {
      const id = await this.readOrReject(r, () => this.triggerId(r, idFields));
      if (id === null) return;
      const t = idText(id);
      const prev = works.get(t);
      if (prev) {
        prev.reeval = true;
        prev.trigger = r;
      } else works.set(t, { idText: t, id, version: -1n, record: null, parked: null, reeval: true, trigger: r });
      this.m.reevaluated++;
    }
  }

  /**
   * Reads what a record says (id, version); a record that says nothing usable goes to the DLQ. A tombstone is
   * skipped: the delete event before it carried what was needed.
   */
  private async readOrReject<T>(r: SinkRecord, read: () => T): Promise<T | null> {
    try {
      return read();
    } catch (e) {
      if (r.value !== null && r.value !== undefined) await this.reject(r, e as Error);
      return null;
    }
  }

  /** The entity a dependency topic's record names: its fields, else its key, else value fields named like the key. */
  private triggerId(r: SinkRecord, idFields: readonly string[]): EntityId {
    if (idFields.length > 0) return entityIdOf(r, this.s.keyColumns, idFields);
    try {
      return entityIdOf(r, this.s.keyColumns, []);
    } catch (e) {
      if (r.value === null || r.value === undefined) throw e;
      return entityIdOf(r, this.s.keyColumns, this.s.keyColumns);
    }
  }

  /**
   * A failed stage cannot be retried by redelivering a later batch (this one would be skipped): it fails the
   * task, which restarts from the committed offsets and replays this batch.
   */
  private failDelivery(e: unknown): void {
    this.pendingError ??= new ErpStreamError(
      'LOOKUP_SINK_DELIVERY_FAILED',
      `Delivering a batch to ${this.s.destination.name} failed; the task restarts from the committed offsets: ${
        e instanceof Error ? e.message : String(e)
      }`,
      { cause: e },
    );
  }

  /**
   * Waits until every record put() got is delivered, parked, dropped or reported (the last batch's delivery stage
   * may still run after put() returned); throws its failure.
   */
  async flush(): Promise<void> {
    await this.mutex.run(async () => {
      await this.recording;
      await this.settle();
      await this.refreshStats();
    });
  }

  /** Waits until the previous batch is sent; a failed stage fails this call (and every later one). */
  private async settle(): Promise<void> {
    await this.sending;
    if (this.pendingError !== null) throw this.pendingError;
  }

  /**
   * Only offsets of records whose delivery stage finished: delivered, parked durably, dropped or sent to the DLQ.
   * It does not wait for a batch still being sent (that would undo the pipelining): its offsets go with the next
   * commit, and a crash in between replays it, which the version guard makes harmless.
   */
  async preCommit(current: Map<TopicPartition, bigint>): Promise<Map<TopicPartition, bigint>> {
    return this.mutex.run(async () => {
      if (this.pendingError !== null) throw this.pendingError;
      const out = new Map<TopicPartition, bigint>();
      for (const [tp, offset] of current) {
        // Records the worker dropped before put() (another customer's, filtered by the connector's transforms) are
        // the worker's to commit past (runtime/worker/sink-offsets.ts); this task vouches for what it finished.
        const done = this.processed.get(tpKey(tp.topic, tp.partition));
        if (done !== undefined) out.set(tp, done < offset ? done : offset);
      }
      return out;
    });
  }

  /**
   * Partitions that moved to another task. What this task noted as done for them must not vouch for records it
   * is given again if they come back (the consumer resumes from the group's offset, behind that mark).
   */
  async close(partitions: TopicPartition[]): Promise<void> {
    await this.mutex.run(async () => {
      await this.recording;
      for (const tp of partitions) this.processed.delete(tpKey(tp.topic, tp.partition));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.redeliveryTimer) clearTimeout(this.redeliveryTimer);
    this.unsubscribe?.();
    this.unsubscribeRedelivery?.();
    await this.mutex.run(async () => {});
    await this.recording;
    await this.destination?.close().catch(() => {});
    await this.shaper?.close().catch(() => {});
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
    this.clients = [];
  }

  /** Counters and parked state, as shown in the task status. */
  metrics(): LookupSinkMetrics {
    return { ...this.m, dlq: { ...this.m.dlq }, destination: this.destination?.metrics?.() ?? {} };
  }

  /** Runs the re-check of woken and due parked records now (tests and the timer use it). */
  async checkParked(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.stopped) return;
      // A child that a pipelined batch parks for one of these parents is not in the park table until that batch is
      // recorded: read now, the wake-up would miss it, and nothing wakes it again before its backoff. Only then does
      // the check wait for the batch (the re-check writes after it anyway).
      if (this.delivered.size > 0 && this.parkingFor(this.delivered)) await this.recording;
      if (!this.parkMayHold) {
        // Known empty: one count instead of the due and waiting_on reads; it also notices rows another task parked.
        await this.refreshStats(true);
        if (!this.parkMayHold) {
          this.delivered.clear();
          return;
        }
      }
      const delivered = [...this.delivered];
      this.delivered.clear();
      const now = Date.now();
      const byId = new Map<string, ParkedRecord>();
      if (delivered.length > 0) for (const p of await this.park.waitingFor(delivered)) byId.set(p.entityId, p);
      const due = await this.park.due(now, this.s.batchSize);
      for (const p of due) byId.set(p.entityId, p);
      // A full batch means more are due: go on right after this one instead of waiting for the next tick.
      if (due.length >= this.s.batchSize) setImmediate(() => this.scheduleCheck());
      if (byId.size === 0) {
        await this.refreshStats();
        return;
      }
      const works: Work[] = [...byId.values()].map((p) => ({
        idText: p.entityId,
        id: idOf(p.entityId, this.s.keyColumns.length),
        version: p.version,
        record: null,
        parked: p,
        reeval: false,
      }));
      this.skippedLocked = false;
      const batch = await this.decide(works, { skipLocked: true });
      if (this.skippedLocked && delivered.length > 0) {
        // A woken child another task holds may be decided there on what it read before its parent arrived: look
        // again at the next tick rather than after its backoff.
        for (const k of delivered) this.delivered.add(k);
      }
      try {
        await this.settle();
        await this.recording;
        try {
          await batch.record(await batch.send());
        } catch (e) {
          // When pipelined, decide() already published this batch's versions to the in-memory ledger: the task
          // must not go on believing them.
          if (this.pipelined) this.failDelivery(e);
          throw e;
        }
      } finally {
        await batch.release();
      }
      await this.refreshStats();
    });
  }

  /** Whether a batch not recorded yet parks a record waiting for one of these ledger keys. */
  private parkingFor(keys: ReadonlySet<string>): boolean {
    for (const f of this.inFlightParks.values()) {
      if (f.parked && f.parked.waitingOn !== null && keys.has(f.parked.waitingOn)) return true;
    }
    return false;
  }

  /**
   * Works through queued re-deliveries (redelivery.ts) until none is left, at most redelivery.rate.per.sec entities
   * a second. One run at a time; a failure is logged and the next tick tries again (the rows stay pending).
   */
  private scheduleRedelivery(): void {
    if (this.stopped) return;
    if (this.redelivering) return;
    this.redelivering = true;
    this.redeliveryAgain = false;
    if (this.redeliveryTimer) clearTimeout(this.redeliveryTimer);
    void (async () => {
      let took = 0;
      let failed = false;
      try {
        for (;;) {
          const started = Date.now();
          const n = await this.redeliverQueued();
          took += n;
          if (n === 0 || this.stopped) break;
          const budgetMs = (n * 1000) / this.s.redelivery.ratePerSec;
          const wait = budgetMs - (Date.now() - started);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      } catch (e) {
        failed = true;
        this.context.logger.warn('Re-delivering queued entities failed; will retry', { error: String(e) });
      } finally {
        this.redelivering = false;
        const { pollIntervalMs, pollIntervalMaxMs } = this.s.redelivery;
        this.redeliveryWaitMs = nextRedeliveryWaitMs(
          this.redeliveryWaitMs,
          took > 0 || failed || this.redeliveryAgain,
          {
            pollIntervalMs,
            pollIntervalMaxMs,
          },
        );
        this.armRedelivery(this.redeliveryWaitMs);
      }
    })();
  }

  /** The next look at the re-delivery queue, `ms` from now (one timer: re-arming replaces it). */
  private armRedelivery(ms: number): void {
    if (this.redeliveryTimer) clearTimeout(this.redeliveryTimer);
    if (this.stopped) return;
    this.redeliveryDueAt = Date.now() + Math.max(0, ms);
    this.redeliveryTimer = setTimeout(() => this.scheduleRedelivery(), Math.max(0, ms));
    this.redeliveryTimer.unref();
  }

  /**
   * One batch of queued re-deliveries of this connector (the slots of this task): each entity is decided again at
   * the origin's current version under the same mutex as put(), so a live record of the same key is either decided
   * before (the ledger then holds it and the re-delivery carries the same or a newer version) or after (and wins by
   * its version). That holds inside one task only: a connector whose re-delivery and live records may run in
   * different tasks without a destination-side guard takes nothing (redeliveryRefusal). Answers how many it took.
   */
  async redeliverQueued(): Promise<number> {
    return this.mutex.run(async () => {
      if (this.stopped) return 0;
      const refusal = redeliveryRefusal(this.s, this.tasksMax);
      if (refusal !== null) {
        // Rows queued before a scale-out stay pending (resumable once tasks.max is 1 again), never half done.
        if (!this.refusalWarned) {
          const waiting = await this.queue.take(this.context.connectorName, slotsOf(0, 1), 1);
          if (waiting.length > 0) {
            this.refusalWarned = true;
            this.context.logger.warn('Queued re-deliveries left pending', {
              code: refusal.code,
              reason: refusal.message,
            });
          }
        }
        return 0;
      }
      const limit = Math.max(1, Math.min(this.s.batchSize, this.s.redelivery.ratePerSec));
      const items = await this.queue.take(
        this.context.connectorName,
        slotsOf(this.context.taskId, this.tasksMax),
        limit,
      );
      if (items.length === 0) return 0;
      const outcomes: Array<{ item: QueuedItem; outcome: RedeliveryOutcome }> = [];
      const works: Work[] = [];
      const byWork = new Map<Work, QueuedItem>();
      // A target to withdraw from must be one this connector could have written (its topic or table template), or
      // one the ledger says this customer holds the entity at: after the template changed (the integration moved
      // to another topic) the old target is both, the reconcile reports the entity extra there and missing at the
      // new one, and this one item (the queue keeps one per entity) must fix both.
      const template = this.s.destination.topic ?? this.s.destination.table;
      const foreign = new Set(
        items.filter((i) => i.target !== undefined && (template === null || !templateMatches(template, i.target))),
      );
      const held =
        foreign.size > 0
          ? await this.ledger.get(
              this.s.destination.name,
              this.s.entity,
              [...foreign].map((i) => i.entityId),
            )
          : new Map<string, LedgerEntry>();
      for (const item of items) {
        let id: EntityId;
        try {
          id = idOf(item.entityId, this.s.keyColumns.length);
          // Invariant: queued ids are written by this connector with its key columns; a bad row is caught below.
          if (!Array.isArray(id) || id.length !== this.s.keyColumns.length) throw new Error('wrong key arity');
        } catch {
          this.context.logger.warn('Queued re-delivery names no entity of this connector; skipped', {
            entityId: item.entityId.slice(0, 200),
          });
          outcomes.push({ item, outcome: 'failed' });
          continue;
        }
        const target = item.target;
        if (
          target !== undefined &&
          foreign.has(item) &&
          !(held.get(item.entityId)?.targets ?? []).some((t) => t.target === target)
        ) {
          this.context.logger.warn(
            'Queued withdrawal names a target this connector never writes and the ledger does not list; skipped',
            { entityId: item.entityId.slice(0, 200), target: target.slice(0, 200) },
          );
          outcomes.push({ item, outcome: 'failed' });
          continue;
        }
        const w: Work = {
          idText: item.entityId,
          id,
          version: -1n,
          record: null,
          parked: null,
          reeval: true,
          force: true,
          ...(item.action === 'withdraw' && item.target !== undefined ? { extraTargets: [item.target] } : {}),
        };
        works.push(w);
        byWork.set(w, item);
      }
      const batch = await this.decide(works);
      let sent: Sent;
      try {
        await this.settle();
        await this.recording;
        try {
          sent = await batch.send();
          await batch.record(sent);
        } catch (e) {
          if (this.pipelined) this.failDelivery(e);
          throw e;
        }
      } finally {
        await batch.release();
      }
      const plan = batch.plan;
      const ids = (list: ReadonlyArray<{ work: Work }>) => new Set(list.map((x) => x.work.idText));
      const delivered = ids(sent.delivered);
      const removed = ids(plan?.removals ?? []);
      const failed = ids(plan?.dlq ?? []);
      const waiting = new Set((plan?.waiting ?? []).map((w) => w.idText));
      for (const w of works) {
        const item = byWork.get(w)!;
        const outcome: RedeliveryOutcome = delivered.has(w.idText)
          ? 'delivered'
          : removed.has(w.idText)
            ? 'withdrawn'
            : failed.has(w.idText)
              ? 'failed'
              : waiting.has(w.idText)
                ? 'waiting'
                : 'unchanged';
        outcomes.push({ item, outcome });
      }
      await this.queue.complete(this.context.connectorName, outcomes);
      this.m.redelivered += delivered.size + removed.size;
      await this.refreshStats();
      return items.length;
    });
  }

  /**
   * One background re-check at a time: a re-check slower than park.check.interval.ms (a busy database, entities other
   * tasks hold) must not queue more of them on the mutex, where put() and preCommit() would wait behind all of them.
   * A request while one runs is served right after it.
   */
  private scheduleCheck(): void {
    if (this.stopped) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      this.checking = true;
      this.checkAgain = false;
      this.checkParked()
        .catch((e: unknown) =>
          this.context.logger.warn('Re-checking parked records failed; will retry', { error: String(e) }),
        )
        .finally(() => {
          this.checking = false;
          if (this.checkAgain) this.scheduleCheck();
        });
    });
  }

  /**
   * park.check.interval.ms: re-check parked records. With the park known empty the tick does nothing until the
   * periodic exact count is due (STATS_REFRESH_MS; it is what notices rows another task parked); a delivery woken
   * in this process counts at once.
   */
  private onCheckTick(): void {
    if (!this.parkMayHold && Date.now() - this.statsReadAt < STATS_REFRESH_MS) return;
    this.scheduleCheck();
  }

  /**
   * A parent was delivered somewhere in this process. The children waiting for it are found through the park
   * table's waiting_on index at the next check, so memory does not grow with the number of parked keys.
   */
  private onDelivered(keys: readonly string[]): void {
    let any = false;
    for (const k of keys) {
      if (this.wakePrefixes.some((p) => k.startsWith(p))) {
        this.delivered.add(k);
        any = true;
      }
    }
    if (any) this.scheduleCheck();
  }

  private async reject(record: SinkRecord, error: Error): Promise<void> {
    const reporter = this.context.errantRecordReporter;
    if (!reporter) throw error;
    await reporter.report(record, error);
    const d = this.s.destination.name;
    this.m.dlq[d] = (this.m.dlq[d] ?? 0) + 1;
  }

  private backoff(attempts: number): number {
    const base = Math.min(this.s.retryMaxMs, this.s.retryInitialMs * 2 ** Math.min(attempts, 30));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  /**
   * Reads and decides one batch; returns its two delivery stages: send (the destination) and record (ledger and
   * park writes). Callers start a send only after the previous batch's send, and a record only after the previous
   * record, so deliveries, ledger writes and committable offsets keep their order. The decisions themselves are
   * planner.ts's; this method does the reads and hands their results over.
   */
  private async decide(all: Work[], options: { skipLocked?: boolean } = {}): Promise<DecidedBatch> {
    const none: DecidedBatch = {
      plan: null,
      send: async () => EMPTY_SENT,
      record: async () => {},
      release: async () => {},
    };
    if (all.length === 0) return none;
    if (this.locks === null) return this.decideLocked(all, null);
    // Taken before anything is read: what another task sent of these entities is in the ledger by then. A background
    // re-check takes only free ones: an entity another task holds is being decided there right now.
    const held = await this.locks.acquire(
      all.map((w) => w.idText),
      { wait: options.skipLocked !== true },
    );
    const input = all.filter((w) => held.ids.has(w.idText));
    if (input.length < all.length) this.skippedLocked = true;
    try {
      if (input.length === 0) {
        await held.release();
        return none;
      }
      return await this.decideLocked(input, held);
    } catch (e) {
      await held.release();
      throw e;
    }
  }

  private async decideLocked(input: Work[], held: HeldLocks | null): Promise<DecidedBatch> {
    const { destination: dest, entity } = { destination: this.s.destination.name, entity: this.s.entity };
    const now = Date.now();
    // The three reads are independent: one round trip of latency instead of three. Rows of records that turn
    // out stale are read for nothing, which costs less than waiting twice.
    const seq = ++this.batchSeq;
    const fresh = input.filter((w) => w.parked === null);
    // Taken before the reads: a batch recorded while they run drops its entries here, and its park write may have
    // landed after the read's snapshot (the key would look unparked, and be parked and counted again).
    const inFlightParks = new Map<string, ParkedRecord | null>();
    for (const w of fresh) {
      const f = this.inFlightParks.get(w.idText);
      if (f !== undefined) inFlightParks.set(w.idText, f.parked);
    }
    const before = this.origin.queries;
    const [ledger, parked, lookup] = await Promise.all([
      this.ledger.get(
        dest,
        entity,
        input.map((w) => w.idText),
      ),
      fresh.length > 0 ? this.park.get(fresh.map((w) => w.idText)) : Promise.resolve(new Map<string, ParkedRecord>()),
      this.origin.rows(input.map((w) => w.id)),
    ]);
    this.m.lookupQueries += this.origin.queries - before;
    // The previous batch's park writes may not have landed when these reads ran: its outcome is the truth.
    for (const [id, p] of inFlightParks) {
      if (p === null) parked.delete(id);
      else parked.set(id, p);
    }
    // A record at the ledger's version is stale only where its rows route to targets holding that version (a
    // changed destination.table or topic is filled by the records consumed again).
    const routed = routedTargets(lookup.rows, (row, id) => this.destination.targetOf(row, id));
    const resolved = resolveWorks(input, ledger, parked, routed);
    this.m.staleDropped += resolved.staleDropped;
    this.m.superseded += resolved.superseded;
    const cands = candidatesOf(resolved.live, lookup, this.s.versionColumn);
    const depBefore = this.deps.sqlQueries;
    const readiness = await this.deps.check(cands.candidates);
    this.m.dependencyQueries += this.deps.sqlQueries - depBefore;
    const plan = planBatch(cands, readiness, ledger, {
      now,
      parkMaxDurationMs: this.s.parkMaxDurationMs,
      deleteMode: this.s.destination.deleteMode,
      withdrawMode: this.s.destination.withdrawMode,
      waitingRecheckMs: this.s.retryMaxMs,
      backoff: (attempts) => this.backoff(attempts),
      targetOf: (row, id) => this.destination.targetOf(row, id),
      ...(this.shaper ? { shape: this.shaper.shape.bind(this.shaper) } : {}),
      ...(this.destination.deliveredKey ? { deliveredKey: this.destination.deliveredKey.bind(this.destination) } : {}),
      encode: encodeRecord,
    });
    plan.unpark.push(...resolved.unpark);
    this.m.filtered += plan.filtered;
    // Reported before anything of the batch is sent: a retriable failure later leaves nothing reported twice.
    for (const x of plan.dlq) await this.expire(x.work, x.error);
    // The destination commits the ledger entries with the delivery: no crash leaves one without the other.
    const writes =
      this.ledgerAlongside && plan.deliveries.length > 0 ? this.ledgerWrites(plan, plan.deliveries, []) : null;
    const statements = writes && this.ledger.recordStatements(dest, entity, writes);
    const alongside = writes && statements ? { writes, statements } : null;
    // Else before anything of the batch is sent: a crash after the send leaves the new targets listed (intentWritesOf).
    const intents = plan.deliveries.length > 0 && alongside === null ? intentWritesOf(plan) : [];
    // Pipelined, a batch's send overtakes the previous batch's record(): an entry committed here for an entity whose
    // ledger write is still to come there (at the same version, with other targets: a withdrawal) would be
    // overwritten by that older write, and the ledger would no longer list a target that holds the entity.
    if (this.pipelined && alongside?.writes.some((w) => this.recordedLater.has(w.entityId))) await this.recording;
    if (intents.length > 0) {
      // Pipelined: the previous batch's ledger write of the same entity, at the same version, would drop the targets
      // named here if it landed later.
      if (this.pipelined && intents.some((w) => this.ledger.inFlight(dest, entity, w.entityId))) await this.recording;
      await this.ledger.intend(dest, entity, intents);
    }

    let remembered: Remembered | null = null;
    if (this.pipelined) {
      // Keys that leave the park (delivered, deleted, obsolete) and keys parked, as the next batch must see them.
      for (const u of plan.unpark) this.inFlightParks.set(u.entityId, { seq, parked: null });
      for (const o of plan.outcomes) if (o.work.parked) this.inFlightParks.set(o.work.idText, { seq, parked: null });
      for (const p of plan.toPark) this.inFlightParks.set(p.entityId, { seq, parked: p });
      // The next batch is decided before this one's ledger write lands: it must already see these versions.
      remembered = this.ledger.remember(
        dest,
        entity,
        alongside?.writes ?? this.ledgerWrites(plan, plan.deliveries, []),
      );
    }
    const b: BatchPlan = { ...plan, works: resolved.live, alongside };
    const later = alongside === null ? plan.outcomes.map((o) => o.work.idText) : [];
    for (const id of later) this.recordedLater.set(id, (this.recordedLater.get(id) ?? 0) + 1);
    let released = false;
    return {
      plan: b,
      send: () => this.send(b),
      record: async (sent) => {
        await this.record(b, sent);
        for (const [id, f] of this.inFlightParks) if (f.seq === seq) this.inFlightParks.delete(id);
        if (remembered) this.ledger.forget(remembered);
      },
      release: async () => {
        if (!released) {
          released = true;
          for (const id of later) {
            const n = this.recordedLater.get(id)! - 1;
            if (n === 0) this.recordedLater.delete(id);
            else this.recordedLater.set(id, n);
          }
        }
        await held?.release();
      },
    };
  }

  /** Ledger writes of a batch's entities, given what the destination took and which withdrawals it refused. */
  private ledgerWrites(
    plan: Plan,
    delivered: ReadonlyArray<PlannedDelivery>,
    unwithdrawn: ReadonlyArray<PlannedRemoval>,
    refusedGone: ReadonlySet<Work> = new Set(),
  ): LedgerWrite[] {
    const byWork = new Map<Work, PlannedDelivery[]>();
    for (const d of delivered) byWork.set(d.work, [...(byWork.get(d.work) ?? []), d]);
    return plan.outcomes
      .filter((o) => !refusedGone.has(o.work))
      .map((o) => {
        const w = ledgerWriteOf(
          o,
          byWork.get(o.work) ?? [],
          unwithdrawn.filter((r) => r.work === o.work),
        );
        // A forced re-delivery without a record of its own was decided at the origin's version (planner.ts): the
        // ledger takes that version even if it claimed a higher one.
        const forced = o.work.force === true && o.work.record === null && o.work.parked === null;
        return forced ? { ...w, replace: true } : w;
      });
  }

  /** The destination side of a batch: withdrawals, deliveries and deletes; refused items go to the DLQ. */
  private async send(b: BatchPlan): Promise<Sent> {
    const { deliveries, removals, unpark } = b;
    const refusedRemovals =
      removals.length > 0 ? await this.refuse(await this.destination.remove(removals), removals, unpark) : [];
    let delivered: PlannedDelivery[] = [];
    if (b.alongside) {
      // All or nothing (Destination.sharesTransactionsWith): the writes decided before the send are the ones earned.
      const refused = await this.destination.deliver(deliveries, b.alongside.statements);
      if (refusedRemovals.length > 0 || refused.length > 0) {
        // Invariant: a destination that shares transactions never refuses an item (Destination.sharesTransactionsWith).
        throw new Error(
          `Destination ${this.s.destination.name} refused items of a delivery it committed with its ledger entries`,
        );
      }
      for (const d of deliveries) if (d.work.parked) unpark.push({ entityId: d.entityId, version: d.work.version });
      const deleted = b.outcomes.filter((o) => o.deleted).length;
      return { writes: b.alongside.writes, delivered: deliveries, deleted, recorded: true };
    }
    if (deliveries.length > 0) {
      const refused = await this.refuse(await this.destination.deliver(deliveries), deliveries, unpark);
      const no = new Set(refused);
      delivered = deliveries.filter((d) => !no.has(d));
    }
    for (const d of delivered) if (d.work.parked) unpark.push({ entityId: d.entityId, version: d.work.version });
    const refusedGone = new Set(refusedRemovals.filter((r) => r.kind === 'gone').map((r) => r.work));
    const unwithdrawn = refusedRemovals.filter((r) => r.kind === 'withdraw');
    const writes = this.ledgerWrites(b, delivered, unwithdrawn, refusedGone);
    const goneWorks = new Set(b.outcomes.filter((o) => o.deleted).map((o) => o.work));
    const deleted = [...goneWorks].filter((w) => !refusedGone.has(w)).length;
    return { writes, delivered, deleted };
  }

  /** The task's own state for a sent batch: ledger, park and counters, in one round trip of independent writes. */
  private async record(b: BatchPlan, sent: Sent): Promise<void> {
    const { works, toPark, unpark } = b;
    const { destination: dest, entity } = { destination: this.s.destination.name, entity: this.s.entity };
    // A key is either parked or unparked by one batch; a parked key keeps its newest version (guarded).
    const parkedIds = new Set(toPark.map((p) => p.entityId));
    const leaving = unpark.filter((u) => !parkedIds.has(u.entityId));
    // The ledger first: a parked record's offset was committed when it was parked, so once its park row is gone
    // only the ledger remembers its delivery. A crash between the two leaves the park row, whose re-check finds
    // the ledger entry and drops it, instead of a delivery the ledger never learns of (and children that expire
    // waiting for it).
    if (toPark.length > 0) {
      // Before anything is awaited: an exact count running meanwhile must not conclude the park is empty.
      this.parkMayHold = true;
      this.parkWritesStarted++;
      this.parkWritesInFlight++;
    }
    let removed: number;
    try {
      if (sent.writes.length > 0 && sent.recorded !== true) await this.ledger.record(dest, entity, sent.writes);
      [, removed] = await Promise.all([
        toPark.length > 0 ? this.park.put(toPark) : undefined,
        leaving.length > 0 ? this.park.remove(leaving) : 0,
      ]);
    } finally {
      if (toPark.length > 0) this.parkWritesInFlight--;
    }
    this.m.delivered += sent.delivered.length;
    this.m.released += sent.delivered.filter((d) => d.work.parked).length;
    this.m.deleted += sent.deleted;
    this.m.withdrawn += b.removals.filter((r) => r.kind === 'withdraw').length;
    if (toPark.length > 0) {
      const before = new Set(works.filter((w) => w.parked !== null).map((w) => w.idText));
      for (const p of toPark) {
        if (!before.has(p.entityId)) this.m.parked++;
        if (p.reason.startsWith(WAITING_PREFIX)) continue;
        if (this.oldestFirstParkedAt === null || p.firstParkedAt < this.oldestFirstParkedAt) {
          this.oldestFirstParkedAt = p.firstParkedAt;
        }
      }
    }
    if (removed > 0) this.m.parked = Math.max(0, this.m.parked - removed);
    if (this.m.parked === 0) this.oldestFirstParkedAt = null;
    // The waiting count is shown exactly: re-read when this batch moved a key into or out of waiting.
    const isWaiting = (reason: string | undefined) => reason?.startsWith(WAITING_PREFIX) === true;
    if (toPark.some((p) => isWaiting(p.reason)) || works.some((w) => isWaiting(w.parked?.reason))) {
      this.statsReadAt = 0;
    }
    const now = sent.writes.filter((w) => !w.deleted && w.targets.length > 0);
    if (now.length > 0) wakeBus.publish(now.map((w) => ledgerKey(dest, entity, w.entityId)));
  }

  /** Sends refused items' records to the DLQ (once per record) and drops them from the park; returns the refused. */
  private async refuse<T extends { entityId: string; target: string; work: Work }>(
    rejections: readonly Rejection[],
    items: readonly T[],
    unpark: Array<{ entityId: string; version: bigint }>,
  ): Promise<T[]> {
    const refused: T[] = [];
    const reported = new Set<Work>();
    for (const r of rejections) {
      for (const item of items) {
        if (item.entityId !== r.entityId || (r.target !== undefined && item.target !== r.target)) continue;
        refused.push(item);
        if (reported.has(item.work)) continue;
        reported.add(item.work);
        await this.expire(item.work, r.error);
        if (item.work.parked) unpark.push({ entityId: r.entityId, version: item.work.version });
      }
    }
    return refused;
  }

  /** A record that will never be delivered: to the DLQ with the reason. */
  private async expire(w: Work, error: Error): Promise<void> {
    if (error instanceof PoisonIdError) this.m.poisoned++;
    const record = w.record ?? (w.parked ? decodeRecord(w.parked.record) : null);
    if (record) await this.reject(record, error);
  }

  /**
   * The parked count is kept up to date per batch from what this task parks and removes; the exact figures (which
   * include other tasks' parked keys of the same entity) are re-read at most every STATS_REFRESH_MS, so a large
   * park table is not counted on every batch.
   */
  private async refreshStats(exact = false): Promise<void> {
    if (exact || Date.now() - this.statsReadAt >= STATS_REFRESH_MS) {
      const writesBefore = this.parkWritesStarted;
      const st = await this.park.stats();
      this.parkMayHold = st.count > 0 || this.parkWritesStarted !== writesBefore || this.parkWritesInFlight > 0;
      this.m.parked = st.count;
      this.m.waiting = st.waiting;
      this.oldestFirstParkedAt = st.oldestFirstParkedAt;
      this.statsReadAt = Date.now();
    }
    this.m.oldestParkedAgeMs = this.oldestFirstParkedAt === null ? null : Date.now() - this.oldestFirstParkedAt;
    this.context.status.progress({ ...this.metrics() });
  }
}
