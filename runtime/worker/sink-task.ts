import {
  type Converter,
  DataError,
  type Headers,
  type Logger,
  RetriableError,
  type SchemaAndValue,
  type SinkRecord,
  type SinkTask,
  sleep,
  type TopicPartition,
  topicPartitionKey,
} from '../api/index.js';
import type { ErrorReporter, FailureContext } from '../errors/reporter.js';
import { outageOf, waitingStatus } from '../errors/outage.js';
import { type ErrorHandlingConfig, RetryWithToleranceOperator } from '../errors/retry.js';
import { isRebalanceError, isTransientKafkaError } from '../kafka/index.js';
import type { TransformChain } from '../transforms/index.js';
import { redrivenForOther } from '../errors/redrive.js';
import type { ConsumerPort, InRecord } from './kafka-port.js';
import { SinkOffsetTracker } from './sink-offsets.js';
import {
  SKIPPED,
  closeQuietly,
  headersToRaw,
  rawToHeaders,
  type TaskConverters,
  type TaskListener,
} from './task-context.js';

export interface SinkTaskDeps {
  connector: string;
  taskId: number;
  task: SinkTask;
  taskClass: string;
  props: Readonly<Record<string, string>>;
  subscription: { topics: string[] } | { regex: RegExp };
  chain: TransformChain<SinkRecord>;
  converters: TaskConverters;
  consumer: ConsumerPort;
  errors: ErrorHandlingConfig;
  reporter: ErrorReporter;
  logger: Logger;
  listener: TaskListener;
  onTopic(topic: string): void;
  metrics?: {
    consumed(n: number): void;
    put(n: number): void;
    offsetCommit(ms: number): void;
    deliveryLag?(ms: number): void;
  };
  /** How long offsets a commit could not cover yet wait before the next try (`offset.flush.interval.ms`). */
  commitIntervalMs?: number;
}

const tpKey = topicPartitionKey;

/** The distinct partitions of a batch (one, from the Kafka consumer), without a lookup per record. */
function partitionsOf(batch: readonly InRecord[]): Array<{ topic: string; partition: number }> {
  const out: Array<{ topic: string; partition: number }> = [];
  for (const m of batch) {
    const last = out[out.length - 1];
    if (last?.topic === m.topic && last.partition === m.partition) continue;
    if (!out.some((p) => p.topic === m.topic && p.partition === m.partition)) out.push(m);
  }
  return out;
}

function sinkRecord(m: InRecord, headers: Headers, key: SchemaAndValue, value: SchemaAndValue): SinkRecord {
  return {
    topic: m.topic,
    kafkaPartition: m.partition,
    keySchema: key.schema,
    key: key.value,
    valueSchema: value.schema,
    value: value.value,
    timestamp: m.timestamp,
    headers,
    kafkaOffset: m.offset,
    timestampType: 'CreateTime',
    originalTopic: m.topic,
    originalKafkaPartition: m.partition,
    originalKafkaOffset: m.offset,
  };
}

/** put() gave up on a retriable failure because the task is stopping (see onBatch). */
class StoppedWhileWaiting extends Error {
  constructor(cause: unknown) {
    super('The task stopped while put() waited out a retriable failure; the batch is left uncommitted', { cause });
    this.name = 'StoppedWhileWaiting';
  }
}

/**
 * Runs one sink task: consume (group connect-<name>) → converters → transforms → put → commit the
 * consumer offsets the task says are safe (preCommit; by default everything put), and past records the
 * worker dropped (filtered by a transform, skipped under errors.tolerance=all). A record failing a
 * converter or transform goes to the DLQ when errors.tolerance=all.
 */
