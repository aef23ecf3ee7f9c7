import {
  type Converter,
  type Logger,
  RetriableError,
  type Schema,
  type SourceOffset,
  type SourcePartition,
  type SourceRecord,
  type SourceTask,
  Struct,
  structValuesOf,
} from '../api/index.js';
import { fallbackBytes } from '../errors/dlq.js';
import type { ErrorReporter, FailureContext } from '../errors/reporter.js';
import { outageOf, waitingStatus } from '../errors/outage.js';
import {
  type ErrorHandlingConfig,
  RetryWithToleranceOperator,
  StoppedWhileWaitingError,
  waitOutOutage,
} from '../errors/retry.js';
import { isUnknownTopicError } from '../kafka/index.js';
import type { TransformChain } from '../transforms/index.js';
import type { Ack, OutRecord, ProducerPort, RawHeaders, TransactionalProducerPort } from './kafka-port.js';
import { canonicalJson, type OffsetEntry, type OffsetStore } from './stores.js';
import { closeQuietly, Gate, headersToRaw, SKIPPED, type TaskConverters, type TaskListener } from './task-context.js';
import { sleep } from '../api/sleep.js';

export interface SourceTaskDeps {
  connector: string;
  taskId: number;
  task: SourceTask;
  taskClass: string;
  props: Readonly<Record<string, string>>;
  chain: TransformChain<SourceRecord>;
  converters: TaskConverters;
  producer: ProducerPort;
  offsets: OffsetStore;
  errors: ErrorHandlingConfig;
  reporter: ErrorReporter;
  logger: Logger;
  listener: TaskListener;
  offsetFlushIntervalMs: number;
  onTopic(topic: string): void;
  /** Creates a topic the first time the task writes to it (the client never auto-creates). */
  ensureTopic(topic: string): Promise<void>;
  metrics?: {
    polled(n: number): void;
    produced(n: number): void;
    offsetCommit(ms: number): void;
    captureLag?(ms: number): void;
  };
  /**
   * Exactly-once (KIP-618): records and their source offsets go to Kafka in one transaction, committed
   * after every poll (`poll`) or every intervalMs (`interval`); `producer` is then unused.
   */
  transactions?: {
    producer: TransactionalProducerPort;
    boundary: 'poll' | 'interval' | 'connector';
    /** boundary=connector: what the task asked for through its TransactionContext. */
    requests?: TransactionRequests;
    intervalMs: number;
    /** The offsets-topic records for these entries (written inside the transaction). */
    offsetRecords(entries: readonly OffsetEntry[]): OutRecord[];
  };
}

/**
 * The task's TransactionContext (transaction.boundary=connector): commit or abort after a given record,
 * or after the batch being processed.
 */
export class TransactionRequests {
  private readonly byRecord = new Map<SourceRecord, 'commit' | 'abort'>();
  batch: 'commit' | 'abort' | null = null;
  commitTransaction(record?: SourceRecord): void {
    if (record) this.byRecord.set(record, 'commit');
    else this.batch = 'commit';
  }
  abortTransaction(record?: SourceRecord): void {
    if (record) this.byRecord.set(record, 'abort');
    else this.batch = 'abort';
  }
  take(record: SourceRecord): 'commit' | 'abort' | undefined {
    const v = this.byRecord.get(record);
    this.byRecord.delete(record);
    return v;
  }
}

/**
 * Canonical keys of frozen partitions of plain values (which cannot change after they were handed out): tasks that
 * reuse one such object per partition pay for the canonical JSON once, not once per batch.
 */
const frozenPartitionKeys = new WeakMap<SourcePartition, string>();

/**
 * The most records and key+value bytes converted before they are sent (at-least-once). Each slice is sent while the
 * next is converted: with max.batch.size=8192 the worker held a whole converted batch in flight and built another.
 */
const SLICE_RECORDS = 2048;
const SLICE_BYTES = 2 * 1024 * 1024;

function partitionKey(p: SourcePartition): string {
  const cached = frozenPartitionKeys.get(p);
  if (cached !== undefined) return cached;
  const k = canonicalJson(p);
  const immutable = Object.isFrozen(p) && Object.values(p).every((v) => typeof v !== 'object' || v === null);
  if (immutable) frozenPartitionKeys.set(p, k);
  return k;
}

/** A batch's offsets, in poll order: canonical partition key, partition, offset. */
type PendingOffsets = Array<[string, Record<string, unknown>, SourceOffset]>;

