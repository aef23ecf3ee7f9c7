import { describe, expect, it } from 'vitest';
import {
  Headers,
  SchemaBuilder,
  type SourceRecord,
  type SourceTask,
  Struct,
  silentLogger,
} from '../../../../runtime/api/index.js';
import { SimpleHeaderConverter, StringConverter } from '../../../../runtime/converters/index.js';
import { ErrorReporter } from '../../../../runtime/errors/reporter.js';
import { errorHandlingSettings } from '../../../../runtime/worker/connector-settings.js';
import { TransformChain } from '../../../../runtime/transforms/index.js';
import type { Ack, OutRecord, ProducerPort } from '../../../../runtime/worker/kafka-port.js';
import { type SourceTaskDeps, WorkerSourceTask } from '../../../../runtime/worker/source-task.js';
import type { OffsetEntry, OffsetStore } from '../../../../runtime/worker/stores.js';

interface Deferred {
  records: readonly OutRecord[];
  ack(): void;
  fail(e: Error): void;
}

/** A producer whose sends stay unacknowledged until the test says so. */
class HeldProducer implements ProducerPort {
  readonly sends: Deferred[] = [];
  private waiters: Array<() => void> = [];
  /** From now on every send is acknowledged at once (to let a stop finish). */
  ackAll(): void {
    this.autoAck = true;
    for (const s of this.sends) s.ack();
  }
  private autoAck = false;
  send(records: readonly OutRecord[]): Promise<Ack[]> {
    return new Promise((resolve, reject) => {
      const ack = () => resolve(records.map((r, i) => ({ topic: r.topic, partition: 0, offset: BigInt(i) })));
      this.sends.push({ records, ack, fail: reject });
      if (this.autoAck) ack();
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async waitForSends(n: number): Promise<void> {
    while (this.sends.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }
  async close(): Promise<void> {}
}

class MemoryOffsets implements OffsetStore {
  readonly writes: OffsetEntry[][] = [];
  async start(): Promise<void> {}
  async get(): Promise<null> {
    return null;
  }
  async set(_connector: string, entries: readonly OffsetEntry[]): Promise<void> {
    this.writes.push([...entries]);
  }
  async list(): Promise<OffsetEntry[]> {
    return this.writes.flat();
  }
}

/** A source that hands out batches of 2 records with increasing positions, and counts its polls. */
class CountingSource implements SourceTask {
  polls = 0;
  committed: number[] = [];
  initialize(): void {}
  async start(): Promise<void> {}
  async poll(): Promise<SourceRecord[]> {
    this.polls++;
    await new Promise((r) => setTimeout(r, 1));
    const base = (this.polls - 1) * 2;
    return [base, base + 1].map((pos) => ({
      topic: 'out',
      kafkaPartition: null,
      keySchema: null,
      key: String(pos),
      valueSchema: null,
      value: `v${pos}`,
      timestamp: null,
      headers: Headers.of({}),
      sourcePartition: { table: 't' },
      sourceOffset: { pos },
    }));
  }
  commitRecord(r: SourceRecord): void {
    this.committed.push(r.sourceOffset.pos as number);
  }
  async stop(): Promise<void> {}
  version(): string {
    return 'test';
  }
}

async function runner(
  task: SourceTask,
  producer: ProducerPort,
  offsets: OffsetStore,
  states: string[],
  flushMs = 0,
  extra: Partial<SourceTaskDeps> = {},
) {
  const errors = errorHandlingSettings({});
  const key = new StringConverter();
  await key.configure({}, true);
  const value = new StringConverter();
  await value.configure({}, false);
  const header = new SimpleHeaderConverter();
  await header.configure({});
  return new WorkerSourceTask({
    connector: 'c',
    taskId: 0,
    task,
    taskClass: 'CountingSource',
    props: {},
    chain: TransformChain.empty<SourceRecord>(),
    converters: { key, keyClass: 'k', value, valueClass: 'v', header, headerClass: 'h' },
    producer,
    offsets,
    errors,
    reporter: new ErrorReporter({ connector: 'c', task: 0 }, errors, silentLogger, null),
    logger: silentLogger,
    listener: {
      onState: (s, e) => states.push(e ? `${s}: ${(e as Error).message}` : s),
    },
    offsetFlushIntervalMs: flushMs,
    onTopic: () => {},
    ensureTopic: async () => {},
    ...extra,
  });
}

const positions = (offsets: MemoryOffsets) => offsets.writes.map((w) => w.map((e) => e.offset?.pos));

describe('WorkerSourceTask pipelining (at-least-once)', () => {
  it('polls the next batch while one is in flight, sends it only after the ack, and stores offsets in order', async () => {
    const task = new CountingSource();
    const producer = new HeldProducer();
    const offsets = new MemoryOffsets();
    const states: string[] = [];
    const r = await runner(task, producer, offsets, states);
    await r.start(false);
    await producer.waitForSends(1);
    // The second batch is polled and converted while the first waits for Kafka, but not sent yet.
    await new Promise((res) => setTimeout(res, 30));
    expect(task.polls).toBe(2);
    expect(producer.sends).toHaveLength(1);
    expect(offsets.writes).toHaveLength(0);
    producer.sends[0]!.ack();
    await producer.waitForSends(2);
    await new Promise((res) => setTimeout(res, 20));
    // Acknowledged: the task heard about its records and their offset is stored (flush interval 0), never the
    // offset of the batch still in flight.
    expect(task.committed).toEqual([0, 1]);
    expect(positions(offsets).flat()).toEqual([1]);
    producer.sends[1]!.ack();
    await producer.waitForSends(3);
    await new Promise((res) => setTimeout(res, 20));
    expect(positions(offsets).flat()).toEqual([1, 3]);
    const stopping = r.stop(5000);
    producer.ackAll();
    await stopping;
    // Stopping waits for the batch in flight: every record sent was acknowledged and its offset stored.
    const sent = producer.sends.length * 2;
    expect(task.committed).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(positions(offsets).flat().at(-1)).toBe(sent - 1);
    expect(states).toEqual(['RUNNING', 'UNASSIGNED']);
  });

  it('sends a long batch in slices, one in flight, each slice’s offsets stored only once Kafka acknowledged it', async () => {
    /** One batch of 5000 records (positions 0..4999), then nothing. */
    class LongBatchSource extends CountingSource {
      override async poll(): Promise<SourceRecord[]> {
        this.polls++;
        await new Promise((r) => setTimeout(r, 1));
        if (this.polls > 1) return [];
        return Array.from({ length: 5000 }, (_, pos) => ({
          topic: 'out',
          kafkaPartition: null,
          keySchema: null,
          key: String(pos),
          valueSchema: null,
          value: `v${pos}`,
          timestamp: null,
          headers: Headers.of({}),
          sourcePartition: { table: 't' },
          sourceOffset: { pos },
        }));
      }
    }
    const task = new LongBatchSource();
    const producer = new HeldProducer();
    const offsets = new MemoryOffsets();
    const states: string[] = [];
    const r = await runner(task, producer, offsets, states);
    await r.start(false);
    await producer.waitForSends(1);
    await new Promise((res) => setTimeout(res, 30));
    // The second slice is converted but waits for the first one's ack; nothing is stored yet.
    expect(producer.sends.map((s) => s.records.length)).toEqual([2048]);
    expect(offsets.writes).toHaveLength(0);
    producer.sends[0]!.ack();
    await producer.waitForSends(2);
    await new Promise((res) => setTimeout(res, 20));
    // Only the first slice is acknowledged: no offset of the slice still in flight is stored.
    expect(task.committed.at(-1)).toBe(2047);
    expect(Math.max(-1, ...(positions(offsets).flat() as number[]))).toBeLessThanOrEqual(2047);
    producer.sends[1]!.ack();
    await producer.waitForSends(3);
    await new Promise((res) => setTimeout(res, 20));
    expect(task.committed.at(-1)).toBe(4095);
    expect(positions(offsets).flat()).toEqual([4095]);
    producer.sends[2]!.ack();
    await new Promise((res) => setTimeout(res, 20));
    expect(producer.sends.map((s) => s.records.length)).toEqual([2048, 2048, 904]);
    expect(producer.sends.flatMap((s) => s.records.map((o) => String(o.key)))).toEqual(
      Array.from({ length: 5000 }, (_, i) => String(i)),
    );
    expect(positions(offsets).flat()).toEqual([4095, 4999]);
    const stopping = r.stop(5000);
    producer.ackAll();
    await stopping;
    expect(task.committed).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(states).toEqual(['RUNNING', 'UNASSIGNED']);
  });

  it('fails the task when a batch in flight is refused, keeping the offsets acknowledged before it', async () => {
    const task = new CountingSource();
    const producer = new HeldProducer();
    const offsets = new MemoryOffsets();
    const states: string[] = [];
    const r = await runner(task, producer, offsets, states, 60_000);
    await r.start(false);
    await producer.waitForSends(1);
    producer.sends[0]!.ack();
    await producer.waitForSends(2);
    producer.sends[1]!.fail(new Error('NOT_ENOUGH_REPLICAS'));
    await r.stop(5000);
    expect(states.at(-1)).toMatch(/^FAILED: .*NOT_ENOUGH_REPLICAS/);
    // The first batch's offset survives; the refused batch's never does, so a restart re-reads it.
    expect(positions(offsets).flat()).toEqual([1]);
    expect(task.committed).toEqual([0, 1]);
  });
});

describe('WorkerSourceTask capture lag', () => {
  it('observes source.ts_ms of a batch’s first and last records only once Kafka acknowledged the batch', async () => {
    const sourceSchema = SchemaBuilder.struct().field('ts_ms', SchemaBuilder.int64().build()).build();
    const envelope = SchemaBuilder.struct().field('source', sourceSchema).build();
    const origin = Date.now() - 5_000;
    class EnvelopeSource extends CountingSource {
      override async poll(): Promise<SourceRecord[]> {
        const records = await super.poll();
        return records.map((r, i) => ({
          ...r,
          valueSchema: envelope,
          value: new Struct(envelope).put('source', new Struct(sourceSchema).put('ts_ms', BigInt(origin + i))),
        }));
      }
    }
    // The value converter only needs to turn the struct into some bytes here.
    const lags: number[] = [];
    const producer = new HeldProducer();
    const task = new EnvelopeSource();
    const r = await runner(task, producer, new MemoryOffsets(), [], 0, {
      converters: {
        key: new StringConverter(),
        keyClass: 'k',
        value: {
          configure: () => {},
          fromConnectData: async () => Buffer.from('v'),
          toConnectData: async () => ({ schema: null, value: null }),
        },
        valueClass: 'v',
        header: new SimpleHeaderConverter(),
        headerClass: 'h',
      },
      metrics: { polled: () => {}, produced: () => {}, offsetCommit: () => {}, captureLag: (ms) => lags.push(ms) },
    });
    await r.start(false);
    await producer.waitForSends(1);
    expect(lags).toEqual([]);
    producer.sends[0]!.ack();
    await producer.waitForSends(2);
    expect(lags).toHaveLength(2);
    for (const lag of lags) expect(lag).toBeGreaterThanOrEqual(4_990);
    producer.ackAll();
    await r.stop(5_000);
  });
});