export class WorkerSinkTask {
  private stopping = false;
  /** A batch put() could not finish was left to the next owner (see onBatch): no commit may cover it. */
  private abandoned = false;
  /** Aborted by stop(): put()'s backoff on a retriable failure ends at once. */
  private readonly stopSignal = new AbortController();
  private running: Promise<void> | null = null;
  private readonly op: RetryWithToleranceOperator<FailureContext>;
  /** The records of the batch being processed, so ErrantRecordReporter can find their original bytes. */
  private inFlight: InRecord[] = [];
  /** inFlight by topic, partition and offset; built at the first report of a batch (reports are rare). */
  private inFlightIndex: Map<string, InRecord> | null = null;
  private failed = false;
  /** The failed task's consumer, task and transforms closing (see fail()). */
  private failureClose: Promise<void> = Promise.resolve();
  private readonly offsets = new SinkOffsetTracker();
  private queue: Promise<unknown> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | null = null;
  private assigned: TopicPartition[] = [];
  /** Offsets the task asked for (SinkTaskContext.offset), not applied yet. */
  private readonly rewinds = new Map<string, { tp: TopicPartition; offset: bigint }>();

  constructor(private readonly d: SinkTaskDeps) {
    // A registry outage while converting is waited out (status "waiting for the schema registry"), not tolerated.
    this.op = new RetryWithToleranceOperator<FailureContext>(
      d.errors,
      (f, ctx, tolerated) => d.reporter.report(f, ctx, tolerated),
      { onWaiting: d.listener.onWaiting?.bind(d.listener) },
    );
  }

  errantRecordFinder(): (r: SinkRecord) => Promise<FailureContext['consumed']> {
    return async (r) => {
      this.inFlightIndex ??= new Map(this.inFlight.map((m) => [`${m.topic}\0${m.partition}\0${m.offset}`, m]));
      return (
        this.inFlightIndex.get(`${r.originalTopic}\0${r.originalKafkaPartition}\0${r.originalKafkaOffset}`) ??
        (await this.reserialize(r))
      );
    };
  }

  /**
   * A record the task reports after its batch is gone (one it parked, say) has no consumed bytes left:
   * serialize it again with the task's converters, as Connect's WorkerErrantRecordReporter does, rather
   * than lose it.
   */
  private async reserialize(r: SinkRecord): Promise<NonNullable<FailureContext['consumed']>> {
    const c = this.d.converters;
    return {
      topic: r.originalTopic,
      partition: r.originalKafkaPartition,
      offset: r.originalKafkaOffset,
      key: await c.key.fromConnectData(r.topic, r.headers, r.keySchema, r.key),
      value: await c.value.fromConnectData(r.topic, r.headers, r.valueSchema, r.value),
      headers: headersToRaw(r.topic, r.headers, c.header),
      timestamp: r.timestamp ?? Date.now(),
    };
  }

  async start(paused: boolean): Promise<void> {
    const { d } = this;
    try {
      await d.task.start(d.props);
    } catch (error) {
      d.listener.onState('FAILED', error);
      return;
    }
    if (paused) this.pause();
    else d.listener.onState('RUNNING');
    this.running = d.consumer
      .run(
        d.subscription,
        // A batch queued behind open() or a put() that moved its partition is obsolete by the time it runs.
        (batch, stale) => this.serial(() => (stale?.() ? Promise.resolve() : this.onBatch(batch))),
        (partitions) => this.onAssignment(partitions),
        (error) => this.fail(error),
      )
      .catch((error: unknown) => {
        this.fail(error);
      });
  }

  /**
   * SinkTaskContext.offset: where these partitions' next records start. Applied, as in Connect, before the next
   * batch is read (after the current put(), open() or close()); the committed offset follows, so a restart resumes
   * there too.
   */
  rewind(offsets: ReadonlyMap<TopicPartition, bigint>): void {
    for (const [tp, offset] of offsets) {
      if (offset < 0n)
        throw new DataError(`SinkTaskContext.offset: offset ${offset} of ${tp.topic}-${tp.partition} is negative`);
      this.rewinds.set(tpKey(tp.topic, tp.partition), { tp, offset });
    }
  }

