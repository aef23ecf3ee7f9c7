import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  Decimal,
  DecimalType,
  SchemaBuilder,
  Schemas,
  Struct,
  TimestampType,
} from '../../../../runtime/api/index.js';
import { maskFieldConfig, maskFieldPlugins } from '../../../../transforms/kafka/mask-field.js';
import { smt, sourceRecord } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.MaskField';
const mask = (props: Record<string, string>, variant: 'Key' | 'Value' = 'Value') =>
  smt(maskFieldPlugins, CLASS, props, variant);

const schema = SchemaBuilder.struct()
  .field('name', Schemas.STRING)
  .field('age', Schemas.INT8)
  .field('id', Schemas.INT64)
  .field('score', Schemas.FLOAT32)
  .field('vip', Schemas.BOOLEAN)
  .field('balance', DecimalType.schema(2))
  .field('born', TimestampType.schema())
  .field('tags', SchemaBuilder.array(Schemas.STRING).build())
  .field('attrs', SchemaBuilder.map(Schemas.STRING, Schemas.STRING).build())
  .field('note', SchemaBuilder.string().optional().defaultValue('n/a').build())
  .field('photo', Schemas.OPTIONAL_BYTES)
  .build();

const person = () =>
  new Struct(schema)
    .put('name', 'Ann')
    .put('age', 42)
    .put('id', 77n)
    .put('score', 1.5)
    .put('vip', true)
    .put('balance', Decimal.parse('100.25'))
    .put('born', new Date(1_000_000))
    .put('tags', ['a'])
    .put('attrs', new Map([['k', 'v']]))
    .put('note', null)
    .put('photo', Buffer.from([1, 2]));

const ALL = 'name,age,id,score,vip,balance,born,tags,attrs';

describe('MaskField', () => {
  it('declares fields, replacement and replace.null.with.default', () => {
    expect(maskFieldConfig.names()).toEqual(['fields', 'replacement', 'replace.null.with.default']);
    expect(maskFieldPlugins.map((p) => p.className)).toEqual([`${CLASS}$Key`, `${CLASS}$Value`]);
  });

  it('with schema: masks each type with its empty value and keeps the schema', () => {
    const out = mask({ fields: ALL }).apply(sourceRecord({ valueSchema: schema, value: person() }))!;
    expect(out.valueSchema).toBe(schema);
    const v = out.value as Struct;
    expect(v.get('name')).toBe('');
    expect(v.get('age')).toBe(0);
    expect(v.get('id')).toBe(0n);
    expect(v.get('score')).toBe(0);
    expect(v.get('vip')).toBe(false);
    expect(v.get('balance')).toEqual(new Decimal(0n, 2));
    expect(v.get('born')).toEqual(new Date(0));
    expect(v.get('tags')).toEqual([]);
    expect(v.get('attrs')).toEqual(new Map());
    expect(v.getWithoutDefault('note')).toBe('n/a'); // unmasked, default applied
    expect(() => v.validate()).not.toThrow();
  });

  it('keeps null fields null, reading defaults per replace.null.with.default', () => {
    const out = mask({ fields: 'note' }).apply(sourceRecord({ valueSchema: schema, value: person() }))!;
    expect((out.value as Struct).getWithoutDefault('note')).toBe(''); // default "n/a" masked
    const raw = mask({ fields: 'note', 'replace.null.with.default': 'false' }).apply(
      sourceRecord({ valueSchema: schema, value: person() }),
    )!;
    expect((raw.value as Struct).getWithoutDefault('note')).toBeNull();
  });

  it('converts the replacement to each numeric type and keeps it for strings', () => {
    const out = mask({ fields: 'name,age,id,score,balance', replacement: '12' }).apply(
      sourceRecord({ valueSchema: schema, value: person() }),
    )!;
    const v = out.value as Struct;
    expect([v.get('name'), v.get('age'), v.get('id'), v.get('score')]).toEqual(['12', 12, 12n, 12]);
    expect(v.get('balance')).toEqual(new Decimal(1200n, 2));
  });

  it('narrows a numeric replacement the Java way, as Connect 3.9 does', () => {
    const rec = sourceRecord({ valueSchema: schema, value: person() });
    const masked = (field: string, replacement: string) =>
      (mask({ fields: field, replacement }).apply(rec)!.value as Struct).get(field);
    expect(masked('age', '300')).toBe(44); // (byte) 300
    expect(masked('age', '1e3')).toBe(-24); // (byte) 1000
    expect(masked('id', '1.5')).toBe(1n);
    expect(masked('id', '99999999999999999999')).toBe(7766279631452241919n); // low 64 bits
    expect(masked('score', ' 2.5 ')).toBe(2.5);
  });

  it('rejects a replacement that is no number, or does not fit, naming the field', () => {
    const rec = sourceRecord({ valueSchema: schema, value: person() });
    expect(() => mask({ fields: 'age', replacement: 'abc' }).apply(rec)).toThrow(
      new DataError('Unable to convert abc (string) to a number for field "age"', 'age'),
    );
    expect(() => mask({ fields: 'vip', replacement: 'x' }).apply(rec)).toThrow(
      'Cannot mask value of type boolean with custom replacement for field "vip"',
    );
    expect(() => mask({ fields: 'balance', replacement: '0.001' }).apply(rec)).toThrow(
      /does not fit the Decimal scale 2/,
    );
  });

  it('cannot mask bytes', () => {
    expect(() => mask({ fields: 'photo' }).apply(sourceRecord({ valueSchema: schema, value: person() }))).toThrow(
      'Cannot mask value of type: bytes for field "photo"',
    );
  });

  it('schemaless: masks map entries, a missing field is added as null', () => {
    const out = mask({ fields: 'ssn,age,ratio,nested,gone' }).apply(
      sourceRecord({ value: { ssn: '123', age: 5, ratio: 0.5, nested: { a: 1 }, keep: 'k' } }),
    )!;
    expect(out.value).toEqual({ ssn: '', age: 0, ratio: 0, nested: {}, keep: 'k', gone: null });
    const replaced = mask({ fields: 'ssn,age', replacement: '9' }).apply(
      sourceRecord({ value: { ssn: '123', age: 5 } }),
    )!;
    expect(replaced.value).toEqual({ ssn: '9', age: 9 });
    expect(mask({ fields: 'ratio', replacement: '1.5' }).apply(sourceRecord({ value: { ratio: 5 } }))!.value).toEqual({
      ratio: 1.5,
    });
    // Schemaless, a bigint is a Long: the replacement is narrowed to a long.
    expect(mask({ fields: 'age', replacement: '1.5' }).apply(sourceRecord({ value: { age: 5n } }))!.value).toEqual({
      age: 1n,
    });
  });

  it('masks the key with $Key', () => {
    const out = mask({ fields: 'ssn' }, 'Key').apply(sourceRecord({ key: { ssn: 'x' }, value: { ssn: 'x' } }))!;
    expect([out.key, out.value]).toEqual([{ ssn: '' }, { ssn: 'x' }]);
  });

  it('fails on a tombstone, as Connect does', () => {
    expect(() => mask({ fields: 'a' }).apply(sourceRecord({ value: null }))).toThrow(
      'Only Map objects supported in absence of schema for [mask fields], found: null',
    );
  });

  it('validates its config, naming the key', () => {
    expect(() => mask({})).toThrow(
      new ConfigError('Missing required configuration "fields" which has no default value.', 'fields'),
    );
    expect(() => mask({ fields: 'a', replacement: '' })).toThrow(/configuration replacement: String must be non-empty/);
    expect(() => mask({ fields: '' })).toThrow(/configuration fields: Empty list/);
  });
});
