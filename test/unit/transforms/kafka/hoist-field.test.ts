import { describe, expect, it } from 'vitest';
import type { Struct } from '../../../../runtime/api/index.js';
import { ConfigError, DataError, Schemas } from '../../../../runtime/api/index.js';
import { hoistFieldConfig, hoistFieldPlugins } from '../../../../transforms/kafka/hoist-field.js';
import { smt, sourceRecord } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.HoistField';
const hoist = (field: string, variant: 'Key' | 'Value' = 'Value') => smt(hoistFieldPlugins, CLASS, { field }, variant);

describe('HoistField', () => {
  it('declares one required key for both variants', () => {
    expect(hoistFieldConfig.names()).toEqual(['field']);
    expect(hoistFieldPlugins.map((p) => p.className)).toEqual([`${CLASS}$Key`, `${CLASS}$Value`]);
  });

  it('with schema: wraps the key in a one-field struct whose field schema is the original', () => {
    const t = hoist('id', 'Key');
    const out = t.apply(sourceRecord({ keySchema: Schemas.INT64, key: 42n, value: 'v' }))!;
    expect(out.keySchema!.type).toBe('struct');
    expect(out.keySchema!.fields!.map((f) => [f.name, f.schema])).toEqual([['id', Schemas.INT64]]);
    expect((out.key as Struct).get('id')).toBe(42n);
    expect(out.value).toBe('v');
    const again = t.apply(sourceRecord({ keySchema: Schemas.INT64, key: 43n }))!;
    expect(again.keySchema).toBe(out.keySchema);
  });

  it('schemaless: wraps in a map', () => {
    const out = hoist('line').apply(sourceRecord({ value: 'raw text' }))!;
    expect([out.valueSchema, out.value]).toEqual([null, { line: 'raw text' }]);
  });

  it('wraps a tombstone too: schemaless {field: null}, optional schema gives a null field', () => {
    expect(hoist('line').apply(sourceRecord({ value: null }))!.value).toEqual({ line: null });
    const out = hoist('line').apply(sourceRecord({ valueSchema: Schemas.OPTIONAL_STRING, value: null }))!;
    expect((out.value as Struct).getWithoutDefault('line')).toBeNull();
  });

  it('fails on a tombstone whose schema is required, as Connect does', () => {
    expect(() => hoist('line').apply(sourceRecord({ valueSchema: Schemas.STRING, value: null }))).toThrow(DataError);
    expect(() => hoist('line').apply(sourceRecord({ valueSchema: Schemas.STRING, value: null }))).toThrow(
      'Invalid value: null used for required field: "line", schema type: string',
    );
  });

  it('requires field', () => {
    expect(() => smt(hoistFieldPlugins, CLASS, {}, 'Value')).toThrow(
      new ConfigError('Missing required configuration "field" which has no default value.', 'field'),
    );
  });
});