/**
 * Runs one source task: poll → transforms → converters → produce → (after Kafka acknowledged the
 * batch) remember the offsets → flush them to the offset store every offset.flush.interval.ms and on stop.
 * A record that fails a transform or converter goes to the DLQ when errors.tolerance=all, and its offset
 * still advances (it was handled); with tolerance none the task fails and the offset does not move.
 */
export class WorkerSourceTask {
  private stopping = false;
  private readonly pauseGate = new Gate();
  private loop: Promise<void> | null = null;
  /** Acknowledged, not yet flushed: canonical partition key → [partition, offset]. */
  private pending = new Map<string, [Record<string, unknown>, SourceOffset]>();
  private lastFlush = Date.now();
  private readonly knownTopics = new Set<string>();
  private readonly op: RetryWithToleranceOperator<FailureContext>;
  /** Exactly-once: records sent in the open transaction, told to commitRecord() once it commits. */
  private uncommitted: Array<[SourceRecord, Ack | undefined]> = [];
  /**
   * The batch being sent (at-least-once mode): the next batch is polled and converted while Kafka acknowledges
   * this one, and is sent once this one's acks and offsets are recorded. One batch in flight keeps memory bounded
   * by max.batch.size and offsets recorded in poll order.
   */
  private inflight: Promise<void> = Promise.resolve();

  /** Aborted on stop: a wait for an outage ends at once (the batch stays unacknowledged and is polled again). */
  private readonly stopSignal = new AbortController();

  constructor(private readonly d: SourceTaskDeps) {
    const waiting = { signal: this.stopSignal.signal, onWaiting: d.listener.onWaiting?.bind(d.listener) };
    this.op = new RetryWithToleranceOperator<FailureContext>(
      d.errors,
      (f, ctx, tolerated) => d.reporter.report(f, ctx, tolerated),
      waiting,
    );
  }

  /** Starts the task; resolves when its start() returned. Failures surface through the listener. */
  async start(paused: boolean): Promise<void> {
    if (paused) this.pauseGate.close();
    this.loop = this.run();
  }

  /** The task reports PAUSED once the batch in flight is produced and it has parked. */
  pause(): void {
    this.pauseGate.close();
  }

  resume(): void {
    this.pauseGate.open();
  }

