import { describe, expect, it } from 'vitest';
import {
  type Converter,
  DataError,
  Headers,
  RetriableError,
  type Schema,
  type SourceRecord,
  type SourceTask,
  silentLogger,
} from '../../../../runtime/api/index.js';
import { SimpleHeaderConverter } from '../../../../runtime/converters/index.js';
import type { ErrorReporter, FailureContext } from '../../../../runtime/errors/reporter.js';
import { type ProcessingFailure, RetryWithToleranceOperator } from '../../../../runtime/errors/retry.js';
import { errorHandlingSettings } from '../../../../runtime/worker/connector-settings.js';
import type { TransformChain } from '../../../../runtime/transforms/index.js';
import type { Ack, OutRecord, ProducerPort } from '../../../../runtime/worker/kafka-port.js';
import { WorkerSourceTask } from '../../../../runtime/worker/source-task.js';
import type { OffsetEntry, OffsetStore } from '../../../../runtime/worker/stores.js';
import { waitFor } from './fake-kafka.js';

/**
 * Issue 20 item 1: a broker or registry that is down for a while is waited for; the task stays RUNNING, says what
 * it waits for, loses and duplicates nothing, and commits offsets only for acknowledged records. Only a condition
 * waiting cannot fix (or an outage longer than outage.wait.timeout.ms) fails the task, and the error says which.
 */

const brokerDown = () =>
  new RetriableError('Kafka rejected a batch of 3 records: Connection refused', {
    code: 'ERPSTREAM_KAFKA_UNAVAILABLE',
  });
const registryDown = () =>
  new RetriableError(
    'Schema registry at http://127.0.0.1:1 is unreachable: could not register a schema: ECONNREFUSED',
    {
      code: 'ERPSTREAM_REGISTRY_UNREACHABLE',
    },
  );

function record(id: number): SourceRecord {
  return {
    topic: 'out',
    kafkaPartition: null,
    keySchema: null,
    key: String(id),
    valueSchema: null,
    value: String(id),
    timestamp: null,
    headers: Headers.of({}),
    sourcePartition: { table: 't' },
    sourceOffset: { id },
  };
}

/** Hands out `batches` batches of `size` records with increasing ids, then nothing. */
class Batches implements SourceTask {
  private next = 0;
  private polled = 0;
  constructor(
    private readonly batches: number,
    private readonly size: number,
  ) {}
  initialize(): void {}
  async start(): Promise<void> {}
  async poll(): Promise<SourceRecord[]> {
    await new Promise((r) => setTimeout(r, 5));
    if (this.polled >= this.batches) return [];
    this.polled++;
    return Array.from({ length: this.size }, () => record(this.next++));
  }
  async stop(): Promise<void> {}
  version(): string {
    return 'test';
  }
}

/** Fails every send while `down()` says so; records what Kafka acknowledged. */
class FlakyProducer implements ProducerPort {
  readonly acked: string[] = [];
  attempts = 0;
  constructor(
    private readonly down: () => Error | null,
    private readonly onAck: () => void = () => {},
  ) {}
  async send(records: readonly OutRecord[]): Promise<Ack[]> {
    this.attempts++;
    const e = this.down();
    if (e) throw e;
    this.acked.push(...records.map((r) => r.value!.toString()));
    this.onAck();
    return records.map((r, i) => ({
      topic: r.topic,
      partition: 0,
      offset: BigInt(this.acked.length - records.length + i),
    }));
  }
  async close(): Promise<void> {}
}

class Offsets implements OffsetStore {
  readonly flushed: number[] = [];
  async start(): Promise<void> {}
  async get(): Promise<null> {
    return null;
  }
  async set(_c: string, entries: readonly OffsetEntry[]): Promise<void> {
    for (const e of entries) this.flushed.push((e.offset as { id: number }).id);
  }
  async list(): Promise<OffsetEntry[]> {
    return [];
  }
}

class ValueConverter implements Converter {
  constructor(private readonly fail: () => Error | null) {}
  configure(): void {}
  async fromConnectData(_t: string, _h: Headers, _s: Schema | null, v: unknown): Promise<Buffer | null> {
    const e = this.fail();
    if (e) throw e;
    return Buffer.from(String(v));
  }
  async toConnectData(): Promise<{ schema: null; value: null }> {
    return { schema: null, value: null };
  }
}

function start(opts: {
  producer: FlakyProducer;
  props?: Record<string, string>;
  value?: Converter;
  batches?: number;
  size?: number;
}) {
  const reported: ProcessingFailure[] = [];
  const reporter = {
    report: async (failure: ProcessingFailure, _w: FailureContext, _tolerated: boolean) => {
      reported.push(failure);
    },
  } as unknown as ErrorReporter;
  const header = new SimpleHeaderConverter();
  header.configure({});
  const plain = new ValueConverter(() => null);
  const chain = { apply: (r: SourceRecord) => r, close: async () => {} } as unknown as TransformChain<SourceRecord>;
  const offsets = new Offsets();
  const states: string[] = [];
  const waits: string[] = [];
  const runner = new WorkerSourceTask({
    connector: 'c',
    taskId: 0,
    task: new Batches(opts.batches ?? 5, opts.size ?? 3),
    taskClass: 'Batches',
    props: {},
    chain,
    converters: {
      key: plain,
      keyClass: 'KeyConv',
      value: opts.value ?? plain,
      valueClass: 'ValueConv',
      header,
      headerClass: 'HeaderConv',
    },
    producer: opts.producer,
    offsets,
    errors: errorHandlingSettings(opts.props ?? {}),
    reporter,
    logger: silentLogger,
    listener: {
      onState: (s, e) => states.push(e ? `${s}: ${(e as Error).message}` : s),
      onWaiting: (w) => waits.push(w === null ? 'done' : `waiting for ${w.for} since ${w.since}`),
    },
    offsetFlushIntervalMs: 0,
    onTopic: () => {},
    ensureTopic: async () => {},
  });
  return { runner, reported, offsets, states, waits };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i));

