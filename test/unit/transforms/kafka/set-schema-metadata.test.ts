import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { setSchemaMetadataPlugins } from '../../../../transforms/kafka/set-schema-metadata.js';
import { KAFKA, apply, record, transform } from './record-smt-fixtures.js';

const VALUE = `${KAFKA}SetSchemaMetadata$Value`;
const KEY = `${KAFKA}SetSchemaMetadata$Key`;

const schema = SchemaBuilder.struct()
  .name('dbo.SHPMT')
  .version(1)
  .doc('shipments')
  .parameter('source', 'erp')
  .optional()
  .field('id', Schemas.INT64)
  .field('status', SchemaBuilder.string().optional().defaultValue('NEW').build())
  .build();

describe('SetSchemaMetadata', () => {
  it('has $Key and $Value variants and no alias', () => {
    expect(setSchemaMetadataPlugins.map((p) => p.className)).toEqual([KEY, VALUE]);
    expect(setSchemaMetadataPlugins.every((p) => p.aliases!.length === 0)).toBe(true);
  });

  it('sets name and version and keeps everything else of the schema', () => {
    const value = new Struct(schema).put('id', 1n).put('status', 'SHIPPED');
    const out = apply(
      transform(VALUE, { 'schema.name': 'com.acme.Shipment', 'schema.version': '2' }),
      record({ valueSchema: schema, value }),
    );
    expect(out.valueSchema).toEqual({ ...schema, name: 'com.acme.Shipment', version: 2 });
    const struct = out.value as Struct;
    expect(struct.schema).toBe(out.valueSchema);
    expect(struct.get('id')).toBe(1n);
    expect(struct.get('status')).toBe('SHIPPED');
  });

  it('sets only what is configured', () => {
    const out = apply(transform(VALUE, { 'schema.version': '9' }), record({ valueSchema: schema, value: null }));
    expect(out.valueSchema).toMatchObject({ name: 'dbo.SHPMT', version: 9 });
    expect(out.value).toBeNull();
  });

  it('renames primitive schemas and keeps the value', () => {
    const out = apply(
      transform(KEY, { 'schema.name': 'com.acme.ShipmentKey' }),
      record({ keySchema: Schemas.INT64, key: 5n, value: 'v' }),
    );
    expect(out.keySchema).toEqual({ type: 'int64', optional: false, name: 'com.acme.ShipmentKey' });
    expect(out.key).toBe(5n);
    expect(out.value).toBe('v');
  });

  it('caches the renamed schema by the input schema identity', () => {
    const t = transform(VALUE, { 'schema.name': 'x' });
    const a = apply(t, record({ valueSchema: schema, value: new Struct(schema).put('id', 1n) }));
    const b = apply(t, record({ valueSchema: schema, value: new Struct(schema).put('id', 2n) }));
    expect(a.valueSchema).toBe(b.valueSchema);
  });

  it('applies field defaults to null fields unless replace.null.with.default=false', () => {
    const value = new Struct(schema).put('id', 1n).put('status', null);
    const withDefault = apply(transform(VALUE, { 'schema.name': 'x' }), record({ valueSchema: schema, value }));
    expect((withDefault.value as Struct).getWithoutDefault('status')).toBe('NEW');
    const raw = apply(
      transform(VALUE, { 'schema.name': 'x', 'replace.null.with.default': 'false' }),
      record({ valueSchema: schema, value }),
    );
    expect((raw.value as Struct).getWithoutDefault('status')).toBeNull();
  });

  it('rebinds a Struct default to the renamed schema', () => {
    // SchemaBuilder cannot express a struct default (it validates it against a schema not yet built);
    // schemas arriving from converters can carry one, so build it by hand.
    const base = SchemaBuilder.struct().name('old').optional().field('id', Schemas.INT64).build();
    const withDefault = Object.freeze({ ...base, defaultValue: new Struct(base).put('id', 0n) });
    const out = apply(transform(VALUE, { 'schema.name': 'new' }), record({ valueSchema: withDefault, value: null }));
    const dflt = out.valueSchema!.defaultValue as Struct;
    expect(out.valueSchema!.name).toBe('new');
    expect(dflt.schema).toBe(out.valueSchema);
    expect(dflt.get('id')).toBe(0n);
  });

  it('passes a schemaless tombstone through, and fails on other schemaless records', () => {
    const t = transform(VALUE, { 'schema.name': 'x' });
    const tombstone = record({ value: null });
    expect(t.apply(tombstone)).toBe(tombstone);
    const err = catchError(() => t.apply(record({ value: { id: 1 } })));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toBe('Schema required for [updating schema metadata]');
  });

  it('requires a name or a version', () => {
    const err = catchError(() => transform(VALUE, {}));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('Neither schema name nor version configured');
    expect(() => transform(VALUE, { 'schema.version': 'two' })).toThrow(
      'Invalid value two for configuration schema.version: Not a number of type INT',
    );
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