  /** Stops polling, flushes acknowledged offsets and calls the task's stop(). Bounded by timeoutMs. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    this.pauseGate.open();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const result = await Promise.race([this.loop ?? Promise.resolve(), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.d.logger.warn(`Graceful stop of task ${this.d.connector}-${this.d.taskId} timed out after ${timeoutMs} ms`);
    }
  }

  private async run(): Promise<void> {
    const { d } = this;
    try {
      await d.task.start(d.props);
      if (!this.pauseGate.closed) d.listener.onState('RUNNING');
      while (!this.stopping) {
        if (this.pauseGate.closed) {
          await this.inflight;
          await this.flushOffsets();
          d.listener.onState('PAUSED');
          await this.pauseGate.wait();
          if (!this.stopping) d.listener.onState('RUNNING');
          continue;
        }
        let records = await this.poll();
        if (records && records.length > 0) {
          d.metrics?.polled(records.length);
          await this.process(records);
        }
        // Not kept alive through the next poll (see processSegment).
        records = null;
        const boundary = d.transactions?.boundary;
        const interval = boundary === 'interval' ? d.transactions!.intervalMs : d.offsetFlushIntervalMs;
        if (boundary === 'poll' || (boundary !== 'connector' && Date.now() - this.lastFlush >= interval)) {
          await this.flushOffsets();
        }
      }
      await this.inflight;
      await this.flushOffsets();
      await d.task.stop();
      await closeQuietly(d.logger, 'transforms', () => d.chain.close());
      d.listener.onState('UNASSIGNED');
    } catch (error) {
      if (this.stopping && error instanceof StoppedWhileWaitingError) {
        // Stopped during an outage: not a failure. What was acknowledged keeps its offsets.
        await this.inflight.catch(() => {});
        await this.flushOffsets().catch(() => {});
        await closeQuietly(d.logger, 'source task', () => d.task.stop());
        await closeQuietly(d.logger, 'transforms', () => d.chain.close());
        d.listener.onState('UNASSIGNED');
        return;
      }
      if (d.transactions) {
        // Nothing of a failed transaction may become visible, records or offsets. During a broker outage an abort
        // cannot reach the coordinator: the next instance's producer (same transactional id) aborts it when it starts.
        this.pending = new Map();
        this.uncommitted = [];
        if (outageOf(error) === null) {
          await closeQuietly(d.logger, 'transaction', () => d.transactions!.producer.abort());
        }
      } else {
        // Offsets of acknowledged records are still safe to keep (a failed batch in flight recorded none).
        await this.inflight.catch(() => {});
        this.inflight = Promise.resolve();
        await this.flushOffsets().catch(() => {});
      }
      await closeQuietly(d.logger, 'source task', () => d.task.stop());
      await closeQuietly(d.logger, 'transforms', () => d.chain.close());
      // Exactly-once: an outage ends this instance only (the worker starts another once the broker is back).
      if (d.transactions && outageOf(error) !== null)
        d.logger.warn(`Task ${d.connector}-${d.taskId} stopped`, { error });
      else d.logger.error(`Task ${d.connector}-${d.taskId} failed`, { error });
      d.listener.onState('FAILED', error);
    }
  }

  private async poll(): Promise<SourceRecord[] | null> {
    let delay = 300;
    let since = 0;
    for (;;) {
      try {
        const records = await this.d.task.poll();
        if (since !== 0) this.d.listener.onWaiting?.(null);
        return records;
      } catch (e) {
        // Connect retries a poll that threw RetriableException (a database restarting, say); anything else fails.
        if (!(e instanceof RetriableError) || this.stopping) throw e;
        if (since === 0) since = Date.now();
        this.d.listener.onWaiting?.(waitingStatus(outageOf(e) ?? 'the source system', since, e));
        this.d.logger.warn('Retriable error from poll(); retrying', { error: e, delayMs: delay });
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private async process(records: SourceRecord[]): Promise<void> {
    const requests = this.d.transactions?.boundary === 'connector' ? this.d.transactions.requests : undefined;
    if (!requests) return this.processSegment(records);
    // The task decides: a transaction ends right after the record it named, or after the batch.
    let segment: SourceRecord[] = [];
    for (const r of records) {
      segment.push(r);
      const mark = requests.take(r);
      if (!mark) continue;
      await this.processSegment(segment);
      segment = [];
      await (mark === 'commit' ? this.commitTransaction() : this.abortTransaction());
    }
    if (segment.length > 0) await this.processSegment(segment);
    const batch = requests.batch;
    requests.batch = null;
    if (batch) await (batch === 'commit' ? this.commitTransaction() : this.abortTransaction());
  }

  /** Drops the open transaction: its records are never visible and its offsets do not advance. */
  private async abortTransaction(): Promise<void> {
    this.pending = new Map();
    this.uncommitted = [];
    const tx = this.d.transactions!.producer;
    if (tx.inTransaction) await tx.abort();
  }

  /**
   * A record's key or value as bytes. A converter with a synchronous path costs no promise; a throw goes through
   * the retry-with-tolerance operator, and SKIPPED means the record was tolerated and dropped.
   */
  private serialize(
    stage: 'KEY_CONVERTER' | 'VALUE_CONVERTER',
    className: string,
    converter: Converter,
    r: SourceRecord,
    schema: Schema | null,
    data: unknown,
    original: SourceRecord,
  ): Buffer | null | typeof SKIPPED | Promise<Buffer | null | typeof SKIPPED> {
    let bytes: Buffer | null | undefined;
    try {
      bytes = converter.fromConnectDataSync?.(r.topic, r.headers, schema, data);
    } catch (e) {
      return this.recoverConversion(stage, className, converter, r, schema, data, original, e);
    }
    if (bytes !== undefined) return bytes;
    return converter
      .fromConnectData(r.topic, r.headers, schema, data)
      .catch((e: unknown) => this.recoverConversion(stage, className, converter, r, schema, data, original, e));
  }

  private async recoverConversion(
    stage: 'KEY_CONVERTER' | 'VALUE_CONVERTER',
    className: string,
    converter: Converter,
    r: SourceRecord,
    schema: Schema | null,
    data: unknown,
    original: SourceRecord,
    error: unknown,
  ): Promise<Buffer | null | typeof SKIPPED> {
    const convert = () => converter.fromConnectData(r.topic, r.headers, schema, data);
    const x = await this.op.recover(stage, className, convert, this.failureContext(original), error);
    return x.ok ? x.value : SKIPPED;
  }

