import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  Decimal,
  DebeziumTypes,
  SchemaBuilder,
  Schemas,
  Struct,
} from '../../../../runtime/api/index.js';
import { cleanSchemaPlugin as plugin } from '../../../../transforms/erp/clean-schema.js';
import { applyCase, stripPrefix } from '../../../../transforms/erp/field-names.js';
import { configured, envelope, envelopeSchema, record } from '../debezium/fixtures.js';

const erpSchema = SchemaBuilder.struct()
  .name('erp.dbo.SHPMT.Value')
  .optional()
  .field('SHPMT_NO', Schemas.STRING)
  .field('Z_CUST_CD', Schemas.STRING)
  .field('dtUpdt', Schemas.OPTIONAL_INT64)
  .field('ACTIVE_FLG', Schemas.STRING)
  .field('NET_AMT', Schemas.OPTIONAL_STRING)
  .field('MANDT', Schemas.STRING)
  .field('DOC', DebeziumTypes.json().build())
  .build();

function erpRow(over: Partial<Record<string, unknown>> = {}): Struct {
  const v: Record<string, unknown> = {
    SHPMT_NO: 'S-1 ',
    Z_CUST_CD: '  C42',
    dtUpdt: 5n,
    ACTIVE_FLG: 'j',
    NET_AMT: '1234.5',
    MANDT: '100',
    DOC: ' {"a":1} ',
    ...over,
  };
  const s = new Struct(erpSchema);
  for (const [k, x] of Object.entries(v)) s.put(k, x);
  return s;
}

const base = {
  renames: 'SHPMT_NO:shipmentNo',
  'strip.prefixes': 'Z_,ZZ_',
  case: 'camel',
  'boolean.fields': 'ACTIVE_FLG',
  'decimal.fields': 'NET_AMT:2',
  'drop.fields': 'MANDT',
};

describe('field name rules', () => {
  it('strips the longest prefix and applies the case', () => {
    expect(applyCase(stripPrefix('Z_CUST_CD', ['Z_', 'ZZ_']), 'camel')).toBe('custCd');
    expect(applyCase(stripPrefix('ZZ_CUST_CD', ['Z_', 'ZZ_']), 'camel')).toBe('custCd');
    expect(applyCase('dtUpdt', 'snake')).toBe('dt_updt');
    expect(applyCase('ShipToID', 'snake')).toBe('ship_to_id');
    expect(applyCase('SHPMT_NO', 'camel')).toBe('shpmtNo');
    expect(applyCase('dtUpdt', 'upper')).toBe('DTUPDT');
    expect(stripPrefix('Z_', ['Z_'])).toBe('Z_');
  });
});