describe('a broker or registry outage is waited out, not a FAILED task', () => {
  it('a producer outage longer than errors.retry.timeout (0 by default) keeps the task RUNNING; nothing lost, offsets only after acks', async () => {
    const downUntil = Date.now() + 1500;
    let flushedDuringOutage = -1;
    const offsetsRef: { o?: Offsets } = {};
    const producer = new FlakyProducer(() => {
      if (Date.now() < downUntil) {
        flushedDuringOutage = Math.max(flushedDuringOutage, ...(offsetsRef.o?.flushed ?? []));
        return brokerDown();
      }
      return null;
    });
    const t = start({ producer });
    offsetsRef.o = t.offsets;
    await t.runner.start(false);
    await waitFor(() => producer.acked.length >= 15, 10_000, 'all 15 records acknowledged');
    await t.runner.stop(5000);
    expect(t.states.filter((s) => s.startsWith('FAILED'))).toEqual([]);
    expect(producer.acked).toEqual(ids(15));
    expect(producer.attempts).toBeGreaterThan(2);
    // While Kafka refused everything no offset was flushed.
    expect(flushedDuringOutage).toBe(-1);
    expect(Math.max(...t.offsets.flushed)).toBe(14);
    expect(t.waits[0]).toMatch(/^waiting for the Kafka broker since \d{4}-\d\d-\d\dT/);
    expect(t.waits.at(-1)).toBe('done');
    expect(t.reported).toEqual([]);
  });

  it('a registry outage while converting waits (no DLQ under errors.tolerance=all, no FAILED under none)', async () => {
    for (const tolerance of ['all', 'none']) {
      const downUntil = Date.now() + 1200;
      const producer = new FlakyProducer(() => null);
      const value = new ValueConverter(() => (Date.now() < downUntil ? registryDown() : null));
      const t = start({ producer, value, props: { 'errors.tolerance': tolerance } });
      await t.runner.start(false);
      await waitFor(() => producer.acked.length >= 15, 10_000, 'all 15 records acknowledged');
      await t.runner.stop(5000);
      expect(t.states.filter((s) => s.startsWith('FAILED'))).toEqual([]);
      expect(t.reported).toEqual([]);
      expect(producer.acked).toEqual(ids(15));
      expect(t.waits[0]).toMatch(/^waiting for the schema registry since/);
    }
  });

  it('an outage longer than outage.wait.timeout.ms fails the task, naming what it waited for and the key', async () => {
    const producer = new FlakyProducer(() => brokerDown());
    const t = start({ producer, props: { 'outage.wait.timeout.ms': '400' } });
    await t.runner.start(false);
    await waitFor(() => t.states.some((s) => s.startsWith('FAILED')), 10_000, 'FAILED');
    await t.runner.stop(1000);
    const failed = t.states.find((s) => s.startsWith('FAILED'))!;
    expect(failed).toMatch(/Gave up waiting for the Kafka broker after \d+ s \(outage\.wait\.timeout\.ms/);
    expect(t.offsets.flushed).toEqual([]);
  });

  it('a condition waiting cannot fix fails the task at once, without waiting', async () => {
    const producer = new FlakyProducer(() => new DataError('RecordTooLargeException: the record is too large'));
    const t = start({ producer });
    await t.runner.start(false);
    await waitFor(() => t.states.some((s) => s.startsWith('FAILED')), 5000, 'FAILED');
    await t.runner.stop(1000);
    expect(producer.attempts).toBe(1);
    expect(t.waits).toEqual([]);
    expect(t.states.find((s) => s.startsWith('FAILED'))).toMatch(/too large/);
  });

  it('stopping a task that waits for the broker ends the wait at once: not FAILED, no offset for what was not acknowledged', async () => {
    const producer = new FlakyProducer(() => brokerDown());
    const t = start({ producer });
    await t.runner.start(false);
    await waitFor(() => t.waits.length > 0, 5000, 'waiting');
    await t.runner.stop(30_000);
    // The loop ended (a wait that went on would leave the task without its final state).
    expect(t.states.at(-1)).toBe('UNASSIGNED');
    expect(t.states.filter((s) => s.startsWith('FAILED'))).toEqual([]);
    expect(t.offsets.flushed).toEqual([]);
  });
});

describe('RetryWithToleranceOperator and outages', () => {
  it('waits an outage out for outage.wait.timeout.ms (15 min by default) with pauses of at most 5 s, whatever errors.retry.timeout says', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const outageEnds = 10 * 60_000;
    const op = new RetryWithToleranceOperator(errorHandlingSettings({}), async () => {}, {
      now: () => now,
      random: () => 0,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    const r = await op.execute(
      'KAFKA_PRODUCE',
      'producer',
      () => {
        if (now < outageEnds) throw brokerDown();
        return 'sent';
      },
      undefined,
    );
    expect(r).toEqual({ ok: true, value: 'sent' });
    expect(Math.max(...sleeps)).toBe(5000);
    expect(now).toBeLessThan(outageEnds + 5000 + 1);
  });

  it('a retriable error that is no outage keeps Connect semantics: errors.retry.timeout=0 means no retry', async () => {
    let calls = 0;
    const op = new RetryWithToleranceOperator(errorHandlingSettings({}), async () => {});
    await expect(
      op.execute(
        'TASK_PUT',
        'x',
        () => {
          calls++;
          throw new RetriableError('some transient condition');
        },
        undefined,
      ),
    ).rejects.toThrow(/Tolerance exceeded/);
    expect(calls).toBe(1);
  });
});
