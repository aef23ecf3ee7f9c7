import { describe, expect, it } from 'vitest';
import {
  type Converter,
  DataError,
  Headers,
  RetriableError,
  type Schema,
  type SourceRecord,
  silentLogger,
} from '../../../../runtime/api/index.js';
import { SimpleHeaderConverter } from '../../../../runtime/converters/index.js';
import type { ErrorReporter, FailureContext } from '../../../../runtime/errors/reporter.js';
import { type ProcessingFailure } from '../../../../runtime/errors/retry.js';
import { errorHandlingSettings } from '../../../../runtime/worker/connector-settings.js';
import type { TransformChain } from '../../../../runtime/transforms/index.js';
import { WorkerSourceTask } from '../../../../runtime/worker/source-task.js';
import { AckingProducer, MemoryOffsets, OneBatch, runBriefly } from '../../../support/source-task.js';

/**
 * The source loop runs transforms and converters directly and only hands a stage that threw to the
 * retry-with-tolerance operator. These tests pin that the failure handling is the operator's, unchanged: what is
 * reported (stage, class, attempts, tolerated), what is skipped or retried, and which offsets advance.
 */

function record(id: string): SourceRecord {
  return {
    topic: 'out',
    kafkaPartition: null,
    keySchema: null,
    key: id,
    valueSchema: null,
    value: id,
    timestamp: null,
    headers: Headers.of({ id }),
    sourcePartition: { table: 't' },
    sourceOffset: { id },
  };
}

/**
 * A converter with the synchronous path the worker uses when a converter offers one. `failSync` / `failAsync`
 * decide per value what each path throws.
 */
class ScriptedConverter implements Converter {
  syncCalls = 0;
  asyncCalls = 0;
  constructor(
    private readonly failSync: (v: string) => Error | null,
    private readonly failAsync: (v: string) => Error | null = failSync,
  ) {}
  configure(): void {}
  fromConnectDataSync(_t: string, _h: Headers, _s: Schema | null, v: unknown): Buffer | null | undefined {
    this.syncCalls++;
    const e = this.failSync(String(v));
    if (e) throw e;
    return Buffer.from(`sync:${String(v)}`);
  }
  async fromConnectData(_t: string, _h: Headers, _s: Schema | null, v: unknown): Promise<Buffer | null> {
    this.asyncCalls++;
    const e = this.failAsync(String(v));
    if (e) throw e;
    return Buffer.from(`async:${String(v)}`);
  }
  async toConnectData(): Promise<{ schema: null; value: null }> {
    return { schema: null, value: null };
  }
}

interface Reported {
  failure: ProcessingFailure;
  source: unknown;
  tolerated: boolean;
}

async function run(opts: {
  ids: string[];
  props?: Record<string, string>;
  value?: Converter;
  apply?: (r: SourceRecord) => SourceRecord | null;
}) {
  const errors = errorHandlingSettings(opts.props ?? {});
  const reported: Reported[] = [];
  const reporter = {
    report: async (failure: ProcessingFailure, where: FailureContext, tolerated: boolean) => {
      reported.push({ failure, source: (where.source as SourceRecord).key, tolerated });
    },
  } as unknown as ErrorReporter;
  const header = new SimpleHeaderConverter();
  header.configure({});
  const chain = {
    apply: opts.apply ?? ((r: SourceRecord) => r),
    close: async () => {},
  } as unknown as TransformChain<SourceRecord>;
  const producer = new AckingProducer();
  const offsets = new MemoryOffsets();
  const states: string[] = [];
  const key = new ScriptedConverter(() => null);
  const value = opts.value ?? new ScriptedConverter(() => null);
  const task = new WorkerSourceTask({
    connector: 'c',
    taskId: 0,
    task: new OneBatch(() => opts.ids.map(record)),
    taskClass: 'OneBatch',
    props: {},
    chain,
    converters: { key, keyClass: 'KeyConv', value, valueClass: 'ValueConv', header, headerClass: 'HeaderConv' },
    producer,
    offsets,
    errors,
    reporter,
    logger: silentLogger,
    listener: { onState: (s, e) => states.push(e ? `${s}: ${(e as Error).message}` : s) },
    offsetFlushIntervalMs: 0,
    onTopic: () => {},
    ensureTopic: async () => {},
  });
  await runBriefly(task);
  return { reported, producer, offsets, states };
}