  /** Seeks the consumer to the requested offsets of assigned partitions; returns the partitions it moved. */
  private applyRewinds(): Set<string> {
    const moved = new Set<string>();
    for (const [k, { tp, offset }] of this.rewinds) {
      if (!this.assigned.some((p) => p.topic === tp.topic && p.partition === tp.partition)) {
        this.d.logger.warn(`Task ${this.d.connector}-${this.d.taskId} asked to rewind a partition it does not own`, {
          partition: `${tp.topic}-${tp.partition}`,
          offset: offset.toString(),
        });
        continue;
      }
      this.d.consumer.seek(tp.topic, tp.partition, offset);
      this.offsets.rewind(tp.topic, tp.partition, offset);
      moved.add(k);
      this.d.logger.info(`Task ${this.d.connector}-${this.d.taskId} rewound ${tp.topic}-${tp.partition}`, {
        offset: offset.toString(),
      });
    }
    this.rewinds.clear();
    return moved;
  }

  /** The partitions this task's consumer owns now (SinkTaskContext.assignment). */
  assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  /**
   * A rebalance: partitions that moved to another member are forgotten at once, so no commit from here (one
   * already queued included) sets the new owner's offsets back. The task is told, as Connect's
   * onPartitionsRevoked/Assigned call SinkTask.close/open, after the batch in progress.
   */
  private onAssignment(partitions: ReadonlyArray<{ topic: string; partition: number }>): void {
    const has = (list: ReadonlyArray<{ topic: string; partition: number }>, p: TopicPartition) =>
      list.some((x) => x.topic === p.topic && x.partition === p.partition);
    const before = this.assigned;
    this.assigned = partitions.map((p) => ({ topic: p.topic, partition: p.partition }));
    this.offsets.retain(this.assigned);
    const revoked = before.filter((p) => !has(this.assigned, p));
    const added = this.assigned.filter((p) => !has(before, p));
    if (revoked.length > 0 || added.length > 0) {
      this.d.logger.info(`Task ${this.d.connector}-${this.d.taskId} partitions changed`, {
        revoked: revoked.map((p) => `${p.topic}-${p.partition}`),
        assigned: added.map((p) => `${p.topic}-${p.partition}`),
      });
    }
    void this.serial(async () => {
      if (revoked.length > 0) await this.d.task.close?.(revoked);
      if (added.length > 0) await this.d.task.open?.(added);
      if (this.rewinds.size > 0) this.applyRewinds();
    }).catch((error: unknown) => {
      this.fail(error);
    });
  }

  pause(): void {
    this.d.consumer.pause();
    this.d.listener.onState('PAUSED');
  }

  resume(): void {
    this.d.consumer.resume();
    this.d.listener.onState('RUNNING');
  }

  /**
   * SinkTaskContext.pause: these partitions' records wait until the task resumes them; the others flow and the
   * task's state does not change (Connect's semantics: a sink's backpressure, not an operator's pause). Partitions
   * not assigned to the task are ignored (Connect throws).
   */
  pausePartitions(partitions: readonly TopicPartition[]): void {
    const mine = this.ownPartitions(partitions, 'pause');
    if (mine.length > 0) this.d.consumer.pausePartitions(mine);
  }

  /** SinkTaskContext.resume of partitions the task paused. */
  resumePartitions(partitions: readonly TopicPartition[]): void {
    if (partitions.length > 0) this.d.consumer.resumePartitions(partitions);
  }

  private ownPartitions(partitions: readonly TopicPartition[], what: string): TopicPartition[] {
    const mine = partitions.filter((p) =>
      this.assigned.some((a) => a.topic === p.topic && a.partition === p.partition),
    );
    if (mine.length < partitions.length) {
      this.d.logger.warn(`Task ${this.d.connector}-${this.d.taskId} asked to ${what} partitions it does not own`, {
        partitions: partitions.filter((p) => !mine.includes(p)).map((p) => `${p.topic}-${p.partition}`),
      });
    }
    return mine;
  }

