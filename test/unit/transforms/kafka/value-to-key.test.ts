import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { valueToKeyConfig, valueToKeyPlugin } from '../../../../transforms/kafka/value-to-key.js';
import { smt, sourceRecord } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.ValueToKey';
const valueToKey = (props: Record<string, string>) => smt([valueToKeyPlugin], CLASS, props);

const phone = SchemaBuilder.struct()
  .name('erp.phone.Value')
  .field('PHONE_ID', Schemas.INT64)
  .field('PERSON_ID', Schemas.INT64)
  .field('region', SchemaBuilder.string().optional().defaultValue('EU').build())
  .field('number', Schemas.STRING)
  .build();
const value = () =>
  new Struct(phone).put('PHONE_ID', 10n).put('PERSON_ID', 7n).put('region', null).put('number', '+31');

describe('ValueToKey', () => {
  it('is one class with the simple-name alias', () => {
    expect(valueToKeyPlugin.className).toBe(CLASS);
    expect(valueToKeyPlugin.aliases).toEqual(['ValueToKey']);
    expect(valueToKeyConfig.names()).toEqual(['fields', 'replace.null.with.default']);
  });

  it('with schema: builds a struct key of the listed fields in the listed order', () => {
    const rec = sourceRecord({ keySchema: Schemas.INT64, key: 10n, valueSchema: phone, value: value() });
    const out = valueToKey({ fields: 'region,PERSON_ID' }).apply(rec)!;
    expect(out.keySchema!.fields!.map((f) => [f.name, f.schema])).toEqual([
      ['region', phone.fields![2]!.schema],
      ['PERSON_ID', Schemas.INT64],
    ]);
    const key = out.key as Struct;
    expect(key.getWithoutDefault('PERSON_ID')).toBe(7n);
    expect(key.getWithoutDefault('region')).toBe('EU');
    expect(out.value).toBe(rec.value);
    expect(out.valueSchema).toBe(phone);
  });

  it('honours replace.null.with.default=false', () => {
    const out = valueToKey({ fields: 'region', 'replace.null.with.default': 'false' }).apply(
      sourceRecord({ valueSchema: phone, value: value() }),
    )!;
    expect((out.key as Struct).getWithoutDefault('region')).toBeNull();
  });

  it('caches the key schema per value schema', () => {
    const t = valueToKey({ fields: 'PERSON_ID' });
    const a = t.apply(sourceRecord({ valueSchema: phone, value: value() }))!;
    const b = t.apply(sourceRecord({ valueSchema: phone, value: value() }))!;
    expect(a.keySchema).toBe(b.keySchema);
  });

  it('fails on a field the value schema lacks, naming it', () => {
    expect(() => valueToKey({ fields: 'PERSON' }).apply(sourceRecord({ valueSchema: phone, value: value() }))).toThrow(
      new DataError('Field does not exist: PERSON', 'PERSON'),
    );
  });

  it('schemaless: builds a map key, missing fields as null', () => {
    const out = valueToKey({ fields: 'PERSON_ID,absent' }).apply(
      sourceRecord({ key: 'old', value: { PERSON_ID: 7, x: 1 } }),
    )!;
    expect(out.keySchema).toBeNull();
    expect(out.key).toEqual({ PERSON_ID: 7, absent: null });
  });

  it('fails on a tombstone, as Connect does', () => {
    expect(() => valueToKey({ fields: 'PERSON_ID' }).apply(sourceRecord({ value: null }))).toThrow(
      'Only Map objects supported in absence of schema for [copying fields from value to key], found: null',
    );
    expect(() => valueToKey({ fields: 'PERSON_ID' }).apply(sourceRecord({ valueSchema: phone, value: null }))).toThrow(
      'Only Struct objects supported for [copying fields from value to key], found: null',
    );
  });

  it('requires a non-empty fields list', () => {
    expect(() => valueToKey({})).toThrow(
      new ConfigError('Missing required configuration "fields" which has no default value.', 'fields'),
    );
    expect(() => valueToKey({ fields: '' })).toThrow(/configuration fields: Empty list/);
  });
});