describe('WorkerSourceTask stages: direct runs, the operator only on failure', () => {
  it('tolerance all: a record whose converter throws is reported once (stage, class, attempts 1) and skipped; its offset advances', async () => {
    const value = new ScriptedConverter((v) => (v === 'b' ? new DataError('bad value b') : null));
    const { reported, producer, offsets, states } = await run({
      ids: ['a', 'b', 'c'],
      props: { 'errors.tolerance': 'all' },
      value,
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]!.failure).toMatchObject({ stage: 'VALUE_CONVERTER', className: 'ValueConv', attempts: 1 });
    expect(reported[0]!.tolerated).toBe(true);
    expect(reported[0]!.source).toBe('b');
    expect(producer.sent.map((r) => r.value?.toString())).toEqual(['sync:a', 'sync:c']);
    expect(offsets.entries.at(-1)!.offset).toEqual({ id: 'c' });
    expect(states).toEqual(['RUNNING', 'UNASSIGNED']);
  });

  it('retries a retriable failure of the direct run through the converter, counting the direct run as attempt 1', async () => {
    // The direct (sync) run fails retriably; the retry (the async path) succeeds: nothing is reported.
    let failures = 0;
    const value = new ScriptedConverter(
      (v) => (v === 'b' ? (failures++, new RetriableError('registry unavailable')) : null),
      () => null,
    );
    const { reported, producer } = await run({
      ids: ['a', 'b'],
      props: { 'errors.retry.timeout': '10000' },
      value,
    });
    expect(failures).toBe(1);
    expect(reported).toEqual([]);
    expect(producer.sent.map((r) => r.value?.toString())).toEqual(['sync:a', 'async:b']);
    expect(value.asyncCalls).toBe(1);
  });

  it('reports the attempts of the direct run and the retries when they all fail', async () => {
    const value = new ScriptedConverter((v) => (v === 'b' ? new RetriableError('still down') : null));
    const { reported, states } = await run({
      ids: ['a', 'b'],
      props: { 'errors.retry.timeout': '700', 'errors.tolerance': 'all' },
      value,
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]!.failure.stage).toBe('VALUE_CONVERTER');
    // Attempt 1 is the direct run; every retry goes through the converter's fromConnectData.
    const { attempts } = reported[0]!.failure;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(value.asyncCalls).toBe(attempts - 1);
    expect(states).toEqual(['RUNNING', 'UNASSIGNED']);
  });

  it('tolerance none: a failing transform fails the task (reported untolerated) and the batch offsets never advance', async () => {
    const boom = Object.assign(new Error('transform exploded'), { className: 'my.Smt' });
    const { reported, producer, offsets, states } = await run({
      ids: ['a', 'b'],
      apply: (r) => {
        if (r.key === 'b') throw boom;
        return r;
      },
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]!.failure).toMatchObject({ stage: 'TRANSFORMATION', className: 'my.Smt', attempts: 1 });
    expect(reported[0]!.tolerated).toBe(false);
    expect(states.at(-1)).toMatch(/^FAILED: Tolerance exceeded in error handler \(stage TRANSFORMATION\)/);
    expect(producer.sent).toEqual([]);
    expect(offsets.entries).toEqual([]);
  });

  it('a transform that drops a record is not a failure: nothing reported, offset advances', async () => {
    const { reported, producer, offsets } = await run({
      ids: ['a', 'b'],
      apply: (r) => (r.key === 'a' ? null : r),
    });
    expect(reported).toEqual([]);
    expect(producer.sent.map((r) => r.key?.toString())).toEqual(['sync:b']);
    expect(offsets.entries.at(-1)!.offset).toEqual({ id: 'b' });
  });
});