  /**
   * Transforms and converters run directly, without a promise or closure per record; only a stage that throws goes
   * through the retry-with-tolerance operator (`recover`: same attempts, retries, reporting and DLQ as `execute`).
   */
  private async processSegment(records: SourceRecord[]): Promise<void> {
    const { d } = this;
    const out: OutRecord[] = [];
    const sent: SourceRecord[] = [];
    const conv = d.converters;
    // Without transforms nothing can have changed a record's value: the converter may write it from the values the
    // connector handed over (StructValues), and the value's Structs are never built. A chain that does not list its
    // stages counts as one with transforms.
    const stages = (d.chain as { stages?: readonly unknown[] }).stages;
    const valuesOk =
      stages !== undefined &&
      stages.length === 0 &&
      (conv.value as { acceptsStructValues?: boolean }).acceptsStructValues === true;
    // At-least-once: a long batch goes out in slices, each sent while the next is converted, so the bytes converted and
    // the bytes in flight stay bounded whatever max.batch.size is (a 8192-event batch was two whole batches of bytes).
    const sliced = !d.transactions;
    let sliceFrom = 0;
    let sliceBytes = 0;
    for (let i = 0; i < records.length; i++) {
      const original = records[i]!;
      let rec: SourceRecord | null;
      try {
        rec = d.chain.apply(original);
      } catch (e) {
        const t = await this.op.recover(
          'TRANSFORMATION',
          'transforms',
          () => d.chain.apply(original),
          this.failureContext(original),
          e,
        );
        if (!t.ok) continue;
        rec = t.value;
      }
      if (rec === null) continue;
      const r = rec;
      let headers: RawHeaders;
      try {
        headers = headersToRaw(r.topic, r.headers, conv.header);
      } catch (e) {
        const h = await this.op.recover(
          'HEADER_CONVERTER',
          conv.headerClass,
          () => headersToRaw(r.topic, r.headers, conv.header),
          this.failureContext(original),
          e,
        );
        if (!h.ok) continue;
        headers = h.value;
      }
      let key = this.serialize('KEY_CONVERTER', conv.keyClass, conv.key, r, r.keySchema, r.key, original);
      if (key instanceof Promise) key = await key;
      if (key === SKIPPED) continue;
      const values = valuesOk && r === original ? structValuesOf(r) : undefined;
      const data = values !== undefined && values.schema === r.valueSchema ? values : r.value;
      let value = this.serialize('VALUE_CONVERTER', conv.valueClass, conv.value, r, r.valueSchema, data, original);
      if (value instanceof Promise) value = await value;
      if (value === SKIPPED) continue;
      out.push({ topic: r.topic, partition: r.kafkaPartition, key, value, headers, timestamp: r.timestamp });
      sent.push(original);
      if (!sliced) continue;
      sliceBytes += (key?.length ?? 0) + (value?.length ?? 0);
      if (out.length >= SLICE_RECORDS || sliceBytes >= SLICE_BYTES) {
        await this.sendSlice(out.splice(0), sent.splice(0), records.slice(sliceFrom, i + 1));
        sliceFrom = i + 1;
        sliceBytes = 0;
      }
    }
    if (sliced) {
      // The rest, and a slice of only filtered records too: their offsets advance once what precedes them is acked.
      if (sliceFrom < records.length)
        await this.sendSlice(out, sent, sliceFrom === 0 ? records : records.slice(sliceFrom));
      return;
    }
    await this.ensureTopics(out);
    const tx = d.transactions!.producer;
    if (!tx.inTransaction) await tx.begin();
    // No retry inside a transaction: a failed send ends this instance and the transaction. On a broker outage the
    // worker starts a new instance from the committed offsets once the broker is back (Worker.startTask).
    const acks = out.length > 0 ? await tx.send(out) : [];
    const topics = new Set(out.map((o) => o.topic));
    for (const t of topics) d.onTopic(t);
    sent.forEach((r, i) => this.uncommitted.push([r, acks[i]]));
    // Every polled record was either sent, filtered, or handled by the error policy: its offset may advance.
    this.recordOffsets(records);
  }

  private async ensureTopics(out: readonly OutRecord[]): Promise<void> {
    const { d } = this;
    for (const t of new Set(out.map((o) => o.topic))) {
      if (!this.knownTopics.has(t)) {
        // A broker outage or a topic whose metadata is not served yet is waited out, never a failed task.
        await waitOutOutage(d.errors, d.listener, () => d.ensureTopic(t), this.stopSignal.signal);
        this.knownTopics.add(t);
      }
    }
  }