describe('CleanSchema with schema', () => {
  it('renames, trims, converts flags and decimals, drops fields, and derives the schema once', async () => {
    const t = await configured(plugin, base);
    const out = t.apply(record({ valueSchema: erpSchema, value: erpRow() }))!;
    const v = out.value as Struct;
    expect(out.valueSchema!.fields!.map((f) => f.name)).toEqual([
      'shipmentNo',
      'custCd',
      'dtUpdt',
      'activeFlg',
      'netAmt',
      'doc',
    ]);
    expect(v.get('shipmentNo')).toBe('S-1');
    expect(v.get('custCd')).toBe('C42');
    expect(v.get('dtUpdt')).toBe(5n);
    expect(v.get('activeFlg')).toBe(true);
    expect(v.get('netAmt')).toEqual(new Decimal(123450n, 2));
    expect(v.get('doc')).toBe(' {"a":1} ');
    const schemaOf = (n: string) => out.valueSchema!.fields!.find((f) => f.name === n)!.schema;
    expect(schemaOf('netAmt').name).toBe('org.apache.kafka.connect.data.Decimal');
    expect(schemaOf('netAmt').parameters!.scale).toBe('2');
    expect(schemaOf('shipmentNo').optional).toBe(true);
    expect(schemaOf('activeFlg').type).toBe('boolean');
    expect(out.valueSchema!.name).toBe('erp.dbo.SHPMT.Value');

    const again = t.apply(record({ valueSchema: erpSchema, value: erpRow({ ACTIVE_FLG: 'N' }) }))!;
    expect(again.valueSchema).toBe(out.valueSchema);
    expect((again.value as Struct).get('activeFlg')).toBe(false);
  });

  it('turns blanks into null', async () => {
    const t = await configured(plugin, base);
    const v = t.apply(record({ valueSchema: erpSchema, value: erpRow({ Z_CUST_CD: '   ', NET_AMT: '' }) }))!
      .value as Struct;
    expect(v.get('custCd')).toBeNull();
    expect(v.get('netAmt')).toBeNull();
  });

  it('keeps blanks and required schemas when blank.to.null=false', async () => {
    const t = await configured(plugin, { ...base, 'blank.to.null': 'false', 'trim.strings': 'false' });
    const out = t.apply(record({ valueSchema: erpSchema, value: erpRow({ Z_CUST_CD: '  ' }) }))!;
    expect((out.value as Struct).get('custCd')).toBe('  ');
    expect(out.valueSchema!.fields!.find((f) => f.name === 'custCd')!.schema.optional).toBe(false);
  });

  it('names the field and value for an unknown flag value', async () => {
    const t = await configured(plugin, base);
    const apply = () => t.apply(record({ valueSchema: erpSchema, value: erpRow({ ACTIVE_FLG: 'X' }) }));
    expect(apply).toThrow(DataError);
    expect(apply).toThrow(/field "ACTIVE_FLG" has value "X"/);
  });

  it('rejects comma decimals and values that would need rounding, naming field and value', async () => {
    const t = await configured(plugin, base);
    const bad = (amt: string) => () => t.apply(record({ valueSchema: erpSchema, value: erpRow({ NET_AMT: amt }) }));
    expect(bad('1.234,50')).toThrow(/field "NET_AMT" has value "1\.234,50".*no grouping or comma decimals/);
    expect(bad('1.234')).toThrow(/field "NET_AMT" has value "1\.234".*scale 2/);
    expect(bad('abc')).toThrow(DataError);
    // At once: 30,000 digits and a letter backtracked quadratically (0.6 s; a 1 MB value most of an hour).
    const start = performance.now();
    expect(bad(`${'1'.repeat(30_000)}x`)).toThrow(/field "NET_AMT" has value "1111.*not a number/);
    expect(performance.now() - start).toBeLessThan(100);
  });

  it('keeps huge amounts exact (never through a float)', async () => {
    const t = await configured(plugin, base);
    const v = t.apply(record({ valueSchema: erpSchema, value: erpRow({ NET_AMT: '98765432109876543210.99' }) }))!
      .value as Struct;
    expect((v.get('netAmt') as Decimal).toString()).toBe('98765432109876543210.99');
  });

  it('reports two fields that would get the same name', async () => {
    const t = await configured(plugin, { 'strip.prefixes': 'Z_', case: 'lower' });
    const s = SchemaBuilder.struct().field('Z_NAME', Schemas.STRING).field('name', Schemas.STRING).build();
    const r = record({ valueSchema: s, value: new Struct(s).put('Z_NAME', 'a').put('name', 'b') });
    expect(() => t.apply(r)).toThrow(/"Z_NAME" and "name" would both be named "name"/);
  });

  it('cleans the before and after rows of a Debezium envelope', async () => {
    const t = await configured(plugin, base);
    const envSchema = envelopeSchema(erpSchema);
    const out = t.apply(
      record({ valueSchema: envSchema, value: envelope(envSchema, 'u', erpRow({ ACTIVE_FLG: 'N' }), erpRow()) }),
    )!;
    const env = out.value as Struct;
    expect((env.get('after') as Struct).get('activeFlg')).toBe(true);
    expect((env.get('before') as Struct).get('activeFlg')).toBe(false);
    expect(env.get('op')).toBe('u');
    expect(out.valueSchema!.fields!.find((f) => f.name === 'after')!.schema.fields!.map((f) => f.name)).toContain(
      'shipmentNo',
    );
  });

  it('passes tombstones through', async () => {
    const t = await configured(plugin, base);
    const tomb = record({ key: 'k' });
    expect(t.apply(tomb)).toBe(tomb);
  });
});

describe('CleanSchema schemaless', () => {
  it('applies the same rules to plain objects', async () => {
    const t = await configured(plugin, { ...base, case: 'snake', renames: '' });
    const out = t.apply(
      record({
        value: { SHPMT_NO: ' S-1', dtUpdt: 3, ACTIVE_FLG: 1, NET_AMT: 12.5, MANDT: '1', NOTE: ' ', __deleted: 'false' },
      }),
    )!;
    expect(out.value).toEqual({
      __deleted: 'false',
      shpmt_no: 'S-1',
      dt_updt: 3,
      active_flg: true,
      net_amt: new Decimal(1250n, 2),
      note: null,
    });
  });
});

describe('CleanSchema mapping.file', () => {
  it('merges a YAML file with config, config entries winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clean-'));
    const file = join(dir, 'map.yaml');
    writeFileSync(
      file,
      [
        'renames:',
        '  SHPMT_NO: fromFile',
        '  Z_CUST_CD: customer',
        'strip.prefixes: [Z_]',
        'case: snake',
        'boolean.fields: [ACTIVE_FLG]',
        'decimal.fields: {NET_AMT: 2}',
        'drop.fields: [MANDT]',
      ].join('\n'),
    );
    const t = await configured(plugin, { 'mapping.file': file, renames: 'SHPMT_NO:shipmentNo', case: 'camel' });
    const out = t.apply(record({ valueSchema: erpSchema, value: erpRow() }))!;
    expect(out.valueSchema!.fields!.map((f) => f.name)).toEqual([
      'shipmentNo',
      'customer',
      'dtUpdt',
      'activeFlg',
      'netAmt',
      'doc',
    ]);
  });

  it('names the key and file for a bad or unknown option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clean-'));
    const file = join(dir, 'map.json');
    writeFileSync(file, JSON.stringify({ renamez: { A: 'b' } }));
    await expect(configured(plugin, { 'mapping.file': file })).rejects.toThrow(/mapping\.file.*renamez/);
    await expect(configured(plugin, { 'mapping.file': join(dir, 'missing.yaml') })).rejects.toBeInstanceOf(ConfigError);
    await expect(configured(plugin, { 'decimal.fields': 'AMT:x' })).rejects.toThrow(/decimal\.fields/);
  });
});
