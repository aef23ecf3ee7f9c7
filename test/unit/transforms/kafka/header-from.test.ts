import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, Headers, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { headerFromPlugins } from '../../../../transforms/kafka/header-from.js';
import { KAFKA, apply, record, transform } from './record-smt-fixtures.js';

const VALUE = `${KAFKA}HeaderFrom$Value`;
const KEY = `${KAFKA}HeaderFrom$Key`;

const schema = SchemaBuilder.struct()
  .name('erp.Shipment')
  .version(3)
  .field('id', Schemas.INT64)
  .field('tenant', Schemas.STRING)
  .field('region', SchemaBuilder.string().optional().defaultValue('eu').build())
  .build();
const shipment = () => new Struct(schema).put('id', 7n).put('tenant', 'acme').put('region', null);

describe('HeaderFrom', () => {
  it('has $Key and $Value variants and no alias', () => {
    expect(headerFromPlugins.map((p) => [p.className, p.aliases])).toEqual([
      [KEY, []],
      [VALUE, []],
    ]);
  });

  it('copy keeps the value and adds headers carrying the field schemas', () => {
    const value = shipment();
    const r = record({ valueSchema: schema, value, headers: Headers.of({ pre: 1 }) });
    const out = apply(transform(VALUE, { fields: 'tenant,id', headers: 'x-tenant,x-id', operation: 'copy' }), r);
    expect(out.value).toBe(value);
    expect(out.valueSchema).toBe(schema);
    expect(out.headers).toEqual([
      { key: 'pre', value: 1, schema: null },
      { key: 'x-tenant', value: 'acme', schema: Schemas.STRING },
      { key: 'x-id', value: 7n, schema: Schemas.INT64 },
    ]);
  });

  it('move removes the fields from the schema (basics kept) and the struct', () => {
    const t = transform(VALUE, { fields: 'tenant', headers: 'tenant', operation: 'move' });
    const out = apply(t, record({ valueSchema: schema, value: shipment() }));
    expect(out.valueSchema!.fields!.map((f) => f.name)).toEqual(['id', 'region']);
    expect(out.valueSchema).toMatchObject({ name: 'erp.Shipment', version: 3 });
    const moved = out.value as Struct;
    expect(moved.schema).toBe(out.valueSchema);
    expect(moved.get('id')).toBe(7n);
    expect(out.headers).toEqual([{ key: 'tenant', value: 'acme', schema: Schemas.STRING }]);
    // The moved schema is derived once per input schema.
    const again = apply(t, record({ valueSchema: schema, value: shipment() }));
    expect(again.valueSchema).toBe(out.valueSchema);
  });

  it('uses the field default for a null field unless replace.null.with.default=false', () => {
    const props = { fields: 'region', headers: 'region', operation: 'copy' };
    const withDefault = apply(transform(VALUE, props), record({ valueSchema: schema, value: shipment() }));
    expect(withDefault.headers[0]!.value).toBe('eu');
    const raw = apply(
      transform(VALUE, { ...props, 'replace.null.with.default': 'false' }),
      record({ valueSchema: schema, value: shipment() }),
    );
    expect(raw.headers[0]!.value).toBeNull();
  });

  it('works on the key with $Key', () => {
    const keySchema = SchemaBuilder.struct().field('id', Schemas.INT64).field('site', Schemas.STRING).build();
    const key = new Struct(keySchema).put('id', 1n).put('site', 'HAM');
    const r = record({ keySchema, key, value: 'v', valueSchema: Schemas.STRING });
    const out = apply(transform(KEY, { fields: 'site', headers: 'site', operation: 'move' }), r);
    expect((out.key as Struct).schema.fields!.map((f) => f.name)).toEqual(['id']);
    expect(out.headers).toEqual([{ key: 'site', value: 'HAM', schema: Schemas.STRING }]);
    expect(out.value).toBe('v');
  });

  it('schemaless: copies or moves map entries into headers without a schema', () => {
    const value = { id: 7, tenant: 'acme' };
    const copied = apply(
      transform(VALUE, { fields: 'tenant,missing', headers: 't,m', operation: 'copy' }),
      record({ value }),
    );
    expect(copied.value).toEqual({ id: 7, tenant: 'acme' });
    expect(copied.headers).toEqual([
      { key: 't', value: 'acme', schema: null },
      { key: 'm', value: null, schema: null },
    ]);
    const moved = apply(transform(VALUE, { fields: 'tenant', headers: 't', operation: 'move' }), record({ value }));
    expect(moved.value).toEqual({ id: 7 });
    expect(value).toEqual({ id: 7, tenant: 'acme' });
  });

  it('fails on a tombstone, as Connect does (pair it with RecordIsTombstone negate=true)', () => {
    const t = transform(VALUE, { fields: 'tenant', headers: 't', operation: 'copy' });
    expect(() => t.apply(record({ value: null }))).toThrow(
      'Only Map objects supported in absence of schema for [header copy], found: null',
    );
    expect(() => t.apply(record({ valueSchema: SchemaBuilder.struct().optional().build(), value: null }))).toThrow(
      'Only Struct objects supported for [header copy], found: null',
    );
  });

  it('names a field missing from the schema', () => {
    const t = transform(VALUE, { fields: 'nope', headers: 'n', operation: 'copy' });
    const err = catchError(() => t.apply(record({ valueSchema: schema, value: shipment() })));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain('Field "nope"');
  });

  it('validates its config', () => {
    const err = catchError(() => transform(VALUE, { fields: 'a,b', headers: 'a', operation: 'copy' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain("'fields' config must have the same number of elements as 'headers' config");
    expect(() => transform(VALUE, { fields: 'a', headers: 'a', operation: 'cut' })).toThrow(
      'Invalid value cut for configuration operation: String must be one of: move, copy',
    );
    expect(() => transform(VALUE, { fields: 'a', headers: 'a' })).toThrow('Missing required configuration "operation"');
    expect(() => transform(VALUE, { fields: '', headers: 'a', operation: 'copy' })).toThrow('fields: Empty list');
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}