  /**
   * Sends one slice of a polled batch (at-least-once) once the slice before it is acknowledged and its offsets are
   * recorded: `records` are the polled records the slice covers (sent, filtered or tolerated), in poll order.
   */
  private async sendSlice(out: OutRecord[], sent: SourceRecord[], records: readonly SourceRecord[]): Promise<void> {
    const { d } = this;
    await this.ensureTopics(out);
    // What the batch in flight keeps until its ack is small: the bytes, the offsets to record, the capture times, and
    // the records themselves only for a task that wants them back (commitRecord). The batch's structs then die young
    // instead of surviving the next poll and being promoted (old-generation GC was a quarter of the drain's CPU).
    const offsets = this.offsetsOf(records);
    const lagTimes = this.captureTimes(sent);
    const acked = d.task.commitRecord ? sent : null;
    const sentCount = sent.length;
    await this.inflight;
    const sending = this.sendAndRecord(out, acked, sentCount, offsets, lagTimes);
    // Observed here so a failure waits for the next await (which fails the task) instead of crashing the process.
    sending.catch(() => {});
    this.inflight = sending;
  }

  /**
   * Capture lag (origin change → Kafka ack) for the console and /metrics, from the Debezium envelope's
   * `source.ts_ms` of the records as the connector made them (before transforms). Only a batch's first and
   * last records are read: the lag of a batch lies between them, and the hot path stays a hot path.
   */
  private observeCaptureLag(records: readonly SourceRecord[]): void {
    this.observeCaptureTimes(this.captureTimes(records));
  }

  /** The origin times (`source.ts_ms`) of a batch's first and last records, read before the batch is sent. */
  private captureTimes(records: readonly SourceRecord[]): number[] | null {
    if (!this.d.metrics?.captureLag || records.length === 0) return null;
    const times: number[] = [];
    for (const r of records.length === 1 ? [records[0]!] : [records[0]!, records[records.length - 1]!]) {
      const ts = envelopeSourceTsMs(r.value);
      if (ts !== null) times.push(ts);
    }
    return times;
  }

  private observeCaptureTimes(times: readonly number[] | null): void {
    const observe = this.d.metrics?.captureLag;
    if (!observe || times === null) return;
    const now = Date.now();
    for (const ts of times) observe(now - ts);
  }

  /**
   * Sends a batch. A topic deleted while the task runs (an operator resetting it) fails the send, and waiting would
   * not bring it back: it is created again as on first sight (topic.creation.*), as a broker with
   * auto.create.topics.enable does for Connect's producer, and the batch is sent once more. What the deleted topic
   * held is gone with it; no change after it is lost (the source offsets did not move).
   */
  private async produce(out: OutRecord[]): Promise<Ack[]> {
    try {
      return await this.d.producer.send(out);
    } catch (e) {
      if (!isUnknownTopicError(e)) throw e;
      for (const t of new Set(out.map((o) => o.topic))) {
        this.d.logger.warn(`Topic ${t} is gone (deleted while the task ran?): creating it again and resending`, {
          topic: t,
        });
        await this.d.ensureTopic(t);
      }
      return this.d.producer.send(out);
    }
  }

  /** Sends one batch; once Kafka acknowledged it, tells the task and lets the batch's offsets advance. */
  private async sendAndRecord(
    out: OutRecord[],
    acked: SourceRecord[] | null,
    sentCount: number,
    offsets: PendingOffsets,
    lagTimes: number[] | null,
  ): Promise<void> {
    const { d } = this;
    if (out.length > 0) {
      const acks = await this.op.execute('KAFKA_PRODUCE', 'producer', () => this.produce(out), {});
      if (acks.ok) {
        d.metrics?.produced(sentCount);
        this.observeCaptureTimes(lagTimes);
        let topic = '';
        for (let i = 0; i < out.length; i++) {
          const t = out[i]!.topic;
          if (t !== topic) {
            topic = t;
            d.onTopic(t);
          }
        }
        acked?.forEach((r, i) => {
          const a = acks.value[i];
          d.task.commitRecord?.(
            r,
            a && a.partition >= 0 ? { topic: a.topic, partition: a.partition, offset: a.offset } : null,
          );
        });
      }
    }
    // Every polled record was either acknowledged, filtered, or handled by the error policy: its offset may advance.
    this.applyOffsets(offsets);
  }

