import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { extractFieldConfig, extractFieldPlugins } from '../../../../transforms/kafka/extract-field.js';
import { parsePathV2 } from '../../../../transforms/kafka/field-path.js';
import { smt, sourceRecord } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.ExtractField';
const extract = (props: Record<string, string>, variant: 'Key' | 'Value' = 'Value') =>
  smt(extractFieldPlugins, CLASS, props, variant);

const address = SchemaBuilder.struct()
  .field('city', Schemas.STRING)
  .field('zip', SchemaBuilder.string().optional().defaultValue('0000').build())
  .build();
const person = SchemaBuilder.struct()
  .field('id', Schemas.INT64)
  .field(
    'addr',
    SchemaBuilder.struct().field('city', Schemas.STRING).field('zip', address.fields![1]!.schema).optional().build(),
  )
  .field('a.b', Schemas.STRING)
  .build();
const addrSchema = person.fields![1]!.schema;
const value = () =>
  new Struct(person)
    .put('id', 5n)
    .put('addr', new Struct(addrSchema).put('city', 'Utrecht').put('zip', null))
    .put('a.b', 'dotted');

describe('ExtractField', () => {
  it('declares field, field.syntax.version and replace.null.with.default', () => {
    expect(extractFieldConfig.names()).toEqual(['field', 'field.syntax.version', 'replace.null.with.default']);
    expect(extractFieldPlugins.map((p) => p.className)).toEqual([`${CLASS}$Key`, `${CLASS}$Value`]);
  });

  it('V1 with schema: the value becomes the field and the schema the field schema', () => {
    const out = extract({ field: 'id' }).apply(sourceRecord({ valueSchema: person, value: value() }))!;
    expect(out.valueSchema).toBe(Schemas.INT64);
    expect(out.value).toBe(5n);
    const dotted = extract({ field: 'a.b' }).apply(sourceRecord({ valueSchema: person, value: value() }))!;
    expect(dotted.value).toBe('dotted');
  });

  it('V2 with schema: follows dotted paths, backticks quote names containing dots', () => {
    const t = extract({ field: 'addr.city', 'field.syntax.version': 'v2' });
    const out = t.apply(sourceRecord({ valueSchema: person, value: value() }))!;
    expect([out.valueSchema, out.value]).toEqual([Schemas.STRING, 'Utrecht']);
    const q = extract({ field: '`a.b`', 'field.syntax.version': 'V2' }).apply(
      sourceRecord({ valueSchema: person, value: value() }),
    )!;
    expect(q.value).toBe('dotted');
  });

  it('V2 reads a null nested default per replace.null.with.default', () => {
    const rec = sourceRecord({ valueSchema: person, value: value() });
    expect(extract({ field: 'addr.zip', 'field.syntax.version': 'V2' }).apply(rec)!.value).toBe('0000');
    const raw = extract({
      field: 'addr.zip',
      'field.syntax.version': 'V2',
      'replace.null.with.default': 'false',
    }).apply(rec)!;
    expect(raw.value).toBeNull();
    const noAddr = new Struct(person).put('id', 1n).put('a.b', 'x');
    const missing = extract({ field: 'addr.city', 'field.syntax.version': 'V2' }).apply(
      sourceRecord({ valueSchema: person, value: noAddr }),
    )!;
    expect([missing.valueSchema, missing.value]).toEqual([Schemas.STRING, null]);
  });

  it('fails on an unknown field with schema, naming it', () => {
    expect(() => extract({ field: 'nope' }).apply(sourceRecord({ valueSchema: person, value: value() }))).toThrow(
      new DataError('Unknown field: nope', 'nope'),
    );
    expect(() => extract({ field: 'addr.city' }).apply(sourceRecord({ valueSchema: person, value: value() }))).toThrow(
      'Unknown field: addr.city',
    ); // V1 does not follow dots
  });

  it('schemaless: reads the map entry (null when missing), V2 nested', () => {
    const v = { id: 5, addr: { city: 'Utrecht' }, 'x.y': { z: 1 } };
    expect(extract({ field: 'id' }).apply(sourceRecord({ value: v }))!.value).toBe(5);
    expect(extract({ field: 'missing' }).apply(sourceRecord({ value: v }))!.value).toBeNull();
    expect(extract({ field: 'constructor' }).apply(sourceRecord({ value: v }))!.value).toBeNull();
    expect(extract({ field: '`x.y`.z', 'field.syntax.version': 'V2' }).apply(sourceRecord({ value: v }))!.value).toBe(
      1,
    );
    expect(() => extract({ field: 'id.x', 'field.syntax.version': 'V2' }).apply(sourceRecord({ value: v }))).toThrow(
      'Only Map objects supported in absence of schema for [nested field access], found: number',
    );
  });

  it('extracts from the key with $Key', () => {
    const out = extract({ field: 'ID' }, 'Key').apply(sourceRecord({ key: { ID: 9 }, value: 'v' }))!;
    expect([out.keySchema, out.key, out.value]).toEqual([null, 9, 'v']);
  });

  it('keeps a null value null (with schema: the field schema)', () => {
    expect(extract({ field: 'id' }).apply(sourceRecord({ value: null }))!.value).toBeNull();
    const out = extract({ field: 'id' }).apply(sourceRecord({ valueSchema: person, value: null }))!;
    expect([out.valueSchema, out.value]).toEqual([Schemas.INT64, null]);
  });

  it('fails on a value of the wrong kind', () => {
    expect(() => extract({ field: 'id' }).apply(sourceRecord({ valueSchema: Schemas.STRING, value: 'x' }))).toThrow(
      'Only Struct objects supported for [field extraction], found: string',
    );
  });

  it('validates its config, naming the key', () => {
    expect(() => extract({})).toThrow(
      new ConfigError('Missing required configuration "field" which has no default value.', 'field'),
    );
    expect(() => extract({ field: 'a', 'field.syntax.version': 'V3' })).toThrow(
      /configuration field\.syntax\.version: String must be one of \(case insensitive\): V1, V2/,
    );
    let err: unknown;
    try {
      extract({ field: '`a.b', 'field.syntax.version': 'V2' });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).key).toBe('field');
    expect((err as Error).message).toContain(
      'Incomplete backtick pair in path: [`a.b], consider adding a backslash before backtick at position 0',
    );
  });
});

describe('V2 path parsing (Connect SingleFieldPath cases)', () => {
  it.each([
    ['foo', ['foo']],
    ['foo.bar', ['foo', 'bar']],
    ['`foo.bar`.baz', ['foo.bar', 'baz']],
    ['foo.`bar.baz`', ['foo', 'bar.baz']],
    ['`foo`bar`.baz', ['foo`bar', 'baz']],
    ['`foo\\`.bar`.baz', ['foo`.bar', 'baz']],
    ['foo.', ['foo', '']],
    ['.foo', ['', 'foo']],
    ['`foo`', ['foo']],
  ])('%s', (path, steps) => {
    expect(parsePathV2(path, 'field')).toEqual(steps);
  });
});
