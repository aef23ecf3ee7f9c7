import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  SchemaBuilder,
  Schemas,
  Struct,
  TIMESTAMP_NAME,
} from '../../../../runtime/api/index.js';
import { insertFieldConfig, insertFieldPlugins } from '../../../../transforms/kafka/insert-field.js';
import { sinkRecord, smt, sourceRecord } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.InsertField';
const insert = (props: Record<string, string>, variant: 'Key' | 'Value' = 'Value') =>
  smt(insertFieldPlugins, CLASS, props, variant);

const schema = SchemaBuilder.struct()
  .name('erp.shipment.Value')
  .field('id', Schemas.INT32)
  .field('status', SchemaBuilder.string().optional().defaultValue('NEW').build())
  .build();
const row = () => new Struct(schema).put('id', 1).put('status', null);

describe('InsertField', () => {
  it('declares the six string keys and replace.null.with.default', () => {
    expect(insertFieldConfig.names()).toEqual([
      'topic.field',
      'partition.field',
      'offset.field',
      'timestamp.field',
      'static.field',
      'static.value',
      'replace.null.with.default',
    ]);
    expect(insertFieldPlugins.map((p) => p.className)).toEqual([`${CLASS}$Key`, `${CLASS}$Value`]);
  });

  it('with schema: appends typed fields, ! required and ? or no suffix optional', () => {
    const out = insert({
      'topic.field': 'topic!',
      'partition.field': 'partition?',
      'offset.field': 'offset',
      'timestamp.field': 'ts!',
      'static.field': 'tenant',
      'static.value': 'acme',
    }).apply(sinkRecord({ valueSchema: schema, value: row() }))!;
    const s = out.valueSchema!;
    expect(s.name).toBe('erp.shipment.Value');
    expect(s.fields!.map((f) => [f.name, f.schema.type, f.schema.optional, f.schema.name])).toEqual([
      ['id', 'int32', false, undefined],
      ['status', 'string', true, undefined],
      ['topic', 'string', false, undefined],
      ['partition', 'int32', true, undefined],
      ['offset', 'int64', true, undefined],
      ['ts', 'int64', false, TIMESTAMP_NAME],
      ['tenant', 'string', true, undefined],
    ]);
    const v = out.value as Struct;
    expect(v.get('id')).toBe(1);
    expect(v.getWithoutDefault('status')).toBe('NEW'); // replace.null.with.default=true
    expect(v.get('topic')).toBe('erp.dbo.shipment');
    expect(v.get('partition')).toBe(2);
    expect(v.get('offset')).toBe(9_007_199_254_740_993n);
    expect(v.get('ts')).toEqual(new Date(1_700_000_000_123));
    expect(v.get('tenant')).toBe('acme');
    expect(() => v.validate()).not.toThrow();
  });

  it('keeps a null field null when replace.null.with.default=false', () => {
    const out = insert({ 'topic.field': 't', 'replace.null.with.default': 'false' }).apply(
      sourceRecord({ valueSchema: schema, value: row() }),
    )!;
    expect((out.value as Struct).getWithoutDefault('status')).toBeNull();
  });

  it('skips a null timestamp and partition', () => {
    const out = insert({ 'timestamp.field': 'ts', 'partition.field': 'p' }).apply(
      sourceRecord({ valueSchema: schema, value: row(), timestamp: null, kafkaPartition: null }),
    )!;
    expect((out.value as Struct).getWithoutDefault('ts')).toBeNull();
    const schemaless = insert({ 'timestamp.field': 'ts', 'partition.field': 'p' }).apply(
      sourceRecord({ value: { id: 1 }, timestamp: null, kafkaPartition: null }),
    )!;
    expect(schemaless.value).toEqual({ id: 1 });
  });

  it('schemaless: adds plain values, the timestamp as epoch-ms int64', () => {
    const out = insert({ 'topic.field': 'topic', 'timestamp.field': 'ts', 'offset.field': 'off' }).apply(
      sinkRecord({ value: { id: 1 } }),
    )!;
    expect(out.valueSchema).toBeNull();
    expect(out.value).toEqual({
      id: 1,
      topic: 'erp.dbo.shipment',
      ts: 1_700_000_000_123n,
      off: 9_007_199_254_740_993n,
    });
  });

  it('reads the offset only from sink records', () => {
    const t = insert({ 'offset.field': 'offset' });
    expect(() => t.apply(sourceRecord({ value: { id: 1 } }))).toThrow(DataError);
    expect(() => t.apply(sourceRecord({ value: { id: 1 } }))).toThrow(
      /Only SinkRecord supported for \[field insertion\]/,
    );
  });

  it('caches the schema and works on the key with $Key', () => {
    const t = insert({ 'topic.field': 'topic' }, 'Key');
    const a = t.apply(sourceRecord({ keySchema: schema, key: row(), value: 'v' }))!;
    const b = t.apply(sourceRecord({ keySchema: schema, key: row(), value: 'v' }))!;
    expect(a.keySchema).toBe(b.keySchema);
    expect((a.key as Struct).get('topic')).toBe('erp.dbo.shipment');
    expect(a.value).toBe('v');
  });

  it('passes tombstones through unchanged', () => {
    const rec = sinkRecord({ valueSchema: schema, value: null });
    expect(insert({ 'topic.field': 'topic' }).apply(rec)).toBe(rec);
  });

  it('fails on a value that is neither struct nor map', () => {
    expect(() => insert({ 'topic.field': 'topic' }).apply(sourceRecord({ value: 'x' }))).toThrow(
      'Only Map objects supported in absence of schema for [field insertion], found: string',
    );
  });

  it('rejects a config with nothing to insert, and a static field without a value', () => {
    expect(() => insert({})).toThrow(ConfigError);
    expect(() => insert({})).toThrow(/No field insertion configured/);
    let err: unknown;
    try {
      insert({ 'static.field': 'tenant' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('static.value');
    expect((err as Error).message).toContain('No value specified for static field: tenant');
  });
});