  /** Batches and commits run one at a time: a commit never sees a batch half put. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Offsets the task reports done after its batch was committed (a sink that writes asynchronously) are
   * committed every `commitIntervalMs`, as Connect commits on `offset.flush.interval.ms`, rather than
   * waiting for a next record that may never come.
   */
  private scheduleCommit(): void {
    const every = this.d.commitIntervalMs;
    if (every === undefined || this.commitTimer || this.stopping || this.failed) return;
    if (!this.offsets.hasUncommitted()) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      void this.serial(() => this.commitUncommitted()).catch((error: unknown) => {
        // preCommit failed: the task is broken (as when it happens after a batch).
        this.fail(error);
      });
    }, every);
    this.commitTimer.unref();
  }

  private async commitUncommitted(): Promise<void> {
    if (this.failed || this.abandoned) return;
    await this.commit(this.offsets.uncommittedPartitions());
  }

  /**
   * Reports the task FAILED and closes it. The close is not awaited: fail() is mostly called from inside a batch, and
   * kafkajs's consumer close waits for the batch in progress to end, which waited for the close: the failed task was
   * never stopped (its resources held) and its consumer kept the partitions until the session timed out, so a
   * restart delivered nothing for that long.
   */
  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.d.logger.error(`Task ${this.d.connector}-${this.d.taskId} failed`, { error });
    this.d.listener.onState('FAILED', error);
    this.failureClose = (async () => {
      await closeQuietly(this.d.logger, 'consumer', () => this.d.consumer.close());
      await closeQuietly(this.d.logger, 'sink task', () => this.d.task.stop());
      await closeQuietly(this.d.logger, 'transforms', () => this.d.chain.close());
    })();
  }

  /** Lets the batch in progress finish (put and commit), then closes the consumer and the task. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    let timer: NodeJS.Timeout | undefined;
    if (this.failed) {
      // A failed task is closing already: its consumer leaves the group before a restarted instance joins it.
      await Promise.race([this.failureClose, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      return;
    }
    if (this.commitTimer) clearTimeout(this.commitTimer);
    const closing = (async () => {
      // The batch in flight finishes first; then what it and earlier batches made safe is committed.
      await closeQuietly(this.d.logger, 'final offset commit', () => this.serial(() => this.commitUncommitted()));
      await closeQuietly(this.d.logger, 'consumer', () => this.d.consumer.close());
      await closeQuietly(this.d.logger, 'sink task', () => this.d.task.stop());
      await closeQuietly(this.d.logger, 'transforms', () => this.d.chain.close());
    })();
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    if ((await Promise.race([closing, timedOut])) === 'timeout') {
      this.d.logger.warn(`Graceful stop of task ${this.d.connector}-${this.d.taskId} timed out after ${timeoutMs} ms`);
    }
    clearTimeout(timer);
    this.d.listener.onState('UNASSIGNED');
  }

  private async onBatch(batch: InRecord[]): Promise<void> {
    const { d } = this;
    // While paused the consumer hands over nothing (kafka-port fetches it again after the resume); blocking here
    // instead would stop heartbeats and cost a rebalance.
    // Invariant: the task already failed with its own error; this only stops the batch (the consumer drops it).
    if (this.failed) throw new Error('task failed');
    // Fetched while stopping: left uncommitted for whoever consumes next.
    if (this.stopping) return;
    // Offsets the task asked for before this batch (in start() or open()): the batch of a rewound partition is
    // left for the consumer to fetch again from there.
    if (this.rewinds.size > 0) {
      const rewound = this.applyRewinds();
      const first = batch[0];
      if (first && rewound.has(tpKey(first.topic, first.partition))) return;
    }
    d.metrics?.consumed(batch.length);
    const records: SinkRecord[] = [];
    /** Per consumed record: 1 when its (transformed) record goes to put(); the others were dropped. */
    const handed = new Uint8Array(batch.length);
    this.inFlight = batch;
    this.inFlightIndex = null;
    try {
      let topic: string | null = null;
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i]!;
        if (m.topic !== topic) {
          topic = m.topic;
          d.onTopic(topic);
        }
        if (m.headers.length > 0 && redrivenForOther(m.headers, d.connector)) continue; // another connector's redrive
        let record = this.toSinkRecord(m);
        if (record instanceof Promise) record = await record;
        if (record === SKIPPED) continue;
        let out: SinkRecord | null;
        try {
          out = d.chain.apply(record);
        } catch (e) {
          const r = record;
          const t = await this.op.recover(
            'TRANSFORMATION',
            'transforms',
            () => d.chain.apply(r),
            { consumed: m, record },
            e,
          );
          if (!t.ok) continue;
          out = t.value;
        }
        if (out !== null) {
          records.push(out);
          handed[i] = 1;
        }
      }
      // Marked before put(): a record put() was given counts as pending until preCommit vouches for it.
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i]!;
        if (handed[i] === 1) this.offsets.put(m.topic, m.partition, m.offset);
        else this.offsets.dropped(m.topic, m.partition, m.offset);
      }
      await this.put(records);
      d.metrics?.put(records.length);
      observeDeliveryLag(d.metrics?.deliveryLag, records);
      if (this.rewinds.size > 0) this.applyRewinds();
      await this.commit(partitionsOf(batch));
    } catch (error) {
      // A batch whose put() was waiting out a destination outage when the task was asked to stop is left
      // uncommitted for the next owner: that is the stop, not a failure of the task (reporting FAILED here showed a
      // restarted task as FAILED, and an outage failure of an instance being replaced started a second one). The
      // tracker counts its records as handled (they were offered to put()), and a task without preCommit vouches for
      // whatever it is offered: so the stop commits nothing more, as after a failure.
      if (error instanceof StoppedWhileWaiting) {
        this.abandoned = true;
        return;
      }
      this.fail(error);
      throw error;
    } finally {
      this.inFlight = [];
      this.inFlightIndex = null;
    }
  }

  /**
   * A consumed record as the task's SinkRecord (before transforms). Converters with a synchronous form cost no
   * promise; a stage that throws goes through the retry-with-tolerance operator (`recover`: the same attempts,
   * reporting and DLQ as `execute`), and SKIPPED means the record was tolerated and dropped.
   */
  private toSinkRecord(m: InRecord): SinkRecord | typeof SKIPPED | Promise<SinkRecord | typeof SKIPPED> {
    const conv = this.d.converters;
    let headers: Headers;
    let key: SchemaAndValue | undefined;
    let value: SchemaAndValue | undefined;
    try {
      headers = rawToHeaders(m.topic, m.headers, conv.header);
    } catch (e) {
      return this.toSinkRecordSlowly(m, e);
    }
    try {
      key = conv.key.toConnectDataSync?.(m.topic, headers, m.key);
      if (key !== undefined) value = conv.value.toConnectDataSync?.(m.topic, headers, m.value);
    } catch {
      // The failing stage runs again on the slow path, which retries it and reports it under its own name.
      return this.toSinkRecordSlowly(m, null, headers, key);
    }
    if (key === undefined || value === undefined) return this.toSinkRecordSlowly(m, null, headers, key);
    return sinkRecord(m, headers, key, value);
  }

  /** The general path: each stage not converted yet goes through the retry-with-tolerance operator. */
  private async toSinkRecordSlowly(
    m: InRecord,
    headerError: unknown,
    converted?: Headers,
    convertedKey?: SchemaAndValue,
  ): Promise<SinkRecord | typeof SKIPPED> {
    const conv = this.d.converters;
    const ctx: FailureContext = { consumed: m };
    let headers = converted;
    if (headers === undefined) {
      const h = await this.op.recover(
        'HEADER_CONVERTER',
        conv.headerClass,
        () => rawToHeaders(m.topic, m.headers, conv.header),
        ctx,
        headerError,
      );
      if (!h.ok) return SKIPPED;
      headers = h.value;
    }
    const hs = headers;
    const read = async (
      stage: 'KEY_CONVERTER' | 'VALUE_CONVERTER',
      cls: string,
      c: Converter,
      bytes: Buffer | null,
    ) => {
      const r = await this.op.execute(stage, cls, () => c.toConnectData(m.topic, hs, bytes), ctx);
      return r.ok ? r.value : SKIPPED;
    };
    const key = convertedKey ?? (await read('KEY_CONVERTER', conv.keyClass, conv.key, m.key));
    if (key === SKIPPED) return SKIPPED;
    const value = await read('VALUE_CONVERTER', conv.valueClass, conv.value, m.value);
    if (value === SKIPPED) return SKIPPED;
    return sinkRecord(m, hs, key, value);
  }

  private async put(records: SinkRecord[]): Promise<void> {
    let delay = 300;
    let since = 0;
    for (;;) {
      try {
        await this.d.task.put(records);
        if (since !== 0) this.d.listener.onWaiting?.(null);
        return;
      } catch (e) {
        // Connect redelivers the same batch after a RetriableException from put().
        if (!(e instanceof RetriableError)) throw e;
        if (this.stopping) throw new StoppedWhileWaiting(e);
        if (since === 0) since = Date.now();
        this.d.listener.onWaiting?.(waitingStatus(outageOf(e) ?? 'the destination', since, e));
        this.d.logger.warn('Retriable error from put(); redelivering the batch', { error: e, delayMs: delay });
        // A stop ends the wait at once: the batch is left for the next owner (the graceful stop timeout is shorter
        // than the longest wait).
        await sleep(delay, this.stopSignal.signal);
        if (this.stopping) throw new StoppedWhileWaiting(e);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /**
   * Commits what is safe: the task's preCommit answer for the records it was given, moved past the records
   * the worker dropped itself (see SinkOffsetTracker). Like Connect, preCommit is offered the offsets of
   * every record handled, put or dropped.
   */
  private async commit(partitions: Iterable<{ topic: string; partition: number }>): Promise<void> {
    const current = this.offsets.current(partitions);
    if (current.size === 0) return;
    const safe = this.d.task.preCommit ? await this.d.task.preCommit(new Map(current)) : current;
    const { offsets, ignored } = this.offsets.committable(current, safe);
    for (const o of ignored) {
      this.d.logger.warn(
        `Ignoring the offset ${o.offset} preCommit returned for ${o.topic}-${o.partition}: not consumed yet`,
      );
    }
    if (offsets.length > 0) {
      const started = Date.now();
      try {
        await this.d.consumer.commit(offsets);
        this.offsets.committed(offsets);
        this.d.metrics?.offsetCommit(Date.now() - started);
      } catch (e) {
        // As in Connect, a failed commit is not fatal: the offsets stay uncommitted and go with the next commit (a
        // restart meanwhile redelivers, at least once). A broker outage or a group rebalance must not fail the task.
        if (!isTransientKafkaError(e) && !isRebalanceError(e)) throw e;
        this.d.logger.warn('Offset commit failed (transient); the offsets go with the next commit', { error: e });
      }
    }
    this.scheduleCommit();
  }
}

/**
 * Delivery lag (Kafka record timestamp → put() done) for the console and /metrics: put() returns once the
 * records are delivered (or parked). Only a batch's first and last records are read.
 */
function observeDeliveryLag(observe: ((ms: number) => void) | undefined, records: readonly SinkRecord[]): void {
  if (!observe || records.length === 0) return;
  const now = Date.now();
  const first = records[0]!.timestamp;
  const last = records[records.length - 1]!.timestamp;
  if (first !== null && first > 0) observe(now - first);
  if (records.length > 1 && last !== null && last > 0) observe(now - last);
}
