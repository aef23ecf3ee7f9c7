import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  type Logger,
  SchemaBuilder,
  Schemas,
  Struct,
  type Transformation,
  silentLogger,
} from '../../../../runtime/api/index.js';
import { isLoggerAware } from '../../../../transforms/debezium/plugin-logger.js';
import { redactUrl } from '../../../../runtime/api/index.js';
import { dialectOf } from '../../../../transforms/erp/code-tables.js';
import { translateCodesPlugin as plugin } from '../../../../transforms/erp/translate-codes.js';
import { configured, envelope, envelopeSchema, record } from '../debezium/fixtures.js';

const rowSchema = SchemaBuilder.struct()
  .optional()
  .field('id', Schemas.INT32)
  .field('status', Schemas.INT32)
  .field('carrier', Schemas.OPTIONAL_STRING)
  .build();
const row = (status: number, carrier: string | null = 'DHL ') =>
  new Struct(rowSchema).put('id', 1).put('status', status).put('carrier', carrier);

function codesFile(content: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'codes-')), 'codes.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}
const tables = { shipment_status: { '10': 'CREATED', '20': 'SHIPPED' }, carrier: { DHL: 'DHL Express' } };

const open: Transformation[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});
async function translator(props: Record<string, string>): Promise<Transformation> {
  const t = await configured(plugin, props);
  open.push(t);
  return t;
}

describe('TranslateCodes from a file', () => {
  it('replaces codes by values; translated fields become strings in the schema', async () => {
    const t = await translator({ 'tables.file': codesFile(tables), fields: 'status:shipment_status,carrier:carrier' });
    const out = t.apply(record({ valueSchema: rowSchema, value: row(10) }))!;
    const v = out.value as Struct;
    expect(v.get('status')).toBe('CREATED');
    expect(v.get('carrier')).toBe('DHL Express');
    expect(out.valueSchema!.fields!.find((f) => f.name === 'status')!.schema).toBe(Schemas.STRING);
    expect(t.apply(record({ valueSchema: rowSchema, value: row(20) }))!.valueSchema).toBe(out.valueSchema);
  });

  it('on.miss keep / null / fail', async () => {
    const file = codesFile(tables);
    const keep = await translator({ 'tables.file': file, fields: 'status:shipment_status' });
    expect((keep.apply(record({ valueSchema: rowSchema, value: row(99) }))!.value as Struct).get('status')).toBe('99');

    const nul = await translator({ 'tables.file': file, fields: 'status:shipment_status', 'on.miss': 'null' });
    const out = nul.apply(record({ valueSchema: rowSchema, value: row(99) }))!;
    expect((out.value as Struct).get('status')).toBeNull();
    expect(out.valueSchema!.fields!.find((f) => f.name === 'status')!.schema.optional).toBe(true);

    const fail = await translator({ 'tables.file': file, fields: 'status:shipment_status', 'on.miss': 'fail' });
    const apply = () => fail.apply(record({ valueSchema: rowSchema, value: row(99) }));
    expect(apply).toThrow(DataError);
    expect(apply).toThrow('field "status" has code 99, which table "shipment_status" does not contain');
  });

  it('translates schemaless rows and envelope rows', async () => {
    const t = await translator({ 'tables.file': codesFile(tables), fields: 'status:shipment_status' });
    expect(t.apply(record({ value: { id: 1, status: '10 ' } }))!.value).toEqual({ id: 1, status: 'CREATED' });
    const envSchema = envelopeSchema(rowSchema);
    const out = t.apply(record({ valueSchema: envSchema, value: envelope(envSchema, 'u', row(10), row(20)) }))!;
    expect(((out.value as Struct).get('after') as Struct).get('status')).toBe('SHIPPED');
    expect(((out.value as Struct).get('before') as Struct).get('status')).toBe('CREATED');
  });

  it('refreshes in the background and keeps the old tables when a refresh fails', async () => {
    const file = codesFile(tables);
    const t = await translator({
      'tables.file': file,
      fields: 'status:shipment_status',
      'tables.refresh.interval.ms': '50',
    });
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m) => void warnings.push(m) };
    if (isLoggerAware(t)) t.setLogger(log);
    const status = (code: number) =>
      (t.apply(record({ valueSchema: rowSchema, value: row(code) }))!.value as Struct).get('status');

    writeFileSync(file, JSON.stringify({ shipment_status: { ...tables.shipment_status, '30': 'DELIVERED' } }));
    await expect.poll(() => status(30), { timeout: 3000 }).toBe('DELIVERED');

    writeFileSync(file, '{ not json');
    await expect.poll(() => warnings.length, { timeout: 3000 }).toBeGreaterThan(0);
    expect(warnings[0]).toMatch(/refresh failed; keeping/);
    expect(status(30)).toBe('DELIVERED');
  });

  it('fails configuration for a table that was not loaded, naming it and the tables found', async () => {
    await expect(translator({ 'tables.file': codesFile(tables), fields: 'status:shipment_state' })).rejects.toThrow(
      /table "shipment_state" was not loaded .*tables found: shipment_status, carrier/,
    );
  });

  it('needs exactly one table source', async () => {
    await expect(translator({ fields: 'status:x' })).rejects.toBeInstanceOf(ConfigError);
    await expect(
      translator({ fields: 'status:x', 'tables.file': 'a.yaml', 'tables.connection.url': 'postgres://h/db' }),
    ).rejects.toThrow(/exactly one/);
  });
});

describe('code table connection URLs', () => {
  it('chooses the driver by scheme and never shows the password', () => {
    expect(dialectOf('postgresql://u:p@h/db')).toBe('postgres');
    expect(dialectOf('mariadb://u:p@h/db')).toBe('mysql');
    expect(() => dialectOf('oracle://u:secret@h/db')).toThrow(ConfigError);
    expect(() => dialectOf('oracle://u:secret@h/db')).not.toThrow(/secret/);
    expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
  });
});
