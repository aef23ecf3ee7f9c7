import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  SchemaBuilder,
  Schemas,
  Struct,
  configKeyInfo,
} from '../../../../runtime/api/index.js';
import { replaceFieldConfig, replaceFieldPlugins } from '../../../../transforms/kafka/replace-field.js';
import { sourceRecord, smt } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.ReplaceField';
const replace = (props: Record<string, string>, variant: 'Key' | 'Value' = 'Value') =>
  smt(replaceFieldPlugins, CLASS, props, variant);

const schema = SchemaBuilder.struct()
  .name('erp.shipment.Value')
  .version(3)
  .doc('shipment row')
  .field('SHPMT_NO', Schemas.STRING)
  .field('Z_CUST_CD', Schemas.OPTIONAL_STRING)
  .field('dtUpdt', Schemas.INT64)
  .field('secret', Schemas.OPTIONAL_STRING)
  .build();

function row(): Struct {
  return new Struct(schema).put('SHPMT_NO', 'S-1').put('Z_CUST_CD', 'C9').put('dtUpdt', 5n).put('secret', 'x');
}

describe('ReplaceField', () => {
  it('declares $Key and $Value variants without aliases, sharing one spec', () => {
    expect(replaceFieldPlugins.map((p) => p.className)).toEqual([`${CLASS}$Key`, `${CLASS}$Value`]);
    expect(replaceFieldPlugins.every((p) => p.aliases?.length === 0 && p.config === replaceFieldConfig)).toBe(true);
    expect(replaceFieldConfig.names()).toEqual(['exclude', 'include', 'renames', 'replace.null.with.default']);
    expect(configKeyInfo(replaceFieldConfig.key('exclude')!)).toMatchObject({ type: 'LIST', default_value: '' });
    expect(replaceFieldPlugins[1]!.example?.['transforms.clean.type']).toBe(`${CLASS}$Value`);
  });

  it('with schema: excludes, renames, keeps order and schema name/version/doc', () => {
    const out = replace({ exclude: 'secret', renames: 'SHPMT_NO:shipmentNumber,Z_CUST_CD:customerCode' }).apply(
      sourceRecord({ valueSchema: schema, value: row() }),
    )!;
    const s = out.valueSchema!;
    expect(s.fields!.map((f) => [f.name, f.schema.type, f.schema.optional])).toEqual([
      ['shipmentNumber', 'string', false],
      ['customerCode', 'string', true],
      ['dtUpdt', 'int64', false],
    ]);
    expect([s.name, s.version, s.doc]).toEqual(['erp.shipment.Value', 3, 'shipment row']);
    const v = out.value as Struct;
    expect([v.get('shipmentNumber'), v.get('customerCode'), v.get('dtUpdt')]).toEqual(['S-1', 'C9', 5n]);
  });

  it('include keeps only listed fields and exclude wins over include', () => {
    const out = replace({ include: 'SHPMT_NO,secret', exclude: 'secret' }).apply(
      sourceRecord({ valueSchema: schema, value: row() }),
    )!;
    expect(out.valueSchema!.fields!.map((f) => f.name)).toEqual(['SHPMT_NO']);
    expect((out.value as Struct).get('SHPMT_NO')).toBe('S-1');
  });

  it('refuses the blacklist/whitelist names Connect 4.0 removed (4.x ignores them; ignoring a blacklist leaks)', () => {
    expect(() => replace({ blacklist: 'secret' })).toThrow(/blacklist.*removed in Kafka Connect 4\.0.*use 'exclude'/);
    expect(() => replace({ exclude: 'secret', whitelist: 'SHPMT_NO' })).toThrow(/use 'include'/);
    expect(() => replace({ exclude: 'secret', blacklist: '' })).toThrow(ConfigError);
    // not a key any more: absent from the spec, so listings and validation show it as Connect 4.x does
    expect(replaceFieldConfig.names()).not.toContain('blacklist');
    expect(replaceFieldConfig.names()).not.toContain('whitelist');
  });

  it('builds the output schema once per input schema', () => {
    const t = replace({ exclude: 'secret' });
    const a = t.apply(sourceRecord({ valueSchema: schema, value: row() }))!;
    const b = t.apply(sourceRecord({ valueSchema: schema, value: row() }))!;
    expect(a.valueSchema).toBe(b.valueSchema);
  });

  it('replace.null.with.default decides between the field default and null', () => {
    const withDefault = SchemaBuilder.struct()
      .field('status', SchemaBuilder.string().optional().defaultValue('NEW').build())
      .build();
    const value = new Struct(withDefault).put('status', null);
    const rec = sourceRecord({ valueSchema: withDefault, value });
    expect((replace({ renames: 'status:state' }).apply(rec)!.value as Struct).getWithoutDefault('state')).toBe('NEW');
    const raw = replace({ renames: 'status:state', 'replace.null.with.default': 'false' }).apply(rec)!;
    expect((raw.value as Struct).getWithoutDefault('state')).toBeNull();
  });

  it('schemaless: filters and renames a plain object', () => {
    const out = replace({ exclude: 'secret', renames: 'SHPMT_NO:shipmentNumber' }).apply(
      sourceRecord({ value: { SHPMT_NO: 'S-1', secret: 'x', n: 1 } }),
    )!;
    expect(out.valueSchema).toBeNull();
    expect(out.value).toEqual({ shipmentNumber: 'S-1', n: 1 });
  });

  it('operates on the key with $Key and leaves the value alone', () => {
    const rec = sourceRecord({ key: { ID: 7, junk: 1 }, value: { ID: 7 } });
    const out = replace({ include: 'ID', renames: 'ID:id' }, 'Key').apply(rec)!;
    expect(out.key).toEqual({ id: 7 });
    expect(out.value).toBe(rec.value);
  });

  it('passes tombstones through unchanged', () => {
    const rec = sourceRecord({ valueSchema: schema, value: null });
    expect(replace({ exclude: 'secret' }).apply(rec)).toBe(rec);
  });

  it('fails on a non-struct value with schema and a non-map value without one', () => {
    expect(() => replace({ exclude: 'a' }).apply(sourceRecord({ valueSchema: Schemas.STRING, value: 'x' }))).toThrow(
      new DataError('Only Struct objects supported for [field replacement], found: string'),
    );
    expect(() => replace({ exclude: 'a' }).apply(sourceRecord({ value: [1] }))).toThrow(
      'Only Map objects supported in absence of schema for [field replacement], found: Array',
    );
  });

  it('rejects a rename item without exactly one colon, naming the key', () => {
    for (const bad of ['a', 'a:b:c', 'a:']) {
      let err: unknown;
      try {
        replace({ renames: `x:y,${bad}` });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('renames');
      expect((err as Error).message).toContain(`Invalid rename mapping: ${bad}`);
    }
  });

  it('rejects a non-boolean replace.null.with.default', () => {
    expect(() => replace({ 'replace.null.with.default': 'maybe' })).toThrow(
      /configuration replace\.null\.with\.default: Expected value to be either true or false/,
    );
  });
});