  /**
   * Only the last offset of each partition is kept, so a record followed by one of the same partition object is
   * skipped; the partition's canonical key is computed once per run of records sharing that object.
   */
  private recordOffsets(records: readonly SourceRecord[]): void {
    this.applyOffsets(this.offsetsOf(records));
  }

  /** The offsets a batch will record once it is acknowledged, in poll order (see recordOffsets). */
  private offsetsOf(records: readonly SourceRecord[]): PendingOffsets {
    const out: PendingOffsets = [];
    let prev: SourcePartition | null = null;
    let prevKey = '';
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const p = r.sourcePartition;
      if (records[i + 1]?.sourcePartition === p) continue;
      const key = p === prev ? prevKey : partitionKey(p);
      prev = p;
      prevKey = key;
      out.push([key, { ...p }, r.sourceOffset]);
    }
    return out;
  }

  private applyOffsets(offsets: PendingOffsets): void {
    for (const [key, partition, offset] of offsets) this.pending.set(key, [partition, offset]);
  }

  private failureContext(original: SourceRecord): FailureContext {
    return { source: original, record: original, sourceBytes: () => this.dlqBytes(original) };
  }

  /** The record's bytes for the DLQ: through the task's converters if they can, else best-effort JSON. */
  private async dlqBytes(
    r: SourceRecord,
  ): Promise<{ key: Buffer | null; value: Buffer | null; headers: OutRecord['headers'] }> {
    const c = this.d.converters;
    const tryConvert = async (f: () => Promise<Buffer | null>, raw: unknown) => {
      try {
        return await f();
      } catch {
        return fallbackBytes(raw);
      }
    };
    let headers: OutRecord['headers'] = [];
    try {
      headers = headersToRaw(r.topic, r.headers, c.header);
    } catch {
      headers = [];
    }
    return {
      key: await tryConvert(() => c.key.fromConnectData(r.topic, r.headers, r.keySchema, r.key), r.key),
      value: await tryConvert(() => c.value.fromConnectData(r.topic, r.headers, r.valueSchema, r.value), r.value),
      headers,
    };
  }

  /** Exactly-once: the offsets of everything sent go into the open transaction, which then commits. */
  private async commitTransaction(): Promise<void> {
    const { d } = this;
    const tx = d.transactions!;
    if (!tx.producer.inTransaction && this.pending.size === 0) return;
    const started = Date.now();
    if (!tx.producer.inTransaction) await tx.producer.begin();
    const entries = [...this.pending.values()].map(([partition, offset]) => ({ partition, offset }));
    if (entries.length > 0) await tx.producer.send(tx.offsetRecords(entries));
    await tx.producer.commit();
    this.pending = new Map();
    const done = this.uncommitted;
    this.uncommitted = [];
    d.metrics?.produced(done.length);
    d.metrics?.offsetCommit(Date.now() - started);
    this.observeCaptureLag(done.map(([r]) => r));
    for (const [r, a] of done) {
      d.task.commitRecord?.(
        r,
        a && a.partition >= 0 ? { topic: a.topic, partition: a.partition, offset: a.offset } : null,
      );
    }
    await d.task.commit?.();
  }

  async flushOffsets(): Promise<void> {
    if (this.d.transactions) {
      this.lastFlush = Date.now();
      return this.commitTransaction();
    }
    // Only acknowledged batches are in `pending`, in poll order; the batch in flight is not waited for here.
    this.lastFlush = Date.now();
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const started = Date.now();
    await this.d.offsets.set(
      this.d.connector,
      [...batch.values()].map(([partition, offset]) => ({ partition, offset })),
    );
    this.d.metrics?.offsetCommit(Date.now() - started);
    await this.d.task.commit?.();
  }
}

/** `source.ts_ms` of a Debezium-style envelope (epoch ms), or null for any other value. */
export function envelopeSourceTsMs(value: unknown): number | null {
  if (!(value instanceof Struct) || !value.schema.fields?.some((f) => f.name === 'source')) return null;
  const source = value.get('source');
  if (!(source instanceof Struct) || !source.schema.fields?.some((f) => f.name === 'ts_ms')) return null;
  const ts = source.get('ts_ms');
  const n = typeof ts === 'bigint' ? Number(ts) : typeof ts === 'number' ? ts : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}
