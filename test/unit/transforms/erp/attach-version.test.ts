import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, Decimal, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { attachVersionPlugin as plugin, versionText } from '../../../../transforms/erp/attach-version.js';
import { configured, envelope, envelopeSchema, headerValue, record } from '../debezium/fixtures.js';

const rowSchema = SchemaBuilder.struct()
  .optional()
  .field('id', Schemas.INT32)
  .field('ROW_VERSION', Schemas.OPTIONAL_BYTES)
  .field('SEQ', Schemas.OPTIONAL_INT64)
  .build();
const row = (seq: bigint | null, rv: Uint8Array | null = null) =>
  new Struct(rowSchema).put('id', 1).put('SEQ', seq).put('ROW_VERSION', rv);

describe('AttachVersion', () => {
  it('takes the version from the source offset by default, as exact integer text', async () => {
    const t = await configured(plugin);
    const out = t.apply(record({ sourceOffset: { version: 9007199254740993n } }))!;
    expect(headerValue(out, 'erpstream.version')).toBe('9007199254740993');
    expect(out.headers.find((h) => h.key === 'erpstream.version')!.schema).toBe(Schemas.STRING);
  });

  it('replaces an existing version header instead of adding a second one', async () => {
    const t = await configured(plugin, { 'offset.key': 'seq' });
    const out = t.apply(
      record({ sourceOffset: { seq: '12' }, headers: [{ key: 'erpstream.version', value: '1', schema: null }] }),
    )!;
    expect(out.headers.filter((h) => h.key === 'erpstream.version').map((h) => h.value)).toEqual(['12']);
  });

  it('reads a SQL Server rowversion (binary 8) from a field as an unsigned integer', async () => {
    const t = await configured(plugin, { 'version.source': 'field', 'version.field': 'ROW_VERSION' });
    const rv = Uint8Array.from([0, 0, 0, 0, 0, 0, 0x07, 0xd1]);
    const out = t.apply(record({ valueSchema: rowSchema, value: row(null, rv) }))!;
    expect(headerValue(out, 'erpstream.version')).toBe('2001');
    const high = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(headerValue(t.apply(record({ valueSchema: rowSchema, value: row(null, high) })), 'erpstream.version')).toBe(
      '18446744073709551615',
    );
  });

  it('finds the field in the changed row of an envelope, and in dotted envelope paths', async () => {
    const envSchema = envelopeSchema(rowSchema);
    const del = record({ valueSchema: envSchema, value: envelope(envSchema, 'd', row(77n), null) });
    const t = await configured(plugin, { 'version.source': 'field', 'version.field': 'SEQ' });
    expect(headerValue(t.apply(del), 'erpstream.version')).toBe('77');
    const lsn = await configured(plugin, { 'version.source': 'field', 'version.field': 'source.lsn' });
    expect(headerValue(lsn.apply(del), 'erpstream.version')).toBe('100');
  });

  it('writes the version into a value field, updating the schema once', async () => {
    const t = await configured(plugin, { 'version.source': 'field', 'version.field': 'SEQ', 'field.name': 'version' });
    const a = t.apply(record({ valueSchema: rowSchema, value: row(5n) }))!;
    const b = t.apply(record({ valueSchema: rowSchema, value: row(6n) }))!;
    expect((a.value as Struct).get('version')).toBe('5');
    expect((b.value as Struct).get('version')).toBe('6');
    expect(b.valueSchema).toBe(a.valueSchema);
    expect(a.valueSchema!.fields!.map((f) => f.name)).toEqual(['id', 'ROW_VERSION', 'SEQ', 'version']);
    const schemaless = t.apply(record({ value: { SEQ: 8 } }))!;
    expect(schemaless.value).toEqual({ SEQ: 8, version: '8' });
  });

  it('overwrites an existing string field.name in place, and refuses one of another type', async () => {
    const withText = SchemaBuilder.struct()
      .field('SEQ', Schemas.INT64)
      .field('version', Schemas.OPTIONAL_STRING)
      .build();
    const t = await configured(plugin, { 'version.source': 'field', 'version.field': 'SEQ', 'field.name': 'version' });
    const out = t.apply(
      record({ valueSchema: withText, value: new Struct(withText).put('SEQ', 9n).put('version', 'x') }),
    )!;
    expect(out.valueSchema).toBe(withText);
    expect((out.value as Struct).toString()).toBe('Struct{SEQ=9,version=9}');
    const clash = await configured(plugin, { 'version.source': 'field', 'version.field': 'SEQ', 'field.name': 'id' });
    const rec = record({ valueSchema: rowSchema, value: row(5n) });
    for (let i = 0; i < 2; i++) {
      expect(() => clash.apply(rec)).toThrow(
        new DataError('AttachVersion: field.name "id" exists as int32, not string', 'id'),
      );
    }
  });

  it('reads the version from a header', async () => {
    const t = await configured(plugin, { 'version.source': 'header', 'version.header': '__source_lsn' });
    const out = t.apply(record({ headers: [{ key: '__source_lsn', value: 123n, schema: Schemas.INT64 }] }))!;
    expect(headerValue(out, 'erpstream.version')).toBe('123');
  });

  it('fails a record without a version, naming where it looked, unless on.missing=skip', async () => {
    const strict = await configured(plugin, { 'version.source': 'field', 'version.field': 'SEQ' });
    const r = record({ valueSchema: rowSchema, value: row(null) });
    expect(() => strict.apply(r)).toThrow(DataError);
    expect(() => strict.apply(r)).toThrow(/no version in field "SEQ"/);
    const lenient = await configured(plugin, {
      'version.source': 'field',
      'version.field': 'SEQ',
      'on.missing': 'skip',
    });
    expect(lenient.apply(r)).toBe(r);
    const offset = await configured(plugin);
    expect(() => offset.apply(record({ sourceOffset: {} }))).toThrow(/source offset key "version"/);
  });

  it('gives tombstones the header from the offset, and passes them on with version.source=field', async () => {
    const fromOffset = await configured(plugin, { 'field.name': 'version' });
    const tomb = fromOffset.apply(record({ key: 'k', sourceOffset: { version: 3 } }))!;
    expect(tomb.value).toBeNull();
    expect(headerValue(tomb, 'erpstream.version')).toBe('3');
    const fromField = await configured(plugin, { 'version.source': 'field', 'version.field': 'SEQ' });
    const t2 = record({ key: 'k' });
    expect(fromField.apply(t2)).toBe(t2);
  });

  it('rejects versions that are not exact integers, naming the value', () => {
    expect(versionText(' 0042 ', 'x')).toBe('42');
    expect(versionText(new Decimal(1200n, 2), 'x')).toBe('12');
    expect(() => versionText(1.5, 'field "SEQ"')).toThrow(/field "SEQ" holds 1\.5/);
    expect(() => versionText(2 ** 60, 'x')).toThrow(/not an integer a JS number holds exactly/);
    expect(() => versionText('00000027:00000758:0005', 'x')).toThrow(/is not an integer/);
    expect(() => versionText(new Decimal(1201n, 2), 'x')).toThrow(/fraction/);
  });

  it('requires the setting that goes with the chosen source', async () => {
    await expect(configured(plugin, { 'version.source': 'field' })).rejects.toThrow(ConfigError);
    await expect(configured(plugin, { 'version.source': 'header' })).rejects.toThrow(/version\.header/);
  });
});
