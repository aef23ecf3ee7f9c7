import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { domainRouterPlugin as plugin } from '../../../../transforms/erp/domain-router.js';
import { configured, envelope, envelopeSchema, record } from '../debezium/fixtures.js';

const docSchema = SchemaBuilder.struct()
  .optional()
  .field('DOC_NO', Schemas.STRING)
  .field('CUSTOMER_NO', Schemas.OPTIONAL_INT32)
  .field('domain', Schemas.OPTIONAL_STRING)
  .build();
const doc = (customer: number | null, domain: string | null = null) =>
  new Struct(docSchema).put('DOC_NO', 'D1').put('CUSTOMER_NO', customer).put('domain', domain);
const docRecord = (customer: number | null, domain: string | null = null, key: unknown = 'D1') =>
  record({ topic: 'erp.dbo.documents', key, valueSchema: docSchema, value: doc(customer, domain) });

describe('DomainRouter', () => {
  it('routes by a domain field', async () => {
    const t = await configured(plugin, { 'domain.field': 'domain' });
    expect(t.apply(docRecord(1, 'acme'))!.topic).toBe('acme.erp.dbo.documents');
  });

  it('looks the domain up in an inline mapping keyed by another field, with a custom format', async () => {
    const t = await configured(plugin, {
      'domain.field': 'CUSTOMER_NO',
      'domain.mapping': '4711:acme,4712:globex',
      'topic.format': 'customer.${domain}.documents',
    });
    expect(t.apply(docRecord(4712))!.topic).toBe('customer.globex.documents');
  });

  it('reads a mapping file; inline entries win', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'domains-')), 'domains.yaml');
    writeFileSync(file, '4711: acme\n4712: globex\n');
    const t = await configured(plugin, {
      'domain.field': 'CUSTOMER_NO',
      'domain.mapping.file': file,
      'domain.mapping': '4712:initech',
    });
    expect(t.apply(docRecord(4711))!.topic).toBe('acme.erp.dbo.documents');
    expect(t.apply(docRecord(4712))!.topic).toBe('initech.erp.dbo.documents');
  });

  it('on.missing: fail names the field and value, drop drops, keep keeps the topic', async () => {
    const props = { 'domain.field': 'CUSTOMER_NO', 'domain.mapping': '4711:acme' };
    const fail = await configured(plugin, props);
    expect(() => fail.apply(docRecord(9999))).toThrow(DataError);
    expect(() => fail.apply(docRecord(9999))).toThrow(/field "CUSTOMER_NO" value 9999 has no domain mapping/);
    expect(() => fail.apply(docRecord(null))).toThrow(/field "CUSTOMER_NO" is null/);
    const drop = await configured(plugin, { ...props, 'on.missing': 'drop' });
    expect(drop.apply(docRecord(9999))).toBeNull();
    const keep = await configured(plugin, { ...props, 'on.missing': 'keep' });
    expect(keep.apply(docRecord(9999))!.topic).toBe('erp.dbo.documents');
  });

  it('rejects a domain value that cannot be part of a topic name', async () => {
    const t = await configured(plugin, { 'domain.field': 'domain' });
    expect(() => t.apply(docRecord(1, 'acme corp/eu'))).toThrow(/field "domain" holds "acme corp\/eu"/);
  });

  it('routes envelopes by their row and sends a tombstone where its delete went', async () => {
    const t = await configured(plugin, { 'domain.field': 'domain' });
    const envSchema = envelopeSchema(docSchema, 'erp.dbo.documents.Envelope');
    const del = record({
      topic: 'erp.dbo.documents',
      key: 'D1',
      valueSchema: envSchema,
      value: envelope(envSchema, 'd', doc(1, 'acme'), null, 'documents'),
    });
    expect(t.apply(del)!.topic).toBe('acme.erp.dbo.documents');
    expect(t.apply(record({ topic: 'erp.dbo.documents', key: 'D1' }))!.topic).toBe('acme.erp.dbo.documents');
    expect(() => t.apply(record({ topic: 'erp.dbo.documents', key: 'D2' }))).toThrow(/tombstone with a key not seen/);
  });

  it('schemaless values work the same', async () => {
    const t = await configured(plugin, { 'domain.field': 'customer.no', 'domain.mapping': '7:acme' });
    expect(t.apply(record({ value: { customer: { no: 7 } } }))!.topic).toBe('acme.erp.public.shipment');
  });

  it('validates its config', async () => {
    await expect(configured(plugin, {})).rejects.toBeInstanceOf(ConfigError);
    await expect(configured(plugin, { 'domain.field': 'x', 'topic.format': '${topic}' })).rejects.toThrow(
      /\$\{domain\}/,
    );
    await expect(configured(plugin, { 'domain.field': 'x', 'domain.mapping': '1:a b' })).rejects.toThrow(ConfigError);
  });
});
