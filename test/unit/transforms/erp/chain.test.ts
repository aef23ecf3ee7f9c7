import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ConnectRecord,
  Decimal,
  SchemaBuilder,
  Schemas,
  Struct,
  type Transformation,
  type TransformationPlugin,
} from '../../../../runtime/api/index.js';
import { extractNewRecordStatePlugin } from '../../../../transforms/debezium/extract-new-record-state.js';
import { attachVersionPlugin } from '../../../../transforms/erp/attach-version.js';
import { cleanSchemaPlugin } from '../../../../transforms/erp/clean-schema.js';
import { correlationKeyPlugin } from '../../../../transforms/erp/correlation-key.js';
import { domainRouterPlugin } from '../../../../transforms/erp/domain-router.js';
import { translateCodesPlugin } from '../../../../transforms/erp/translate-codes.js';
import { envelope, envelopeSchema, headerValue, record } from '../debezium/fixtures.js';

/** The chain a per-customer integration uses, end to end on one ERP change event and its tombstone. */

const phoneRow = SchemaBuilder.struct()
  .name('erp.dbo.PHONE.Value')
  .optional()
  .field('PHONE_ID', Schemas.INT64)
  .field('Z_PERS_ID', Schemas.INT64)
  .field('PHONE_NO', Schemas.STRING)
  .field('STAT_CD', Schemas.STRING)
  .field('KUNNR', Schemas.STRING)
  .field('PRIMARY_FLG', Schemas.STRING)
  .field('CHARGE', Schemas.OPTIONAL_STRING)
  .build();
const envSchema = envelopeSchema(phoneRow, 'erp.dbo.PHONE.Envelope');
const keySchema = SchemaBuilder.struct().field('PHONE_ID', Schemas.INT64).build();

const phone = new Struct(phoneRow)
  .put('PHONE_ID', 9n)
  .put('Z_PERS_ID', 5n)
  .put('PHONE_NO', '+49 30 1234   ')
  .put('STAT_CD', 'A ')
  .put('KUNNR', '4711')
  .put('PRIMARY_FLG', 'J')
  .put('CHARGE', '0.10');

async function chain(): Promise<Transformation[]> {
  const dir = mkdtempSync(join(tmpdir(), 'chain-'));
  const codes = join(dir, 'codes.yaml');
  writeFileSync(codes, 'phone_status:\n  A: ACTIVE\n  I: INACTIVE\n');
  const steps: Array<[TransformationPlugin, Record<string, string>]> = [
    [extractNewRecordStatePlugin, { 'delete.tombstone.handling.mode': 'rewrite-with-tombstone' }],
    [
      cleanSchemaPlugin,
      {
        'strip.prefixes': 'Z_',
        case: 'camel',
        'boolean.fields': 'PRIMARY_FLG',
        'decimal.fields': 'CHARGE:2',
      },
    ],
    [translateCodesPlugin, { fields: 'statCd:phone_status', 'tables.file': codes, 'tables.refresh.interval.ms': '0' }],
    [attachVersionPlugin, {}],
    [correlationKeyPlugin, { fields: 'persId', 'key.mode': 'field' }],
    [domainRouterPlugin, { 'domain.field': 'kunnr', 'domain.mapping': '4711:acme' }],
  ];
  const out: Transformation[] = [];
  for (const [plugin, props] of steps) {
    const t = plugin.create();
    await t.configure(props);
    out.push(t);
  }
  return out;
}

function run(steps: Transformation[], r: ConnectRecord): ConnectRecord | null {
  let current: ConnectRecord | null = r;
  for (const t of steps) current = current && t.apply(current);
  return current;
}

describe('ERP transform chain', () => {
  it('turns an ERP change event into a clean, versioned, correlated event on the customer topic', async () => {
    const steps = await chain();
    const out = run(
      steps,
      record({
        topic: 'erp.dbo.PHONE',
        keySchema,
        key: new Struct(keySchema).put('PHONE_ID', 9n),
        valueSchema: envSchema,
        value: envelope(envSchema, 'u', phone, phone, 'PHONE'),
        sourceOffset: { version: 1234567890123n },
      }),
    )!;
    expect(out.topic).toBe('acme.erp.dbo.PHONE');
    expect(out.key).toBe(5n);
    expect(headerValue(out, 'erpstream.version')).toBe('1234567890123');
    expect(headerValue(out, 'erpstream.correlation.id')).toBe('5');
    const v = out.value as Struct;
    expect(v.get('phoneNo')).toBe('+49 30 1234');
    expect(v.get('statCd')).toBe('ACTIVE');
    expect(v.get('primaryFlg')).toBe(true);
    expect(v.get('charge')).toEqual(new Decimal(10n, 2));
    expect(v.get('__deleted')).toBe('false');

    const tomb = run(
      steps,
      record({
        topic: 'erp.dbo.PHONE',
        keySchema,
        key: new Struct(keySchema).put('PHONE_ID', 9n),
        sourceOffset: { version: 1234567890124n },
      }),
    )!;
    expect(tomb.value).toBeNull();
    expect(tomb.topic).toBe('acme.erp.dbo.PHONE');
    expect(tomb.key).toBe(5n);
    for (const t of steps) await t.close();
  });
});
