import { describe, expect, it } from 'vitest';
import { DataError, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { flattenConfig, flattenPlugins } from '../../../../transforms/kafka/flatten.js';
import { smt, sourceRecord } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.Flatten';
const flatten = (props: Record<string, string> = {}, variant: 'Key' | 'Value' = 'Value') =>
  smt(flattenPlugins, CLASS, props, variant);

const geo = SchemaBuilder.struct().field('lat', Schemas.FLOAT64).field('lon', Schemas.FLOAT64).build();
// A struct default cannot be expressed in runtime/api (the default's schema would have to contain
// itself), so ancestor defaults are exercised through a field's own default.
const addr = SchemaBuilder.struct()
  .field('city', SchemaBuilder.string().defaultValue('Nowhere').build())
  .field('geo', SchemaBuilder.from(geo).optional().build())
  .optional()
  .build();
const schema = SchemaBuilder.struct()
  .name('erp.customer.Value')
  .field('id', Schemas.INT64)
  .field('addr', addr)
  .field('tags', SchemaBuilder.array(Schemas.STRING).build())
  .build();

function customer(): Struct {
  const geoSchema = addr.fields![1]!.schema;
  return new Struct(schema)
    .put('id', 1n)
    .put(
      'addr',
      new Struct(addr).put('city', 'Delft').put('geo', new Struct(geoSchema).put('lat', 52.0).put('lon', 4.36)),
    )
    .put('tags', ['x']);
}

describe('Flatten', () => {
  it('declares delimiter with default "."', () => {
    expect(flattenConfig.names()).toEqual(['delimiter']);
    expect(flattenConfig.key('delimiter')!.defaultValue).toBe('.');
    expect(flattenPlugins.map((p) => p.className)).toEqual([`${CLASS}$Key`, `${CLASS}$Value`]);
  });

  it('with schema: flattens nested structs, propagating optionality from ancestors and keeping defaults', () => {
    const out = flatten({ delimiter: '_' }).apply(sourceRecord({ valueSchema: schema, value: customer() }))!;
    const s = out.valueSchema!;
    expect(s.name).toBe('erp.customer.Value');
    expect(s.fields!.map((f) => [f.name, f.schema.type, f.schema.optional, f.schema.defaultValue])).toEqual([
      ['id', 'int64', false, undefined],
      ['addr_city', 'string', true, 'Nowhere'],
      ['addr_geo_lat', 'float64', true, undefined],
      ['addr_geo_lon', 'float64', true, undefined],
      ['tags', 'array', false, undefined],
    ]);
    const v = out.value as Struct;
    expect([v.get('id'), v.get('addr_city'), v.get('addr_geo_lat'), v.get('addr_geo_lon'), v.get('tags')]).toEqual([
      1n,
      'Delft',
      52.0,
      4.36,
      ['x'],
    ]);
  });

  it('leaves the fields of a null nested struct null', () => {
    const value = customer().put('addr', null);
    const out = flatten().apply(sourceRecord({ valueSchema: schema, value }))!;
    const v = out.value as Struct;
    expect(v.getWithoutDefault('addr.city')).toBeNull();
    expect(v.get('addr.city')).toBe('Nowhere'); // default carried by the flattened schema
  });

  it('reads a null field that has a default as the default, as Connect does', () => {
    const s = SchemaBuilder.struct()
      .field(
        'inner',
        SchemaBuilder.struct().field('status', SchemaBuilder.string().optional().defaultValue('NEW').build()).build(),
      )
      .build();
    const inner = new Struct(s.fields![0]!.schema).put('status', null);
    const out = flatten().apply(sourceRecord({ valueSchema: s, value: new Struct(s).put('inner', inner) }))!;
    expect((out.value as Struct).getWithoutDefault('inner.status')).toBe('NEW');
  });

  it('caches the flattened schema', () => {
    const t = flatten();
    const a = t.apply(sourceRecord({ valueSchema: schema, value: customer() }))!;
    const b = t.apply(sourceRecord({ valueSchema: schema, value: customer() }))!;
    expect(a.valueSchema).toBe(b.valueSchema);
  });

  it('rejects map fields with schema, naming the field', () => {
    const withMap = SchemaBuilder.struct()
      .field('attrs', SchemaBuilder.map(Schemas.STRING, Schemas.STRING).build())
      .build();
    expect(() =>
      flatten().apply(sourceRecord({ valueSchema: withMap, value: new Struct(withMap).put('attrs', new Map()) })),
    ).toThrow(
      new DataError('Flatten transformation does not support MAP for record with schemas (for field attrs).', 'attrs'),
    );
  });

  it('schemaless: flattens nested maps, copies arrays and nulls', () => {
    const out = flatten().apply(
      sourceRecord({ value: { id: 1, addr: { city: 'Delft', geo: { lat: 52 } }, tags: ['a'], gone: null } }),
    )!;
    expect(out.valueSchema).toBeNull();
    expect(out.value).toEqual({ id: 1, 'addr.city': 'Delft', 'addr.geo.lat': 52, tags: ['a'], gone: null });
  });

  it('schemaless: rejects a Struct or a Date inside a map', () => {
    const s = SchemaBuilder.struct().field('a', Schemas.INT32).build();
    expect(() => flatten().apply(sourceRecord({ value: { x: new Struct(s).put('a', 1) } }))).toThrow(
      'Flatten transformation does not support STRUCT for record without schemas (for field x).',
    );
    expect(() => flatten().apply(sourceRecord({ value: { x: { when: new Date(0) } } }))).toThrow(
      /passed a value of type Date .*\(for field x\.when\)/,
    );
  });

  it('flattens the key with $Key and passes a tombstone through unchanged', () => {
    const out = flatten({}, 'Key').apply(sourceRecord({ key: { a: { b: 1 } }, value: null }))!;
    expect(out.key).toEqual({ 'a.b': 1 });
    const rec = sourceRecord({ valueSchema: schema, value: null });
    expect(flatten().apply(rec)).toBe(rec);
  });

  it('fails on a value that is not a struct with schema', () => {
    expect(() => flatten().apply(sourceRecord({ valueSchema: Schemas.STRING, value: 'x' }))).toThrow(
      'Only Struct objects supported for [flattening], found: string',
    );
  });
});
