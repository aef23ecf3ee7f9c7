import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Converter,
  Headers,
  type Schema,
  SchemaBuilder,
  type SourceRecord,
  Struct,
  StructValues,
  recordWithValues,
  silentLogger,
} from '../../../../runtime/api/index.js';
import { JsonConverter, SimpleHeaderConverter } from '../../../../runtime/converters/index.js';
import { ErrorReporter } from '../../../../runtime/errors/reporter.js';
import { errorHandlingSettings } from '../../../../runtime/worker/connector-settings.js';
import { TransformChain } from '../../../../runtime/transforms/index.js';
import { WorkerSourceTask } from '../../../../runtime/worker/source-task.js';
import { AckingProducer, MemoryOffsets, OneBatch, runBriefly } from '../../../support/source-task.js';

/**
 * A source connector may hand its values over as StructValues (recordWithValues): the worker lets a converter that
 * accepts them write the value straight from them, only while the connector has no transforms; a transform or any
 * other converter sees the record's value, the Struct, as always.
 */

const ROW = SchemaBuilder.struct()
  .name('t.Value')
  .field('id', SchemaBuilder.int64().build())
  .field('name', SchemaBuilder.string().optional().build())
  .optional()
  .build();
const ENVELOPE = SchemaBuilder.struct()
  .name('t.Envelope')
  .field('after', ROW)
  .field('op', SchemaBuilder.string().build())
  .build();

function event(id: number): SourceRecord {
  return recordWithValues(
    {
      topic: 'out',
      kafkaPartition: null,
      keySchema: null,
      key: String(id),
      timestamp: null,
      headers: Headers.of({ id: String(id) }),
      sourcePartition: { table: 't' },
      sourceOffset: { id },
    },
    new StructValues(ENVELOPE, [new StructValues(ROW, [BigInt(id), `n${id}`]), 'c']),
  );
}

/** A converter without StructValues support: records what it was given. */
class SeeingConverter implements Converter {
  readonly seen: unknown[] = [];
  configure(): void {}
  fromConnectDataSync(_t: string, _h: Headers, _s: Schema | null, v: unknown): Buffer | null {
    this.seen.push(v);
    return Buffer.from(v instanceof Struct ? v.toString() : String(v));
  }
  async fromConnectData(t: string, h: Headers, s: Schema | null, v: unknown): Promise<Buffer | null> {
    return this.fromConnectDataSync(t, h, s, v);
  }
  async toConnectData(): Promise<{ schema: null; value: null }> {
    return { schema: null, value: null };
  }
}

async function run(chain: TransformChain<SourceRecord>, value: Converter): Promise<AckingProducer> {
  const errors = errorHandlingSettings({});
  const header = new SimpleHeaderConverter();
  header.configure({});
  const key = new SeeingConverter();
  const producer = new AckingProducer();
  const states: string[] = [];
  const task = new WorkerSourceTask({
    connector: 'c',
    taskId: 0,
    task: new OneBatch(() => [event(1), event(2)]),
    taskClass: 'OneBatch',
    props: {},
    chain,
    converters: { key, keyClass: 'K', value, valueClass: 'V', header, headerClass: 'H' },
    producer,
    offsets: new MemoryOffsets(),
    errors,
    reporter: new ErrorReporter({ connector: 'c', task: 0 }, errors, silentLogger, null),
    logger: silentLogger,
    listener: { onState: (s) => states.push(s) },
    offsetFlushIntervalMs: 0,
    onTopic: () => {},
    ensureTopic: async () => {},
  });
  await runBriefly(task);
  expect(states).toEqual(['RUNNING', 'UNASSIGNED']);
  return producer;
}

function json(): JsonConverter {
  const c = new JsonConverter();
  c.configure({ 'schemas.enable': 'false' }, false);
  return c;
}

const EXPECTED = ['{"after":{"id":1,"name":"n1"},"op":"c"}', '{"after":{"id":2,"name":"n2"},"op":"c"}'];

describe('WorkerSourceTask: values handed over as StructValues', () => {
  afterEach(() => vi.restoreAllMocks());

  it('without transforms, the JSON converter writes them without building the Structs', async () => {
    const built = vi.spyOn(StructValues.prototype, 'toStruct');
    const producer = await run(TransformChain.empty<SourceRecord>(), json());
    expect(producer.sent.map((r) => r.value?.toString())).toEqual(EXPECTED);
    expect(built).not.toHaveBeenCalled();
  });

  it('a converter that does not accept them is given the Struct, the same bytes as before', async () => {
    const value = new SeeingConverter();
    const producer = await run(TransformChain.empty<SourceRecord>(), value);
    expect(value.seen.every((v) => v instanceof Struct)).toBe(true);
    expect(producer.sent.map((r) => r.value?.toString())).toEqual([
      'Struct{after=Struct{id=1,name=n1},op=c}',
      'Struct{after=Struct{id=2,name=n2},op=c}',
    ]);
  });

  it('with a transform, the converter writes what the transform made, even a record it returned as it was', async () => {
    // A chain with a stage, in place of a real SMT: one record changed into a copy, one changed in place and returned.
    const chain = {
      stages: [{}],
      apply: (r: SourceRecord) => {
        if (r.key === '2') {
          ((r.value as Struct).get('after') as Struct).put('name', 'in place');
          return r;
        }
        const after = (r.value as Struct).get('after') as Struct;
        const renamed = new Struct(ENVELOPE)
          .put('after', new Struct(ROW).put('id', after.get('id')).put('name', 'renamed'))
          .put('op', 'u');
        return { ...r, value: renamed };
      },
      close: async () => {},
    } as unknown as TransformChain<SourceRecord>;
    const producer = await run(chain, json());
    expect(producer.sent.map((r) => r.value?.toString())).toEqual([
      '{"after":{"id":1,"name":"renamed"},"op":"u"}',
      '{"after":{"id":2,"name":"in place"},"op":"c"}',
    ]);
  });
});
